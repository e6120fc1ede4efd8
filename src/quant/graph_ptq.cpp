// INT8 general graphs in float: the INT8 form of a graph, QuantSim, calibration and
// round-to-nearest post-training quantisation (docs/quantization.md "General graphs").
#include <algorithm>
#include <iterator>

#include "model/graph_check.hpp"
#include "model/op_values.hpp"
#include "quant/stages.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::quant {

namespace {

bool is_activation(OpType op) { return op == OpType::kRelu || op == OpType::kClip; }

std::size_t reader_count(const Graph& graph, const std::string& tensor) {
  std::size_t count = tensor == graph.output ? 1 : 0;
  for (const GraphNode& node : graph.nodes) {
    count += static_cast<std::size_t>(std::count(node.inputs.begin(), node.inputs.end(), tensor));
  }
  return count;
}

// Moves the first ReLU / Clip that is the only reader of a depth-to-space's output before it;
// returns false when there is none.
bool move_one_activation_before_shuffle(Graph& graph) {
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (graph.nodes[i].op != OpType::kDepthToSpace) continue;
    const std::string shuffled = graph.nodes[i].output;
    if (shuffled == graph.output || reader_count(graph, shuffled) != 1) continue;
    const auto reader = std::find_if(
        graph.nodes.begin() + static_cast<std::ptrdiff_t>(i) + 1, graph.nodes.end(),
        [&](const GraphNode& node) { return node.inputs == std::vector<std::string>{shuffled}; });
    if (reader == graph.nodes.end() || !is_activation(reader->op)) continue;
    GraphNode activation = *reader;
    GraphNode shuffle = graph.nodes[i];
    graph.nodes.erase(reader);
    // activation(x) -> "shuffled", then depth-to-space("shuffled") -> the activation's output.
    activation.inputs = shuffle.inputs;
    shuffle.inputs = {shuffled};
    shuffle.output = activation.output;
    activation.output = shuffled;
    graph.nodes[i] = shuffle;
    graph.nodes.insert(graph.nodes.begin() + static_cast<std::ptrdiff_t>(i), activation);
    return true;
  }
  return false;
}

// dequantize(quantize(x)) per value: the quantizer of a u8 tensor (the u8 range is its clamp).
void fake_quantize(Tensor& x, const ActivationEncoding& encoding) {
  for (float& value : x.data) value = dequantize(quantize(value, encoding), encoding);
}

// The 8-bit image the integer runtime sees, as float.
Tensor network_input(const Tensor& rgb) { return dequantize(to_u8(rgb), ActivationEncoding{}); }

// Calls observe(tensor index, values) for every node output that is a u8 tensor (not fused away)
// while `graph` runs in float on the 8-bit image of `rgb`.
template <typename Observe>
Tensor run_observed(const Graph& graph, const Int8GraphLayout& layout, const Tensor& rgb,
                    const Observe& observe) {
  return reference::forward(graph, network_input(rgb), [&](const GraphNode& node, Tensor& result) {
    const auto found = layout.index.find(node.output);
    if (found != layout.index.end()) observe(found->second, result);
  });
}

Graph weights_on_grid(Graph graph, WeightGranularity granularity) {
  for (Conv2d& conv : graph.convs) conv = with_weights_on_grid(conv, granularity);
  return graph;
}

}  // namespace

Graph int8_form(const Graph& graph) {
  check_graph(graph);
  // Collapsed whatever the name (the official SESR files are expanded without saying so); an
  // "-expanded" name loses its suffix.
  Graph result = inference_form(collapse_linear_blocks(graph));
  while (move_one_activation_before_shuffle(result)) {
  }
  check_graph(result);
  check_int8_ops(result);
  return result;
}

Tensor simulate(const Graph& graph, const std::vector<ActivationEncoding>& encodings,
                const Tensor& rgb) {
  const Int8GraphLayout layout = int8_layout(graph);
  if (encodings.size() != layout.tensors.size()) {
    throw Error("QuantSim: " + std::to_string(encodings.size()) + " encodings for a graph with " +
                std::to_string(layout.tensors.size()) + " u8 tensors");
  }
  return run_observed(graph, layout, rgb,
                      [&](std::size_t i, Tensor& values) { fake_quantize(values, encodings[i]); });
}

Tensor simulate(const QuantizedGraph& net, const Tensor& rgb) {
  return simulate(dequantize_weights(net), net.encodings, rgb);
}

GraphCalibrator::GraphCalibrator(Graph graph)
    : graph_(std::move(graph)), layout_(int8_layout(graph_)), statistics_(layout_.tensors.size()) {
  check_graph(graph_);
  check_int8_ops(graph_);
}

void GraphCalibrator::add(const Tensor& rgb) {
  run_observed(graph_, layout_, rgb,
               [&](std::size_t i, Tensor& values) { statistics_[i].add(values); });
  ++images_;
}

std::vector<ActivationEncoding> GraphCalibrator::encodings(EncodingScheme scheme) const {
  if (images_ == 0) throw Error("calibration needs at least one image");
  std::vector<ActivationEncoding> result{ActivationEncoding{}};  // the input: the 8-bit image
  for (const GraphNode& node : graph_.nodes) {
    const auto found = layout_.index.find(node.output);
    if (found == layout_.index.end()) continue;  // fused into its producer's activation
    if (keeps_input_encoding(node.op)) {
      result.push_back(result[layout_.index.at(node.inputs.at(0))]);
      continue;
    }
    const Calibrator::Statistics& statistics = statistics_[found->second];
    // tf-enhanced searches ranges [0, max']; a tensor with negative values keeps its min/max.
    result.push_back(encoding_of(statistics, statistics.min < 0.0f ? EncodingScheme::kTf : scheme));
  }
  return result;
}

QuantizedGraph post_training_quantize(const Graph& graph, const std::vector<Tensor>& images,
                                      const PtqOptions& options, const ProgressFn& progress) {
  if (options.cross_layer_equalization || options.bias_correction || options.optimize_rounding) {
    throw Error(
        "INT8 graphs have round-to-nearest PTQ only (no CLE, bias correction or optimised "
        "rounding yet)");
  }
  if (images.empty()) throw Error("post-training quantisation needs at least one image");
  const Graph prepared = int8_form(graph);
  GraphCalibrator calibrator(weights_on_grid(prepared, options.granularity));
  int done = 0;
  for (const Tensor& image : images) {
    calibrator.add(image);
    if (progress) progress(++done, static_cast<int>(images.size()));
  }
  return quantize_graph_weights(prepared, calibrator.encodings(options.scheme),
                                options.granularity);
}

}  // namespace quicksr::quant
