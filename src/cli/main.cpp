// quicksr: the command-line front end. Each sub-command lives in its own cmd_<name>.cpp.
#include <cstring>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/run_command.hpp"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(quicksr::cli::CommandArgs);
};

constexpr Command kCommands[] = {
    {"upscale", "upscale an image with a QuickSRNet model (or bicubic, or FSR 1)",
     quicksr::cli::upscale_command},
    {"info", "describe a model file or a built-in model", quicksr::cli::info_command},
    {"models", "list the built-in and shipped models with their scores",
     quicksr::cli::models_command},
    {"video", "upscale a video (audio and subtitles copied; quicksr-video)",
     [](quicksr::cli::CommandArgs args) { return quicksr::cli::exec_helper("video", args); }},
    {"eval", "PSNR/SSIM of a model (or bicubic, or FSR 1) on a folder of HR images",
     quicksr::cli::eval_command},
    {"bench", "time the inference engine against oneDNN and the FMA peak (quicksr-bench)",
     [](quicksr::cli::CommandArgs args) { return quicksr::cli::exec_helper("bench", args); }},
    {"train", "train a QuickSRNet (LibTorch; quicksr-train)",
     [](quicksr::cli::CommandArgs args) { return quicksr::cli::exec_helper("train", args); }},
    {"convert", "convert an ONNX model to a quicksr model file", quicksr::cli::convert_command},
    {"init", "write an initialised baseline (FSRCNN, XLSR, SESR...) as a model file",
     quicksr::cli::init_command},
    {"export", "export a model as ONNX", quicksr::cli::export_command},
    {"quantize", "post-training INT8 quantization of a model", quicksr::cli::quantize_command},
    {"average", "average float models' weights (optionally onto an INT8 grid)",
     quicksr::cli::average_command},
};

void print_usage(std::ostream& out) {
  out << "usage: quicksr COMMAND [options]   (quicksr COMMAND --help for details)\n\ncommands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << "\n";
  }
  out << "\n  --version  print the version\n  --help     show this help\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    print_usage(std::cout);
    return 0;
  }
  if (command == "--version") {
    std::cout << "quicksr " << QUICKSR_VERSION << "\n";
    return 0;
  }
  for (const Command& c : kCommands) {
    if (command == c.name) {
      return quicksr::cli::run_command(command, c.run,
                                       quicksr::cli::CommandArgs(argv + 2, argc - 2));
    }
  }
  std::cerr << "quicksr: unknown command '" << command << "'\n";
  print_usage(std::cerr);
  return 2;
}
