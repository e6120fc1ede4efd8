// quicksr info MODEL: what a model file holds.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <map>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "model/graph_check.hpp"
#include "model/layout.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "info",
    .usage = "MODEL",
    .summary =
        "Describe MODEL: a model file (.safetensors or .onnx) or a built-in model by name\n"
        "(`quicksr models` lists them): architecture, size, provenance; for INT8 models the\n"
        "weight scales and activation encodings.",
    .options = {},
    .min_positional = 1,
    .max_positional = 1,
};

// What `quicksr upscale` would run a model with here (QUICKSR_ISA can force another level).
void describe_engine(const Engine& engine) {
  std::cout << "engine ISA: " << isa_name(engine.isa())
            << " (best on this CPU: " << isa_name(best_isa()) << ")\n"
            << "engine kernels: " << engine.kernel_names() << "\n";
}

std::string describe_activation(Activation activation) {
  return activation_name(activation) +
         (activation == Activation::kReLU ? " (max(x, 0))" : " (clamp(x, 0, 1))");
}

void describe(const QuickSRNet& net) {
  const QuickSRNetConfig& c = net.config;
  std::cout << "architecture: QuickSRNet f" << c.features << "-m" << c.blocks
            << (c.anchor ? " with anchor residual" : "") << "\n"
            << "depth-to-space: " << (c.order == ChannelOrder::kCRD ? "CRD" : "DCR") << "\n"
            << "activation: " << describe_activation(c.activation) << "\n"
            << "parameters: " << parameter_count(net) << "\n"
            << "GMAC per 640x360 input: " << std::fixed << std::setprecision(3)
            << net.macs_per_pixel() * 640 * 360 / 1e9 << "\n";
  describe_engine(Engine::create(net, {.threads = 1}));
}

void describe_encoding(const std::string& name, const ActivationEncoding& encoding) {
  std::cout << "  " << std::left << std::setw(12) << name << std::right << " scale "
            << std::setprecision(9) << std::defaultfloat << encoding.scale << "  zero point "
            << encoding.zero_point << "  range [" << quant::dequantize(0, encoding) << ", "
            << quant::dequantize(255, encoding) << "]\n";
}

void describe(const QuantizedQuickSRNet& net) {
  const QuickSRNetConfig& c = net.config;
  std::cout << "architecture: QuickSRNet f" << c.features << "-m" << c.blocks
            << (c.anchor ? " with anchor residual" : "") << ", INT8 (w8a8: s8 weights "
            << (net.per_channel() ? "per channel" : "per tensor") << ", u8 activations, s32 bias)\n"
            << "depth-to-space: " << (c.order == ChannelOrder::kCRD ? "CRD" : "DCR") << "\n"
            << "activation: " << describe_activation(c.activation) << "\n";
  std::cout << "weight scales:\n";
  for (const auto& [name, conv] : named_convs(net)) {
    const auto [lo, hi] = std::minmax_element(conv->weight_scale.begin(), conv->weight_scale.end());
    std::cout << "  " << std::left << std::setw(12) << name << std::right << " "
              << std::setprecision(6) << std::defaultfloat << *lo;
    if (*hi != *lo) std::cout << " .. " << *hi;
    std::cout << "\n";
  }
  std::cout << "activation encodings:\n";
  describe_encoding("input", net.input);
  for (std::size_t i = 0; i < net.features.size(); ++i) {
    describe_encoding(i == 0 ? "first" : "body." + std::to_string(i - 1), net.features[i]);
  }
  describe_encoding("output", net.output);
  std::cout << "parameters: " << parameter_count(net) << "\n";
}

void describe(const QuantizedGraph& net) {
  std::cout << "architecture: graph '" << net.graph.architecture << "' with "
            << net.graph.nodes.size() << " nodes, INT8 (w8a8: s8 weights "
            << (net.per_channel() ? "per channel" : "per tensor")
            << ", u8 activations, s32 bias)\n";
  if (const std::optional<std::string> reason = int8_graph_unsupported_reason(net)) {
    std::cout << "runtime: integer reference runtime (the INT8 engine does not run this graph: "
              << *reason << ")\n";
  } else {
    const Engine engine = Engine::create(net, {.threads = 1});
    std::cout << "runtime: INT8 engine (" << engine.path_name() << ")\n";
    describe_engine(engine);
  }
  std::cout << "weight scales:\n";
  for (const GraphNode& node : net.graph.nodes) {
    if (node.op != OpType::kConv) continue;
    const QConv2d& conv = net.convs[static_cast<std::size_t>(node.conv)];
    const auto [lo, hi] = std::minmax_element(conv.weight_scale.begin(), conv.weight_scale.end());
    std::cout << "  " << node.name << " " << std::setprecision(6) << std::defaultfloat << *lo;
    if (*hi != *lo) std::cout << " .. " << *hi;
    std::cout << "\n";
  }
  std::cout << "activation encodings:\n";
  const Int8GraphLayout layout = int8_layout(net.graph);
  for (std::size_t i = 0; i < layout.tensors.size(); ++i) {
    describe_encoding(layout.tensors[i], net.encodings[i]);
  }
  std::cout << "parameters: " << parameter_count(net) << "\n";
}

void describe(const Graph& graph) {
  std::cout << "architecture: graph '" << graph.architecture << "' with " << graph.nodes.size()
            << " nodes\n"
            << "parameters: " << parameter_count(graph) << "\n";
  std::map<std::string, int> ops;
  for (const GraphNode& node : graph.nodes) ++ops[graph_op_name(node.op)];
  std::cout << "ops:";
  for (const auto& [op, count] : ops) std::cout << " " << op << " " << count;
  const double macs = graph_macs_per_input_pixel(graph);
  const double area = graph.scale.value() * graph.scale.value();
  std::cout << "\nconv MACs per input pixel: " << std::fixed << std::setprecision(0) << macs
            << " (per output pixel: " << std::setprecision(1) << macs / area << ")\n"
            << "GMAC per 640x360 input: " << std::setprecision(3) << macs * 640 * 360 / 1e9 << "\n";
  if (const std::optional<std::string> reason = graph_unsupported_reason(graph)) {
    std::cout << "runtime: reference (the engine does not run this graph: " << *reason << ")\n";
    return;
  }
  const Engine engine = Engine::create(graph, {.threads = 1});
  std::cout << "runtime: engine (" << engine.path_name() << ")\n";
  describe_engine(engine);
}

}  // namespace

int info_command(CommandArgs raw) {
  const std::optional<ParsedArgs> parsed = parse_command(kSpec, raw);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  const Model model = load_model_argument(args.positional()[0]);
  std::cout << "model: " << model.name() << "\nscale: x" << model.scale().to_string() << "\n";
  std::visit([](const auto& net) { describe(net); }, model.net);
  for (const auto& [key, value] : model.provenance) std::cout << key << ": " << value << "\n";
  return 0;
}

}  // namespace quicksr::cli
