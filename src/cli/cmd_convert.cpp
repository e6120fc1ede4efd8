// quicksr convert MODEL OUT.safetensors: ONNX weights into quicksr's model format; with
// --average-pool K, any model followed by a KxK average pool (the paper's naive x1.5: x3 + 2x2).
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "cli/output_path.hpp"
#include "model/graph_check.hpp"
#include "onnx/quicksrnet_graph.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "convert",
    .usage = "MODEL OUT.safetensors [options]",
    .summary =
        "Convert an ONNX super-resolution model (e.g. the official QuickSRNet weights) to a "
        "quicksr model file. QuickSRNet graphs become QuickSRNet models; other graphs (the ops "
        "of docs/onnx.md: convs, activations, elementwise ops, pools, resizes, shuffles) are "
        "kept as graphs. MODEL may also be a quicksr model file or a built-in model name.",
    .options = {{"--average-pool", "K",
                 "append a KxK average pool of stride K to the output (2 to 4; the result is a "
                 "graph whose scale is the model's divided by K, e.g. x3 then K = 2: the paper's "
                 "naive x1.5)"},
                {"--overwrite", "", "replace OUT if it exists"}},
    .min_positional = 2,
    .max_positional = 2,
};

// `model` as a graph followed by a block x block average pool of stride `block`.
Graph average_pooled(const Model& model, int block, const std::string& source) {
  Graph graph;
  if (const auto* net = std::get_if<QuickSRNet>(&model.net)) {
    graph = onnx_io::quicksrnet_to_graph(*net, ChannelOrder::kCRD);
  } else if (const auto* general = std::get_if<Graph>(&model.net)) {
    graph = *general;
  } else {
    throw Error(source + ": an INT8 model; --average-pool needs a float model");
  }
  GraphNode pool{.op = OpType::kAveragePool,
                 .name = "average_pool",
                 .inputs = {graph.output},
                 .output = "average_pooled"};
  pool.pool = Pool2d{.kernel = block, .stride = block};
  graph.nodes.push_back(pool);
  graph.output = pool.output;
  graph.architecture += "-avgpool" + std::to_string(block);
  graph.scale = infer_graph_scale(graph);
  return graph;
}

}  // namespace

int convert_command(CommandArgs raw) {
  const std::optional<FileCommand> command = parse_file_command(kSpec, raw);
  if (!command) return 0;
  const auto& [args, input, output] = *command;
  Model model = load_model_argument(input.string());
  if (args.has("--average-pool")) {
    model.net = average_pooled(model, args.get_int("--average-pool", 2, 2, 4), input.string());
    // The validation scores were the pooled-from model's, not this one's.
    std::erase_if(model.provenance,
                  [](const auto& entry) { return entry.first.starts_with("validation_"); });
    model.provenance["average_pool"] = args.get_or("--average-pool", "");
  }
  save_model(model, output, existing_file(args));
  std::cout << "converted " << input.string() << " -> " << output.string() << " (" << model.name()
            << ", x" << model.scale().to_string() << ")\n";
  return 0;
}

}  // namespace quicksr::cli
