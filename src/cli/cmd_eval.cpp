// quicksr eval: PSNR/SSIM of a model (or bicubic, or FSR 1) on a folder of HR images.
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "cli/output_path.hpp"
#include "cli/text_table.hpp"
#include "cli/upscaler_args.hpp"
#include "common/atomic_file.hpp"
#include "quicksr/error.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/upscaler.hpp"

namespace quicksr::cli {
namespace {

namespace fs = std::filesystem;

const CommandSpec kSpec{
    .name = "eval",
    .usage = "--data HR_DIR [options] | --lr LR_DIR --hr HR_DIR [options]",
    .summary =
        "Score a model on the HR images (png/jpg) of HR_DIR: each is centre-cropped to a multiple\n"
        "of the scale, downscaled with MATLAB-style bicubic, upscaled, and compared on Y.\n"
        "With --lr/--hr, the given LR images are upscaled and compared with the HR images whose\n"
        "names match once LR/HR words are dropped (LR_270p.png ~ HR_1080p.png, 0801x4.png ~\n"
        "0801.png); LR_DIR and HR_DIR may be one folder.\n"
        "Default protocol 'quicksr' (the QuickSRNet authors'): LR truncated to 8 bits, output\n"
        "kept in float, no border. 'basicsr': LR and output rounded, border = scale.",
    .options = {{"--model", "FILE",
                 "model file (.safetensors or .onnx; default: the built-in of --scale)"},
                {"--method", "NAME", std::string(kMethodHelp) + "; all but model need --scale"},
                {"--sharpness", "S", kSharpnessHelp},
                {"--data", "HR_DIR", "folder of HR images (LR made by bicubic downscaling)"},
                {"--lr", "LR_DIR", "folder of given LR images (with --hr)"},
                {"--hr", "HR_DIR", "folder of their HR counterparts (with --lr)"},
                {"--scale", "S",
                 "2, 3, 4 or 1.5; must match the model (default: the model's, or 2)"},
                {"--protocol", "NAME", "'quicksr' (default) or 'basicsr'"},
                {"--degradation", "NAME",
                 "LR of --data: bicubic (default), point (aliased, as games render) or area"},
                {"--border", "N", "pixels cropped from each side before scoring"},
                {"--round-lr", "", "round the LR to 8 bits instead of truncating"},
                {"--rgb", "", "score on RGB instead of Y"},
                {"--json", "FILE", "also write the scores as JSON"},
                {"--save", "DIR",
                 "also write each output to DIR/NAME.png (8-bit; docs/evaluation.md)"},
                {"--compare-fp32", "FILE",
                 "also score this fp32 model and print both side by side (for INT8 models)"},
                {"--overwrite", "", "replace the --json FILE and --save files if they exist"},
                {"--max-pixels", "N", "refuse images larger than N pixels (default 67108864)"},
                {"--threads", "N", "worker threads (default: all cores)"}},
    .min_positional = 0,
    .max_positional = 0,
};

EvalProtocol make_protocol(const ParsedArgs& args, Scale scale) {
  const std::string name = args.get_or("--protocol", "quicksr");
  EvalProtocol protocol;
  if (name == "basicsr") {
    protocol = basicsr_protocol(scale);
  } else if (name != "quicksr") {
    throw Error("--protocol must be 'quicksr' or 'basicsr', not '" + name + "'");
  }
  protocol.degradation = parse_degradation(args.get_or("--degradation", "bicubic"));
  protocol.border = args.get_int("--border", protocol.border, 0, 1 << 20);
  protocol.round_lr = protocol.round_lr || args.has("--round-lr");
  protocol.rgb = protocol.rgb || args.has("--rgb");
  return protocol;
}

std::string describe(const EvalProtocol& protocol) {
  const std::string lr = protocol.degradation == Degradation::bicubic
                             ? ""
                             : ", LR by " + to_string(protocol.degradation) + " downscaling";
  return std::string(protocol.rgb ? "RGB" : "Y") + lr + ", border " +
         std::to_string(protocol.border) + ", LR " + (protocol.round_lr ? "rounded" : "truncated") +
         ", output " + (protocol.quantize_sr ? "rounded to 8 bits" : "float");
}

void print_table(const EvalResult& result) {
  TextTable table(
      {{"image"}, {"PSNR (dB)", TextTable::Align::kRight}, {"SSIM", TextTable::Align::kRight}});
  for (const ImageScore& image : result.images) {
    table.add_row({image.name, fixed(image.psnr, 4), fixed(image.ssim, 5)});
  }
  table.add_row({"mean", fixed(result.mean_psnr, 4), fixed(result.mean_ssim, 5)});
  table.print();
}

void print_comparison(const EvalResult& fp32, const EvalResult& result) {
  constexpr auto kRight = TextTable::Align::kRight;
  TextTable table({{"image"}, {"fp32 PSNR", kRight}, {"PSNR", kRight}, {"drop", kRight}});
  for (std::size_t i = 0; i < result.images.size(); ++i) {
    const ImageScore& a = fp32.images[i];
    const ImageScore& b = result.images[i];
    table.add_row({b.name, fixed(a.psnr, 4), fixed(b.psnr, 4), fixed(a.psnr - b.psnr, 4)});
  }
  table.add_row({"mean PSNR (dB)", fixed(fp32.mean_psnr, 4), fixed(result.mean_psnr, 4),
                 fixed(fp32.mean_psnr - result.mean_psnr, 4)});
  table.add_row({"mean SSIM", fixed(fp32.mean_ssim, 5), fixed(result.mean_ssim, 5),
                 fixed(fp32.mean_ssim - result.mean_ssim, 5)});
  table.print();
}

nlohmann::json to_json(const EvalResult& result, const std::string& model,
                       const EvalProtocol& protocol) {
  nlohmann::json images = nlohmann::json::array();
  for (const ImageScore& image : result.images) {
    images.push_back({{"name", image.name}, {"psnr", image.psnr}, {"ssim", image.ssim}});
  }
  return {{"scale", result.scale.value()},
          {"model", model},
          {"protocol",
           {{"degradation", to_string(protocol.degradation)},
            {"border", protocol.border},
            {"round_lr", protocol.round_lr},
            {"rgb", protocol.rgb},
            {"quantize_sr", protocol.quantize_sr}}},
          {"mean", {{"psnr", result.mean_psnr}, {"ssim", result.mean_ssim}}},
          {"images", images}};
}

void refuse_data_folder(const fs::path& output, const fs::path& folder,
                        const std::vector<std::string>& data) {
  for (const std::string& images : data) {
    std::error_code ec;
    if (fs::equivalent(folder, images, ec)) {
      throw Error(output.string() + ": refusing to write into the data folder " + images);
    }
  }
}

// Before the evaluation, not after it: the folder exists, no file is replaced without
// --overwrite, and neither a model nor the data folder is written to.
void check_json_path(const fs::path& json, const std::vector<std::string>& data,
                     const ParsedArgs& args) {
  check_output_path(args.get_or("--model", ""), json, args.has("--overwrite"));
  check_output_path(args.get_or("--compare-fp32", ""), json, args.has("--overwrite"));
  refuse_data_folder(json, json.parent_path().empty() ? "." : json.parent_path(), data);
}

// What is scored: the HR images of --data (their LR made by the protocol), or --lr / --hr pairs.
struct EvalData {
  std::optional<std::string> hr_folder;       // --data
  std::optional<std::string> lr_folder;       // --lr
  std::optional<std::string> pair_hr_folder;  // --hr
  std::vector<ImagePair> pairs;               // matched from --lr and --hr

  std::vector<std::string> folders() const {
    if (hr_folder) return {*hr_folder};
    return {*lr_folder, *pair_hr_folder};
  }
  std::string description() const {
    return hr_folder ? *hr_folder : std::to_string(pairs.size()) + " LR/HR pairs of " + *lr_folder;
  }
};

EvalData eval_data(const ParsedArgs& args) {
  const auto data = args.get("--data");
  const auto lr_dir = args.get("--lr");
  const auto hr_dir = args.get("--hr");
  if (lr_dir.has_value() != hr_dir.has_value()) throw Error("--lr and --hr go together");
  if (data.has_value() == lr_dir.has_value()) {
    throw Error("give either --data HR_DIR or --lr LR_DIR --hr HR_DIR");
  }
  for (const char* option : {"--degradation", "--round-lr"}) {
    if (lr_dir && args.has(option)) {
      throw Error(std::string(option) +
                  " is how the LR of --data is made; --lr gives the LR images");
    }
  }
  return {data, lr_dir, hr_dir,
          lr_dir ? match_image_pairs(*lr_dir, *hr_dir) : std::vector<ImagePair>{}};
}

// Where --save DIR writes each image's output, checked before the evaluation: DIR is a folder
// (made here if missing, once the rest is checked) and not a data folder, no two images share a
// file, and no file is replaced without --overwrite.
std::map<std::string, fs::path> save_paths(const fs::path& dir, const EvalData& data,
                                           const ParsedArgs& args) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(dir.string() + ": --save needs a folder, this is a file");
  }
  refuse_data_folder(dir, dir, data.folders());
  std::vector<std::string> names;
  if (data.hr_folder) {
    for (const fs::path& file : image_files(*data.hr_folder)) names.push_back(file.stem().string());
  }
  for (const ImagePair& pair : data.pairs) names.push_back(pair.name);
  std::map<std::string, fs::path> paths;
  for (const std::string& name : names) {
    const fs::path path = dir / (name + ".png");
    if (!paths.emplace(name, path).second) {
      throw Error(path.string() + ": two images of " + data.description() + " are named '" + name +
                  "'; --save writes one file per name");
    }
    check_output_file("", path, existing_file(args));
  }
  if (fs::create_directories(dir, ec); ec) {
    throw Error(dir.string() + ": cannot make the --save folder: " + ec.message());
  }
  return paths;
}

// The --compare-fp32 model, loaded before the evaluation (a wrong one fails before the work), with
// the --threads of the evaluated one.
std::optional<Upscaler> compared_upscaler(const ParsedArgs& args, Scale scale) {
  const auto file = args.get("--compare-fp32");
  if (!file) return std::nullopt;
  Upscaler upscaler =
      Upscaler::from_model(load_model_argument(*file), {.threads = threads_from_args(args)});
  if (!(upscaler.scale() == scale)) {
    throw Error(*file + ": upscales by " + upscaler.scale().to_string() + ", not " +
                scale.to_string());
  }
  return upscaler;
}

}  // namespace

int eval_command(CommandArgs raw) {
  const std::optional<ParsedArgs> parsed = parse_command(kSpec, raw);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  const EvalData data = eval_data(args);
  const auto json_path = args.get("--json");
  if (json_path) check_json_path(*json_path, data.folders(), args);
  const auto save_dir = args.get("--save");
  const std::map<std::string, fs::path> saved =
      save_dir ? save_paths(*save_dir, data, args) : std::map<std::string, fs::path>{};
  const Upscaler upscaler = upscaler_from_args(args, std::nullopt);
  const Scale scale = upscaler.scale();
  const std::optional<Upscaler> fp32 = compared_upscaler(args, scale);
  const EvalProtocol protocol = make_protocol(args, scale);
  const ReadOptions read = read_options_from_args(args);

  std::cout << "evaluating " << upscaler.name() << " x" << scale.to_string() << " on "
            << data.description() << " (" << describe(protocol) << ")\n"
            << std::flush;
  const auto score = [&](const Upscaler& model, const OutputFn& on_output) {
    const auto upscale = [&](const Tensor& lr) { return model.upscale(lr); };
    return data.hr_folder ? evaluate(upscale, *data.hr_folder, scale, protocol, read, on_output)
                          : evaluate_pairs(upscale, data.pairs, scale, protocol, read, on_output);
  };
  const auto save = [&](const std::string& name, const Tensor& sr) {
    write_image(from_tensor(sr), saved.at(name), {.bit_depth = 8, .existing = existing_file(args)});
  };
  const EvalResult result = score(upscaler, save_dir ? OutputFn(save) : OutputFn());
  nlohmann::json json = to_json(result, upscaler.name(), protocol);
  if (fp32) {
    std::cout << "and " << fp32->name() << " for comparison\n" << std::flush;
    const EvalResult compared = score(*fp32, {});
    print_comparison(compared, result);
    json["fp32"] = to_json(compared, fp32->name(), protocol);
  } else {
    print_table(result);
  }
  if (json_path) {
    // Image names that are not UTF-8 keep their place, with U+FFFD for the bytes JSON cannot hold.
    const std::string text = json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    write_bytes_atomically(*json_path, text + "\n", existing_file(args));
  }
  return 0;
}

}  // namespace quicksr::cli
