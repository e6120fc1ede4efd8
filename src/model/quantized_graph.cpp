// The quantizer placement and the model checker of INT8 general graphs.
#include <string>

#include "model/graph_check.hpp"
#include "model/op_values.hpp"
#include "model/qconv_check.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

namespace {

bool is_activation(OpType op) { return op == OpType::kRelu || op == OpType::kClip; }

bool is_conv(OpType op) { return op == OpType::kConv || op == OpType::kConvTranspose; }

// How many nodes read each tensor (the graph output counts as a reader).
std::map<std::string, int> reader_counts(const Graph& graph) {
  std::map<std::string, int> readers{{graph.output, 1}};
  for (const GraphNode& node : graph.nodes) {
    for (const std::string& name : node.inputs) ++readers[name];
  }
  return readers;
}

}  // namespace

bool is_permutation(OpType op) {
  return op == OpType::kDepthToSpace || op == OpType::kSpaceToDepth;
}

Int8GraphLayout int8_layout(const Graph& graph) {
  const std::size_t count = graph.nodes.size();
  Int8GraphLayout layout{std::vector<int>(count, -1), std::vector<bool>(count, false), {}, {}};
  const std::map<std::string, int> readers = reader_counts(graph);
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < count; ++i) producer[graph.nodes[i].output] = i;
  for (std::size_t i = 0; i < count; ++i) {
    const GraphNode& node = graph.nodes[i];
    if (!is_activation(node.op) || node.inputs.size() != 1) continue;
    const auto found = producer.find(node.inputs[0]);
    if (found == producer.end() || readers.at(node.inputs[0]) != 1) continue;
    const OpType op = graph.nodes[found->second].op;
    if (is_conv(op) || op == OpType::kAdd) {
      layout.fused_activation[found->second] = static_cast<int>(i);
      layout.absorbed[i] = true;
    }
  }
  layout.tensors.push_back(graph.input);
  for (std::size_t i = 0; i < count; ++i) {
    if (layout.fused_activation[i] < 0) layout.tensors.push_back(graph.nodes[i].output);
  }
  for (std::size_t i = 0; i < layout.tensors.size(); ++i) layout.index[layout.tensors[i]] = i;
  return layout;
}

void check_int8_ops(const Graph& graph) {
  for (const GraphNode& node : graph.nodes) {
    switch (node.op) {
      case OpType::kConv:
      case OpType::kConvTranspose:
      case OpType::kRelu:
      case OpType::kClip:
      case OpType::kTanh:
      case OpType::kLeakyRelu:
      case OpType::kSigmoid:
      case OpType::kAdd:
      case OpType::kMul:
      case OpType::kConcat:
      case OpType::kDepthToSpace:
      case OpType::kSpaceToDepth:
      case OpType::kMaxPool:
      case OpType::kResizeBilinear:
        continue;
      default:
        throw Error(std::string("INT8 graphs do not support op '") + graph_op_name(node.op) +
                    "' (node '" + node.name + "')");
    }
  }
}

void QuantizedGraph::check() const {
  check_graph(graph, GraphWeights::kNotLoadedYet);
  check_int8_ops(graph);
  const Int8GraphLayout layout = int8_layout(graph);
  if (encodings.size() != layout.tensors.size()) {
    throw Error("INT8 graph has " + std::to_string(encodings.size()) + " activation encodings, " +
                "expected " + std::to_string(layout.tensors.size()));
  }
  for (std::size_t i = 0; i < encodings.size(); ++i) {
    check_encoding(encodings[i], "INT8 graph", layout.tensors[i]);
  }
  if (!(encodings.front() == ActivationEncoding{})) {
    throw Error("INT8 graph input encoding must be scale 1/255, zero point 0 (the image)");
  }
  if (convs.size() != graph.convs.size()) {
    throw Error("INT8 graph has " + std::to_string(convs.size()) + " convs, expected " +
                std::to_string(graph.convs.size()));
  }
  const auto encoding = [&](const std::string& tensor) {
    return encodings[layout.index.at(tensor)];
  };
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const GraphNode& node = graph.nodes[i];
    const int fused = layout.fused_activation[i];
    const std::string& output = fused < 0 ? node.output : graph.nodes[fused].output;
    if (layout.absorbed[i]) continue;
    if (is_conv(node.op)) {
      const auto c = static_cast<std::size_t>(node.conv);
      check_qconv(convs[c], graph.convs[c], "INT8 graph conv '" + node.name + "'",
                  encoding(node.inputs[0]), encoding(output));
      if (convs[c].per_channel() != per_channel()) {
        throw Error("INT8 graph mixes per-channel and per-tensor weight scales");
      }
    } else if (keeps_input_encoding(node.op) && !(encoding(output) == encoding(node.inputs[0]))) {
      throw Error("INT8 graph node '" + node.name + "' (" + graph_op_name(node.op) +
                  ") must keep its input's encoding");
    }
  }
}

}  // namespace quicksr
