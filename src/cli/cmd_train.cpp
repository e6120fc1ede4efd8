// quicksr train: trains a QuickSRNet or a baseline graph with LibTorch. Built into the
// quicksr-train executable, which `quicksr train` runs, so that quicksr itself never loads
// LibTorch.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/quantize.hpp"
#include "cli/run_command.hpp"
#include "quicksr/error.hpp"
#include "train/trainer.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "train",
    .usage = "--data DIR --out RUN_DIR [options]",
    .summary =
        "Train a QuickSRNet or a baseline (--arch) on the HR images of DIR (LR made by\n"
        "MATLAB-style bicubic, or by --degradation). Writes RUN_DIR/config.json, log.csv,\n"
        "val_psnr.svg, checkpoint.pt, best/last.safetensors.\n"
        "A RUN_DIR holding checkpoint.pt is resumed exactly (its config.json, then --config,\n"
        "then the command line). Settings may also come from a JSON file (--config) whose keys\n"
        "are the option names with '_' for '-'. Ctrl-C or SIGTERM writes a checkpoint first.\n"
        "--qat --from MODEL fine-tunes MODEL with fake quantization (docs/quantization.md).",
    .options =
        {
            {"--data", "DIR", "training HR images (repeatable or comma-separated)"},
            {"--val", "DIR", "validation HR images (PSNR/SSIM by the evaluation protocol)"},
            {"--out", "RUN_DIR", "run folder (resumed when it holds a checkpoint)"},
            {"--config", "FILE", "JSON file of settings"},
            {"--resume", "", "fail unless RUN_DIR holds a checkpoint to resume"},
            {"--arch", "NAME",
             "quicksrnet (default, --preset) or a baseline of docs/baselines.md (fsrcnn, espcn, "
             "xlsr, sesr-m3/m5/m7/m11/xl, abpn, abpn-noresidual, erfdn, edsr-baseline)"},
            {"--preset", "NAME",
             "small | medium | large | fF-mM[-anchor], e.g. f32-m3 (default small)"},
            {"--scale", "S", "2 | 3 | 4 | 1.5 (default 2)"},
            {"--degradation", "NAME",
             "LR of training and validation: bicubic (default), point (aliased) or area"},
            {"--init", "NAME",
             "identity (default: PyTorch's init plus the paper's identity terms) or default"},
            {"--activation", "NAME", "relu1 (default: clamp(x, 0, 1)) or relu (max(x, 0))"},
            {"--iterations", "N", "optimizer steps (default 300000)"},
            {"--batch", "N", "patches per step and process (default 16)"},
            {"--patch", "PX", "LR patch side (default 64)"},
            {"--scale-augment", "F",
             "add HR copies downscaled by 0.9, 0.8, ... down to F (VDSR: 0.6; default 1: none)"},
            {"--lr", "LR", "initial learning rate (default 1e-3)"},
            {"--schedule", "NAME", "cosine | step (default cosine)"},
            {"--lr-step", "N", "step schedule: decay every N iterations (default 200000)"},
            {"--lr-gamma", "G", "step schedule: decay factor (default 0.5)"},
            {"--lr-min", "LR", "cosine schedule: final learning rate (default 1e-6)"},
            {"--seed", "N", "initialisation and data seed (default 1)"},
            {"--threads", "N", "compute threads (default: every core)"},
            {"--log-every", "N", "iterations per log.csv row (default 100)"},
            {"--val-every", "N", "iterations between validations (default 5000)"},
            {"--checkpoint-every", "N", "iterations between checkpoints (default 2000)"},
            {"--world-size", "N", "data-parallel processes (default 1)"},
            {"--rank", "R", "this process's rank in 0..N-1"},
            {"--rendezvous", "ADDR", "file:PATH or tcp:HOST:PORT (distributed runs)"},
            {"--from", "MODEL",
             "start from this model's weights (fine-tuning; same architecture and scale)"},
            {"--teacher", "MODEL",
             "distillation: the loss compares with this float model's output, not the HR patch"},
            {"--loss", "NAME", "l1 | mse (default l1)"},
            {"--image-weight-power", "P",
             "--teacher: weigh each patch's loss by (teacher error on its image / mean)^-P "
             "(default 0: all alike)"},
            {"--hr-target", "",
             "with --image-weight-power: compare with the HR patch; the teacher only sets the "
             "weights"},
            {"--qat", "",
             "quantization-aware training of --from (fake quant, STE; lr ~1e-5); an INT8 --from "
             "starts from its rounding, encodings and weight scales"},
            {"--per-tensor", "", "QAT: s8 weights per tensor (default per output channel)"},
            {"--learn-ranges", "",
             "QAT: train the activation ranges (LSQ gradient, ReLU1 ranges kept <= 1)"},
            {"--range-lr-factor", "F",
             "--learn-ranges: the ranges' learning rate is F times the weights' (default 1)"},
            {"--calibration-batches", "N", "QAT: batches calibrating the encodings (default 8)"},
            {"--freeze-oscillations", "F",
             "QAT from an INT8 model: freeze each s8 weight whose integer oscillates with an "
             "EMA frequency above F (e.g. 0.005), at its average integer (default 0: off)"},
            {"--oscillation-momentum", "M",
             "--freeze-oscillations: the EMA weight of each step (default 0.01)"},
        },
    .min_positional = 0,
    .max_positional = 0,
};

// The command-line options as a JSON object of settings ("--lr-step 5" -> {"lr_step": 5}).
nlohmann::json options_as_json(const ParsedArgs& args) {
  const nlohmann::json defaults = train::to_json(train::TrainConfig{});
  nlohmann::json settings = nlohmann::json::object();
  for (const OptionSpec& option : kSpec.options) {
    std::string key = option.name.substr(2);
    std::replace(key.begin(), key.end(), '-', '_');
    if (!defaults.contains(key) || !args.has(option.name)) continue;
    if (key == "data") {
      nlohmann::json folders = nlohmann::json::array();
      for (const std::string& value : args.get_all(option.name)) {
        std::stringstream list(value);
        for (std::string folder; std::getline(list, folder, ',');) {
          if (!folder.empty()) folders.push_back(folder);
        }
      }
      settings[key] = folders;
    } else if (defaults[key].is_boolean()) {
      settings[key] = true;
    } else if (defaults[key].is_number()) {
      const std::string text = *args.get(option.name);
      try {
        settings[key] = nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception&) {
        throw Error("option " + option.name + ": '" + text + "' is not a number");
      }
      if (!settings[key].is_number()) {
        throw Error("option " + option.name + ": '" + text + "' is not a number");
      }
    } else {
      settings[key] = *args.get(option.name);
    }
  }
  return settings;
}

std::string command_line(CommandArgs raw) {
  std::string command = "quicksr train";
  for (const char* arg : raw) command += std::string(" ") + arg;
  return command;
}

int train(const ParsedArgs& args, CommandArgs raw) {
  const nlohmann::json file_settings = args.has("--config")
                                           ? train::read_config_file(*args.get("--config"))
                                           : nlohmann::json::object();
  const nlohmann::json cli_settings = options_as_json(args);
  train::TrainConfig config;
  train::apply_json(config, file_settings, args.get_or("--config", ""));
  train::apply_json(config, cli_settings, "command line");
  const std::filesystem::path run_dir = config.out;
  const bool resumable = !config.out.empty() &&
                         std::filesystem::exists(train::checkpoint_path(run_dir)) &&
                         std::filesystem::exists(train::config_path(run_dir));
  if (args.has("--resume") && !resumable) {
    throw Error(run_dir.string() + ": --resume needs " + train::checkpoint_path(run_dir).string() +
                " and " + train::config_path(run_dir).string());
  }
  if (resumable) {  // the saved run's settings, then the explicit ones again on top
    config = train::TrainConfig{};
    train::apply_json(config, train::read_config_file(train::config_path(run_dir)),
                      train::config_path(run_dir).string());
    train::apply_json(config, file_settings, args.get_or("--config", ""));
    train::apply_json(config, cli_settings, "command line");
  }
  train::run_training(config, command_line(raw));
  return 0;
}

}  // namespace

int train_command(CommandArgs raw) {
  if (!raw.empty() && std::string_view(raw[0]) == kQuantizeInTrainer) {
    return run_command("quantize", quantize_in_trainer, raw.subspan(1));
  }
  const std::optional<ParsedArgs> args = parse_command(kSpec, raw);
  if (!args) return 0;
  return train(*args, raw);
}

}  // namespace quicksr::cli
