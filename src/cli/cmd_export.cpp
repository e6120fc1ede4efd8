// quicksr export MODEL OUT.onnx: a quicksr model as ONNX for other runtimes.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "cli/output_path.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "export",
    .usage = "MODEL OUT.onnx [options]",
    .summary =
        "Export MODEL (a .safetensors or .onnx file, or a built-in model name) as fp32 ONNX\n"
        "(input 'input' Nx3xHxW RGB in [0,1], output 'output'); an INT8 model as QDQ ONNX\n"
        "(QuantizeLinear/DequantizeLinear at every quantizer, s8 weights, s32 biases; opset\n"
        ">= 13). Batch, height and width are dynamic unless --batch, --height/--width fix them. "
        "--opencv writes what OpenCV DNN 4.6\n"
        "reads as-is: opset 10 (Clip bounds as attributes) with depth-to-space and\n"
        "space-to-depth as (transposed) convolutions of 0/1 weights, which work at any size.",
    .options = {{"--opset", "N", "ONNX opset 10..17 (default 13; below 11 needs --dcr)"},
                {"--opencv", "", "OpenCV DNN compatible (opset 10, shuffles as convs)"},
                {"--dcr", "", "DCR depth-to-space (convs re-ordered; QuickSRNet only)"},
                {"--height", "H", "fixed input height (with --width)"},
                {"--width", "W", "fixed input width (with --height)"},
                {"--batch", "N", "fixed batch size (default: dynamic)"},
                {"--overwrite", "", "replace OUT if it exists"}},
    .min_positional = 2,
    .max_positional = 2,
};

}  // namespace

int export_command(CommandArgs raw) {
  const std::optional<FileCommand> command = parse_file_command(kSpec, raw);
  if (!command) return 0;
  const auto& [args, input, output] = *command;
  const Model model = load_model_argument(input.string());
  OnnxExportOptions options = args.has("--opencv") ? opencv_export_options() : OnnxExportOptions{};
  if (args.has("--opencv") && args.has("--opset")) throw Error("--opencv sets the opset (10)");
  options.opset = args.get_int("--opset", options.opset, kMinOnnxOpset, kMaxOnnxOpset);
  options.dcr = args.has("--dcr");
  options.height = args.get_int("--height", 0, 1, 1 << 16);
  options.width = args.get_int("--width", 0, 1, 1 << 16);
  options.batch = args.get_int("--batch", 0, 1, 1 << 16);
  options.existing = existing_file(args);
  export_onnx(model, output, options);
  std::cout << "exported " << model.name() << " -> " << output.string() << " (opset "
            << options.opset << (options.dcr ? ", DCR" : "")
            << (options.shuffles_as_convs ? ", shuffles as convs" : "") << ")\n";
  return 0;
}

}  // namespace quicksr::cli
