#include "cli/upscaler_args.hpp"

#include <string>

#include "cli/model_argument.hpp"
#include "quicksr/error.hpp"

namespace quicksr::cli {

std::vector<OptionSpec> upscaler_options(std::vector<OptionSpec> more) {
  std::vector<OptionSpec> options = {
      {"--model", "FILE", "model file (.safetensors or .onnx) or built-in name"},
      {"--method", "NAME", "'model' (default) or 'bicubic' (MATLAB-style)"},
      {"--scale", "S", "2, 3, 4 or 1.5 (default: the model's; 2 otherwise)"},
      {"--threads", "N", "worker threads (default: all cores)"}};
  options.insert(options.end(), more.begin(), more.end());
  return options;
}

Upscaler upscaler_from_args(const ParsedArgs& args, std::optional<Scale> bicubic_default_scale) {
  const std::string method = args.get_or("--method", "model");
  const auto scale = args.get("--scale");
  if (method == "bicubic") {
    if (args.has("--model")) throw Error("--model and --method bicubic exclude each other");
    if (scale) return Upscaler::bicubic(Scale::parse(*scale));
    if (!bicubic_default_scale) throw Error("--method bicubic needs --scale");
    return Upscaler::bicubic(*bicubic_default_scale);
  }
  if (method != "model") throw Error("--method must be 'model' or 'bicubic', not '" + method + "'");
  const UpscalerOptions options{.threads = args.get_int("--threads", 0, 0, 1024)};
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
