#include "onnx/qdq_graph.hpp"

#include <numeric>

#include "model/layout.hpp"
#include "onnx/quicksrnet_graph.hpp"

namespace quicksr::onnx_io {
namespace {

// A float conv of `conv`'s geometry whose weights and biases are their own indices (exact in
// float: at most 64 * 256 * 9 weights). Passed through quicksrnet_to_graph, they say where each
// integer weight goes, so the channel permutations are defined once, for the float export.
Conv2d index_conv(const QConv2d& conv) {
  Conv2d carrier = with_geometry_of<Conv2d>(conv);
  carrier.weight.resize(conv.weight.size());
  std::iota(carrier.weight.begin(), carrier.weight.end(), 0.0f);
  carrier.bias.resize(conv.out_channels);
  std::iota(carrier.bias.begin(), carrier.bias.end(), 0.0f);
  return carrier;
}

// The bias is in units of input scale x weight scale, rounded once to float32.
void add_bias_scales(QdqConv& conv, const ActivationEncoding& input) {
  for (float weight_scale : conv.weight_scale) {
    conv.bias_scale.push_back(
        static_cast<float>(static_cast<double>(input.scale) * static_cast<double>(weight_scale)));
  }
}

// `source`'s integers in the order of `carrier` (an index_conv after permutation).
QdqConv permuted(const QConv2d& source, const Conv2d& carrier, const ActivationEncoding& input) {
  QdqConv result;
  for (float index : carrier.weight)
    result.weight.push_back(source.weight[static_cast<std::size_t>(index)]);
  for (float index : carrier.bias) {
    const int o = static_cast<int>(index);
    result.bias.push_back(source.bias[o]);
    if (source.per_channel()) result.weight_scale.push_back(source.weight_scale[o]);
  }
  if (!source.per_channel()) result.weight_scale = source.weight_scale;
  add_bias_scales(result, input);
  return result;
}

}  // namespace

QdqGraph quantized_quicksrnet_to_graph(const QuantizedQuickSRNet& net, ChannelOrder order) {
  net.check();
  const int blocks = net.config.blocks;
  // The convs in the order quicksrnet_to_graph adds them, each with its input encoding.
  std::vector<std::pair<const QConv2d*, ActivationEncoding>> convs{{&net.first, net.input}};
  for (int i = 0; i < blocks; ++i) convs.emplace_back(&net.body[i], net.features[i]);
  convs.emplace_back(&net.last, net.features[blocks]);
  for (const QConv2d& anchor : net.anchor) convs.emplace_back(&anchor, net.input);

  QuickSRNet carrier;
  carrier.config = net.config;
  carrier.first = index_conv(net.first);
  for (const QConv2d& conv : net.body) carrier.body.push_back(index_conv(conv));
  carrier.last = index_conv(net.last);
  for (const QConv2d& conv : net.anchor) carrier.anchor.push_back(index_conv(conv));

  QdqGraph result{quicksrnet_to_graph(carrier, order), {}};
  for (std::size_t c = 0; c < convs.size(); ++c) {
    result.qdq.convs.push_back(
        permuted(*convs[c].first, result.graph.convs.at(c), convs[c].second));
  }
  // Activations in graph order: the ReLU1 (Clip) or ReLU (Relu) of the first and each body conv,
  // then the output clip.
  result.qdq.activations[result.graph.input] = net.input;
  int activation = 0;
  for (const GraphNode& node : result.graph.nodes) {
    if (node.op != OpType::kClip && node.op != OpType::kRelu) continue;
    result.qdq.activations[node.output] =
        activation <= blocks ? net.features[activation] : net.output;
    ++activation;
  }
  return result;
}

QdqGraph quantized_graph_to_qdq(const QuantizedGraph& net) {
  net.check();
  const Int8GraphLayout layout = int8_layout(net.graph);
  const auto encoding_of = [&](const std::string& tensor) {
    return net.encodings.at(layout.index.at(tensor));
  };
  QdqGraph result{net.graph, {}};
  // The float weights of a QDQ graph are unused (its convs read the dequantized integers), but
  // the graph checker wants them sized.
  for (Conv2d& conv : result.graph.convs) {
    conv.weight.assign(weight_count(conv), 0.0f);
    conv.bias.assign(static_cast<std::size_t>(conv.out_channels), 0.0f);
  }
  result.qdq.activations[net.graph.input] = encoding_of(net.graph.input);
  result.qdq.convs.resize(net.convs.size());
  for (const GraphNode& node : net.graph.nodes) {
    if (node.conv >= 0) {
      const QConv2d& source = net.convs.at(static_cast<std::size_t>(node.conv));
      QdqConv& conv = result.qdq.convs[static_cast<std::size_t>(node.conv)];
      conv.weight = source.weight;
      conv.weight_scale = source.weight_scale;
      conv.bias = source.bias;
      add_bias_scales(conv, encoding_of(node.inputs.at(0)));
    }
    if (layout.index.count(node.output) && !is_permutation(node.op)) {
      result.qdq.activations[node.output] = encoding_of(node.output);
    }
  }
  return result;
}

}  // namespace quicksr::onnx_io
