// quicksr export MODEL OUT.onnx: a quicksr model as ONNX for other runtimes.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_path.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/onnx.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "export",
    .usage = "MODEL OUT.onnx [options]",
    .summary =
        "Export a quicksr model (.safetensors, or .onnx to re-export) as an fp32 ONNX file "
        "(opset 13, input 'input' 1x3xHxW RGB in [0,1], output 'output'). Height and width "
        "are dynamic unless --height/--width fix them.",
    .options = {{"--dcr", "", "DCR depth-to-space (convs re-ordered; QuickSRNet only)"},
                {"--height", "H", "fixed input height (with --width)"},
                {"--width", "W", "fixed input width (with --height)"},
                {"--overwrite", "", "replace OUT if it exists"}},
    .min_positional = 2,
    .max_positional = 2,
};

}  // namespace

int export_command(CommandArgs raw) {
  const std::optional<FileCommand> command = parse_file_command(kSpec, raw);
  if (!command) return 0;
  const auto& [args, input, output] = *command;
  const Model model = input.extension() == ".onnx" ? import_onnx(input) : load_model(input);
  const OnnxExportOptions options{.dcr = args.has("--dcr"),
                                  .height = args.get_int("--height", 0, 1, 1 << 16),
                                  .width = args.get_int("--width", 0, 1, 1 << 16)};
  export_onnx(model, output, options);
  std::cout << "exported " << model.name() << " -> " << output.string()
            << (options.dcr ? " (DCR)" : "") << "\n";
  return 0;
}

}  // namespace quicksr::cli
