#include "cli/upscaler_args.hpp"

#include <string>

#include "cli/model_argument.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"

namespace quicksr::cli {

const char* const kMethodHelp =
    "model (default), bicubic (= bicubic-matlab), bicubic-opencv or fsr1 (AMD FSR 1)";
const char* const kSharpnessHelp =
    "fsr1 sharpening in stops: 0 = strongest, each stop halves it (default 0.25)";

std::vector<OptionSpec> upscaler_options(std::vector<OptionSpec> more) {
  std::vector<OptionSpec> options = {
      {"--model", "FILE", "model file (.safetensors or .onnx) or built-in name"},
      {"--method", "NAME", kMethodHelp},
      {"--sharpness", "S", kSharpnessHelp},
      {"--scale", "S", "2, 3, 4 or 1.5 (default: the model's; 2 otherwise)"},
      {"--threads", "N", "worker threads (default: all cores)"}};
  options.insert(options.end(), more.begin(), more.end());
  return options;
}

int threads_from_args(const ParsedArgs& args) {
  return args.get_int("--threads", 0, 0, kMaxThreads);
}

namespace {

// The upscalers without a network: bicubic (both flavours) and FSR 1.
Upscaler classic_upscaler(const std::string& method, Scale scale, const ParsedArgs& args) {
  if (method == "fsr1") {
    Fsr1Options options;
    options.sharpness = args.get_double("--sharpness", options.sharpness, 0.0, 64.0);
    options.threads = threads_from_args(args);
    return Upscaler::fsr1(scale, options);
  }
  if (args.has("--sharpness")) throw Error("--sharpness goes with --method fsr1");
  return Upscaler::bicubic(
      scale, method == "bicubic-opencv" ? BicubicFlavour::opencv : BicubicFlavour::matlab);
}

}  // namespace

Upscaler upscaler_from_args(const ParsedArgs& args, std::optional<Scale> classic_default_scale) {
  const std::string method = args.get_or("--method", "model");
  const auto scale = args.get("--scale");
  if (method == "bicubic" || method == "bicubic-matlab" || method == "bicubic-opencv" ||
      method == "fsr1") {
    if (args.has("--model")) throw Error("--model and --method " + method + " exclude each other");
    if (!scale && !classic_default_scale) throw Error("--method " + method + " needs --scale");
    return classic_upscaler(method, scale ? Scale::parse(*scale) : *classic_default_scale, args);
  }
  if (method != "model") {
    throw Error("--method must be model, bicubic, bicubic-matlab, bicubic-opencv or fsr1, not '" +
                method + "'");
  }
  if (args.has("--sharpness")) throw Error("--sharpness goes with --method fsr1");
  const UpscalerOptions options{.threads = threads_from_args(args)};
  const auto model = args.get("--model");
  if (!model) return Upscaler::builtin(scale ? Scale::parse(*scale) : Scale{2, 1}, options);
  Upscaler upscaler = Upscaler::from_model(load_model_argument(*model), options);
  if (scale && !(Scale::parse(*scale) == upscaler.scale())) {
    throw Error("model " + upscaler.name() + " upscales by " + upscaler.scale().to_string() +
                ", not " + *scale + " (use a model of that scale, or --method bicubic)");
  }
  return upscaler;
}

ReadOptions read_options_from_args(const ParsedArgs& args) {
  ReadOptions options;
  options.max_pixels = static_cast<std::uint64_t>(
      args.get_double("--max-pixels", static_cast<double>(options.max_pixels), 1, 1e12));
  options.lenient = args.has("--lenient");
  return options;
}

}  // namespace quicksr::cli
