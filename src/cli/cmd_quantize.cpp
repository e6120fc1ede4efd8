// quicksr quantize MODEL --data CALIB_DIR --out OUT: post-training INT8 (W8A8) quantisation.
#include <algorithm>
#include <iostream>
#include <optional>
#include <string>

#include "cli/adaround_resume.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "cli/output_path.hpp"
#include "cli/quantize.hpp"
#include "cli/run_command.hpp"
#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "common/progress.hpp"
#include "quicksr/error.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/upscaler.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "quantize",
    .usage =
        "MODEL (--data CALIB_DIR | --import-encodings FILE) --out MODEL_INT8.safetensors "
        "[options]",
    .summary =
        "Quantize the fp32 QuickSRNet or graph MODEL (a .safetensors or .onnx file, or a built-in\n"
        "model name) to INT8 (s8 weights, u8 activations, s32 bias; docs/quantization.md).\n"
        "Activation encodings are calibrated on the LR images (MATLAB bicubic as in eval, or\n"
        "--degradation) of the HR images in CALIB_DIR: use training images, never the benchmark\n"
        "sets. Graphs (baselines): round to nearest only\n"
        "(no --cle, --bias-correction, --optimize-rounding, --adaround, --encodings).",
    .options = {{"--data", "CALIB_DIR", "folder of HR calibration images (required)"},
                {"--out", "FILE", "the INT8 model file to write (required)"},
                {"--per-channel", "", "one weight scale per output channel (default)"},
                {"--per-tensor", "", "one weight scale per conv"},
                {"--scheme", "NAME", "activation encodings: 'tf-enhanced' (default) or 'tf'"},
                {"--cle", "", "cross-layer equalisation first (see docs: hurts with ReLU1)"},
                {"--bias-correction", "", "empirical bias correction on the calibration images"},
                {"--optimize-rounding", "",
                 "floor or ceil per weight, minimising each conv's output error (includes bias "
                 "correction)"},
                {"--adaround", "",
                 "AdaRound: floor or ceil per weight by gradient descent on each conv's output "
                 "error (LibTorch: runs quicksr-train); with --optimize-rounding it starts from "
                 "that rounding; kept after each conv in OUT.quicksr-adaround, so that the same "
                 "command resumes"},
                {"--adaround-iterations", "N", "AdaRound steps per conv (default 2000)"},
                {"--adaround-lr", "LR",
                 "Adam's learning rate on the rounding variables (default 10 / N: the paper's "
                 "1e-3 over 10 000 steps)"},
                {"--adaround-start-margin", "M",
                 "with --optimize-rounding: each rounding variable starts M in (0, 0.5) inside "
                 "the side that rounding chose (default 0.1; larger lets AdaRound move weights "
                 "sooner)"},
                {"--from", "INT8_FILE",
                 "start from this INT8 model of MODEL (e.g. a QAT result) instead of PTQ: its s8 "
                 "weights are kept; with --bias-correction and/or --search-encodings"},
                {"--search-encodings", "",
                 "then refine each activation range by coordinate descent on the INT8 output's "
                 "mean Y-PSNR on the calibration images"},
                {"--search-against", "WHAT",
                 "the search's reference: 'fp32' (MODEL's outputs, default) or 'hr' (the HR "
                 "calibration images)"},
                {"--search-step", "S",
                 "relative step of the range candidates (default 0.005; 4 each side)"},
                {"--images", "N", "calibration images, spread over CALIB_DIR (default 32)"},
                {"--degradation", "NAME",
                 "how the calibration LR is made from CALIB_DIR: bicubic (default), point (as "
                 "games render) or area, as in eval"},
                {"--encodings", "FILE", "also write the encodings as AIMET JSON"},
                {"--import-encodings", "FILE",
                 "instead of calibrating: the activation encodings and weight scales of this AIMET "
                 "JSON (tensor names of `quicksr export`, as --encodings writes) on MODEL's "
                 "weights; no --data"},
                {"--overwrite", "", "replace existing outputs"}},
    .min_positional = 1,
    .max_positional = 1,
};

quant::PtqOptions ptq_options(const ParsedArgs& args) {
  if (args.has("--per-channel") && args.has("--per-tensor")) {
    throw Error("--per-channel and --per-tensor exclude each other");
  }
  quant::PtqOptions options;
  options.granularity =
      args.has("--per-tensor") ? WeightGranularity::kPerTensor : WeightGranularity::kPerChannel;
  options.scheme = quant::parse_scheme(args.get_or("--scheme", "tf-enhanced"));
  options.cross_layer_equalization = args.has("--cle");
  options.bias_correction = args.has("--bias-correction");
  options.optimize_rounding = args.has("--optimize-rounding");
  return options;
}

// `count` files spread evenly over the folder (all of them when it holds fewer).
std::vector<std::filesystem::path> calibration_files(const std::filesystem::path& dir, int count) {
  const std::vector<std::filesystem::path> all = image_files(dir);
  if (static_cast<std::size_t>(count) >= all.size()) return all;
  std::vector<std::filesystem::path> chosen;
  for (int i = 0; i < count; ++i) chosen.push_back(all[all.size() * i / count]);
  return chosen;
}

// The HR calibration images, cropped to a multiple of the scale (as eval does).
std::vector<Tensor> calibration_hr(const std::filesystem::path& dir, int count, Scale scale) {
  const std::vector<std::filesystem::path> files = calibration_files(dir, count);
  ProgressBar bar("reading", static_cast<std::int64_t>(files.size()), "img");
  bar.update(0);  // the rate counts from here
  std::vector<Tensor> images;
  for (const std::filesystem::path& file : files) {
    try {
      images.push_back(crop_to_multiple(to_tensor(read_image(file)), scale));
    } catch (const Error& error) {
      const std::string message = error.what();
      // read_image names the file already; the crop does not.
      throw Error(message.starts_with(file.string()) ? message : file.string() + ": " + message);
    }
    bar.update(static_cast<std::int64_t>(images.size()));
  }
  bar.finish();
  return images;
}

// --degradation: how the calibration LR is made (eval's choices; MATLAB bicubic by default).
Degradation calibration_degradation(const ParsedArgs& args) {
  return parse_degradation(args.get_or("--degradation", "bicubic"));
}

// The LR images of --data's calibration images, made as eval makes them: what calibration sees.
std::vector<Tensor> calibration_images(const ParsedArgs& args, int count, Scale scale) {
  std::vector<Tensor> images = calibration_hr(*args.get("--data"), count, scale);
  EvalProtocol protocol;
  protocol.degradation = calibration_degradation(args);
  for (Tensor& image : images) image = make_lr(image, scale, protocol);
  return images;
}

// AdaRound cuts LR patches of `patch` pixels from the calibration images.
void check_adaround_images(const std::vector<Tensor>& images, int patch, const std::string& dir) {
  for (const Tensor& image : images) {
    if (image.height >= patch && image.width >= patch) return;
  }
  const std::string side = std::to_string(patch);
  throw Error(dir + ": --adaround needs calibration images whose LR is at least " + side + "x" +
              side + " pixels; none is");
}

// --adaround-start-margin: where AdaRound's warm start from the optimised rounding begins.
double start_margin(const ParsedArgs& args, double fallback) {
  if (!args.has("--adaround-start-margin")) return fallback;
  if (!args.has("--adaround") || !args.has("--optimize-rounding")) {
    throw Error("--adaround-start-margin needs --adaround and --optimize-rounding");
  }
  const double margin = args.get_double("--adaround-start-margin", fallback, 0.0, 0.5);
  if (margin <= 0 || margin >= 0.5) {
    throw Error("--adaround-start-margin must lie strictly between 0 and 0.5");
  }
  return margin;
}

std::string describe(const quant::PtqOptions& options, bool adaround) {
  std::string text =
      options.granularity == WeightGranularity::kPerChannel ? "per-channel" : "per-tensor";
  text += options.scheme == quant::EncodingScheme::kTf ? " tf" : " tf-enhanced";
  if (options.cross_layer_equalization) text += " +cle";
  if (options.bias_correction) text += " +bias-correction";
  if (options.optimize_rounding) text += " +optimized-rounding";
  if (adaround) text += " +adaround";
  return text;
}

// The loss of the encoding search: minus the mean Y-PSNR of the INT8 net's outputs on `images`
// against `references` (the engine runs the net).
quant::Int8Loss distance_to(const std::vector<Tensor>& images, std::vector<Tensor> references) {
  return [&images, references = std::move(references)](const QuantizedQuickSRNet& net) {
    const Upscaler int8 = Upscaler::from_model(Model{net, {}});
    double sum = 0;
    for (std::size_t i = 0; i < images.size(); ++i)
      sum += psnr(int8.upscale(images[i]), references[i]);
    return -sum / static_cast<double>(images.size());
  };
}

// --search-against: the fp32 model's outputs (default) or the HR images.
std::vector<Tensor> search_references(const Model& model, const std::vector<Tensor>& images,
                                      const ParsedArgs& args) {
  const std::string against = args.get_or("--search-against", "fp32");
  if (against == "hr")
    return calibration_hr(*args.get("--data"), static_cast<int>(images.size()), model.scale());
  if (against != "fp32")
    throw Error("--search-against must be 'fp32' or 'hr', not '" + against + "'");
  const Upscaler fp32 = Upscaler::from_model(model);
  std::vector<Tensor> outputs;
  for (const Tensor& image : images) outputs.push_back(fp32.upscale(image));
  return outputs;
}

QuantizedQuickSRNet search_encodings(const QuantizedQuickSRNet& start, const Model& model,
                                     const std::vector<Tensor>& images, const ParsedArgs& args) {
  quant::EncodingSearchOptions options;
  options.step = args.get_double("--search-step", options.step, 1e-6, 0.5);
  return quant::search_encodings(start, distance_to(images, search_references(model, images, args)),
                                 options, [](int sweep, double loss) {
                                   std::cerr << "encoding search: sweep " << sweep
                                             << ", mean Y-PSNR " << -loss << " dB\n";
                                 });
}

// --from: the INT8 model to refine, checked against MODEL.
QuantizedQuickSRNet starting_model(const ParsedArgs& args, const QuickSRNet& net) {
  const std::string from = *args.get("--from");
  for (const char* option : {"--cle", "--optimize-rounding", "--adaround", "--per-tensor"}) {
    if (args.has(option)) throw Error(std::string(option) + " cannot refine --from " + from);
  }
  const Model model = load_model_argument(from);
  if (!model.is_quantized()) throw Error(from + ": --from needs an INT8 QuickSRNet model");
  const QuantizedQuickSRNet& start = std::get<QuantizedQuickSRNet>(model.net);
  if (!(start.config == net.config)) {
    throw Error(from + ": --from is a " + start.config.name() + ", MODEL a " + net.config.name());
  }
  return start;
}

// quicksr-train runs `quantize` again with its AdaRound: the same arguments behind a marker.
int exec_trainer(CommandArgs raw) {
  std::vector<char*> args{const_cast<char*>(kQuantizeInTrainer)};
  args.insert(args.end(), raw.begin(), raw.end());
  return exec_helper("train", args, "quantize --adaround");
}

// Writes `result` with the provenance of `model` plus how it was quantized (`method`, `source`)
// and says so.
void save_quantized(Model result, const Model& model, const ParsedArgs& args,
                    const std::string& method, const std::string& source) {
  const std::filesystem::path input = args.positional()[0];
  result.provenance = model.provenance;
  result.provenance["quantization"] = "quicksr quantize " + method + " " + source;
  result.provenance["fp32_model"] = input.filename().string();
  const std::string out = *args.get("--out");
  save_model(result, out, existing_file(args));
  std::cout << "quantized " << input.string() << " -> " << out << " (" << result.name() << ", "
            << method << " " << source << ")\n";
}

// The provenance's source of calibrated models: the images and how their LR was made.
std::string calibration_source(const ParsedArgs& args, std::size_t images) {
  const Degradation degradation = calibration_degradation(args);
  return "on " + std::to_string(images) + " images of " + *args.get("--data") +
         (degradation == Degradation::bicubic ? "" : " (LR by " + to_string(degradation) + ")");
}

// Graphs (the baselines): int8_form, round-to-nearest weights, calibrated encodings.
int quantize_graph(const ParsedArgs& args, const Model& model, const quant::PtqOptions& options,
                   int image_count) {
  const std::string input = args.positional()[0];
  for (const char* option : {"--cle", "--bias-correction", "--optimize-rounding", "--adaround",
                             "--encodings", "--from", "--search-encodings"}) {
    if (args.has(option)) {
      throw Error(input + ": " + option + " is not available for graph models (QuickSRNet only)");
    }
  }
  const std::vector<Tensor> images = calibration_images(args, image_count, model.scale());
  std::optional<ProgressBar> bar;
  Model result;
  try {
    result.net = quant::post_training_quantize(std::get<Graph>(model.net), images, options,
                                               [&](int done, int total) {
                                                 if (!bar) bar.emplace("calibrating", total, "img");
                                                 bar->update(done);
                                               });
  } catch (const Error& error) {
    throw Error(input + ": " + error.what());
  }
  if (bar) bar->finish();
  save_quantized(std::move(result), model, args, describe(options, false),
                 calibration_source(args, images.size()));
  return 0;
}

// AdaRound on `quantized` (PTQ's), checkpointed after each conv in `resume` and resumed from it.
QuantizedQuickSRNet adaround_resumable(const QuickSRNet& reference, QuantizedQuickSRNet quantized,
                                       const std::vector<Tensor>& images,
                                       const AdaRoundStep& adaround, train::AdaRoundOptions options,
                                       const AdaRoundResume& resume) {
  if (auto resumed = resume.load(quantized)) {
    std::cerr << "adaround: resuming after " << resumed->first << " of "
              << quantized.config.blocks + 2 << " convs (kept in " << resume.path().string()
              << ")\n";
    options.resume_at = resumed->first;
    quantized = std::move(resumed->second);
  }
  return adaround(
      reference, quantized, images, options,
      [&](int convs_done, const QuantizedQuickSRNet& net) { resume.save(convs_done, net); });
}

// PTQ, then AdaRound when `adaround` is given. options.bias_correction with AdaRound means its
// in-loop bias fit (updated here for the description).
QuantizedQuickSRNet quantize_with_ptq(const QuickSRNet& net, const std::vector<Tensor>& images,
                                      quant::PtqOptions& options, const AdaRoundStep& adaround,
                                      train::AdaRoundOptions adaround_options,
                                      const AdaRoundResume& resume) {
  // With AdaRound, bias correction is its in-loop bias fit (each conv's bias fitted on its
  // quantized input, before, while and after its rounding is chosen), not PTQ's.
  adaround_options.fit_bias = adaround && options.bias_correction;
  // With --optimize-rounding, AdaRound refines the optimised rounding instead of starting anew.
  adaround_options.start_from_rounded = options.optimize_rounding;
  options.bias_correction = options.bias_correction && !adaround_options.fit_bias;

  std::optional<ProgressBar> bar;  // the total steps are known at the first report
  QuantizedQuickSRNet quantized =
      quant::post_training_quantize(net, images, options, [&](int done, int total) {
        if (!bar) bar.emplace("calibrating", total, "step");
        bar->update(done);
      });
  if (bar) bar->finish();
  if (!adaround) return quantized;
  // The fp32 net the quantized one stands for (CLE changes the function with ReLU1).
  const QuickSRNet reference =
      options.cross_layer_equalization ? quant::equalize_cross_layer(net) : net;
  options.bias_correction = adaround_options.fit_bias;  // for the description
  return adaround_resumable(reference, std::move(quantized), images, adaround, adaround_options,
                            resume);
}

// --import-encodings: MODEL quantized on the grid of an AIMET encodings file, no calibration.
int import_encodings(const ParsedArgs& args) {
  const std::string file = *args.get("--import-encodings");
  for (const char* option :
       {"--data", "--per-channel", "--per-tensor", "--scheme", "--cle", "--bias-correction",
        "--optimize-rounding", "--adaround", "--adaround-iterations", "--adaround-lr",
        "--adaround-start-margin", "--from", "--search-encodings", "--search-against",
        "--search-step", "--images", "--degradation", "--encodings"}) {
    if (args.has(option)) throw Error(std::string(option) + " cannot go with --import-encodings");
  }
  const auto out = args.get("--out");
  if (!out) throw Error("--out MODEL_INT8.safetensors is required");
  const std::string input = args.positional()[0];
  check_output_path(input, *out, args.has("--overwrite"));
  const Model model = load_model_argument(input);
  if (!model.is_quicksrnet()) {
    throw Error(input + ": --import-encodings needs an fp32 QuickSRNet model");
  }
  Model result;
  result.net = quant::load_aimet_encodings(std::get<QuickSRNet>(model.net), file);
  save_quantized(std::move(result), model, args, "with AIMET encodings",
                 "from " + std::filesystem::path(file).filename().string());
  return 0;
}

// The calibration settings, read before the model loads so that option errors come first.
struct CalibrationSettings {
  quant::PtqOptions ptq;
  train::AdaRoundOptions adaround;
  int images = 0;
};

CalibrationSettings calibration_settings(const ParsedArgs& args) {
  CalibrationSettings settings{ptq_options(args)};
  train::AdaRoundOptions& adaround = settings.adaround;
  adaround.iterations = args.get_int("--adaround-iterations", adaround.iterations, 1, 1000000);
  adaround.start_margin = start_margin(args, adaround.start_margin);
  adaround.lr = args.get_double("--adaround-lr", adaround.lr, 1e-6, 10.0);
  settings.images = args.get_int("--images", 32, 1, 100000);
  return settings;
}

// A quantized QuickSRNet and the words that describe how: a --from model (bias-corrected on
// request) or PTQ with optional AdaRound, then the optional encoding search.
std::pair<QuantizedQuickSRNet, std::string> quantize_net(const ParsedArgs& args, const Model& model,
                                                         const std::vector<Tensor>& images,
                                                         const CalibrationSettings& settings,
                                                         const AdaRoundStep& adaround,
                                                         const AdaRoundResume& resume) {
  const QuickSRNet& net = std::get<QuickSRNet>(model.net);
  quant::PtqOptions options = settings.ptq;  // AdaRound takes over bias correction
  QuantizedQuickSRNet quantized;
  std::string description;
  if (args.has("--from")) {
    quantized = starting_model(args, net);
    if (options.bias_correction) {
      quantized = quant::correct_biases(net, quantized, images, options.scheme);
    }
    description = std::string(options.bias_correction ? "bias-corrected " : "") + "from " +
                  *args.get("--from");
  } else {
    const bool use_adaround = args.has("--adaround");
    if (use_adaround) check_adaround_images(images, settings.adaround.patch, *args.get("--data"));
    quantized = quantize_with_ptq(net, images, options, use_adaround ? adaround : AdaRoundStep{},
                                  settings.adaround, resume);
    description = describe(options, use_adaround);
  }
  if (args.has("--search-encodings")) {
    quantized = search_encodings(quantized, model, images, args);
    description += " +searched-encodings (against " + args.get_or("--search-against", "fp32") + ")";
  }
  return {std::move(quantized), description};
}

// `text` with every byte outside printable ASCII (and the backslash) as \xHH: the key is kept as
// UTF-8 metadata, and file names need not be UTF-8.
std::string escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 0x20 && byte < 0x7f && c != '\\') || c == '\n') {
      out += c;
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return out;
}

// What must equal between an interrupted AdaRound and the run that resumes it: the running binary
// (its AdaRound code), the arguments (but --overwrite), the model file and the calibration images
// read. Other files in the calibration folder (OUT's checkpoint may be one) do not count.
std::string adaround_resume_key(CommandArgs raw, const std::filesystem::path& model,
                                const std::filesystem::path& data, int images) {
  std::string key =
      std::string("quicksr ") + QUICKSR_VERSION + "\n" + file_identity("/proc/self/exe") + "\n";
  for (const char* arg : raw) {
    if (std::string_view(arg) != "--overwrite") key += std::string(arg) + "\n";
  }
  std::error_code error;
  if (std::filesystem::is_regular_file(model, error)) key += file_identity(model) + "\n";
  for (const auto& image : calibration_files(data, images)) key += file_identity(image) + "\n";
  return escaped(key);
}

// The checkpoint of --adaround beside OUT; it must not be the --encodings file.
AdaRoundResume adaround_resume(CommandArgs raw, const ParsedArgs& args, int images) {
  const std::filesystem::path out = *args.get("--out");
  if (!args.has("--adaround")) return AdaRoundResume(out, "");
  AdaRoundResume resume(
      out, adaround_resume_key(raw, args.positional()[0], *args.get("--data"), images));
  const auto encodings = args.get("--encodings");
  const auto same = [](const std::filesystem::path& a, const std::filesystem::path& b) {
    return std::filesystem::absolute(a).lexically_normal() ==
           std::filesystem::absolute(b).lexically_normal();
  };
  if (encodings && same(*encodings, resume.path())) {
    throw Error(*encodings + ": is where --adaround keeps its progress; name another --encodings");
  }
  return resume;
}

}  // namespace

int quantize_command(CommandArgs raw) { return quantize(raw, {}); }

int quantize(CommandArgs raw, const AdaRoundStep& adaround) {
  const std::optional<ParsedArgs> parsed = parse_command(kSpec, raw);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  if (args.has("--import-encodings")) return import_encodings(args);
  const std::filesystem::path input = args.positional()[0];
  if (!args.has("--data")) throw Error("--data CALIB_DIR (or --import-encodings FILE) is required");
  const auto out = args.get("--out");
  if (!out) throw Error("--out MODEL_INT8.safetensors is required");
  const bool overwrite = args.has("--overwrite");
  check_output_path(input, *out, overwrite);
  check_model_file_name(*out);
  const auto encodings_file = args.get("--encodings");
  if (encodings_file) check_output_path(input, *encodings_file, overwrite);
  const CalibrationSettings settings = calibration_settings(args);
  if (args.has("--adaround") && !adaround) return exec_trainer(raw);

  const Model model = load_model_argument(input.string());
  if (std::holds_alternative<Graph>(model.net)) {
    return quantize_graph(args, model, settings.ptq, settings.images);
  }
  if (!model.is_quicksrnet()) {
    throw Error(input.string() + ": quantize needs an fp32 QuickSRNet or graph model");
  }
  const std::vector<Tensor> images = calibration_images(args, settings.images, model.scale());
  const AdaRoundResume resume = adaround_resume(raw, args, settings.images);
  const auto [quantized, description] =
      quantize_net(args, model, images, settings, adaround, resume);
  // The AIMET JSON first: the model file is the result the command announces.
  if (encodings_file) {
    write_bytes_atomically(*encodings_file, quant::to_aimet_json(quantized), existing_file(args));
  }
  Model result;
  result.net = quantized;
  save_quantized(std::move(result), model, args, description,
                 calibration_source(args, images.size()));
  if (args.has("--adaround")) {
    sync_to_disk(*out);  // before the checkpoint that could make it again goes
    resume.remove();
  }
  return 0;
}

}  // namespace quicksr::cli
