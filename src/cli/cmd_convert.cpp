// quicksr convert MODEL.onnx OUT.safetensors: ONNX weights into quicksr's model format.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_path.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/onnx.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "convert",
    .usage = "MODEL.onnx OUT.safetensors [options]",
    .summary =
        "Convert an ONNX super-resolution model (e.g. the official QuickSRNet weights) to a "
        "quicksr model file. QuickSRNet graphs become QuickSRNet models; other graphs (the ops "
        "of docs/onnx.md: convs, activations, elementwise ops, pools, resizes, shuffles) are "
        "kept as graphs.",
    .options = {{"--overwrite", "", "replace OUT if it exists"}},
    .min_positional = 2,
    .max_positional = 2,
};

}  // namespace

int convert_command(CommandArgs raw) {
  const std::optional<FileCommand> command = parse_file_command(kSpec, raw);
  if (!command) return 0;
  const auto& [args, input, output] = *command;
  const Model model = import_onnx(input);
  save_model(model, output, existing_file(args));
  std::cout << "converted " << input.string() << " -> " << output.string() << " (" << model.name()
            << ", x" << model.scale().to_string() << ")\n";
  return 0;
}

}  // namespace quicksr::cli
