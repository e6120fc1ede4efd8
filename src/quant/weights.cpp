// Weight quantisation (docs/quantization.md "Weights", "Bias"): s8 symmetric weights per output
// channel or per tensor, s32 biases in units of input_scale * weight_scale[o].
#include <algorithm>
#include <cmath>
#include <limits>

#include "model/graph_check.hpp"
#include "model/layout.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::quant {

namespace {

constexpr double kInt32Max = std::numeric_limits<std::int32_t>::max();

// The largest |bias_q| the accumulator bound of the model checker allows for this geometry.
double bias_limit(const Conv2d& conv) {
  return kInt32Max -
         static_cast<double>(conv.in_channels) * conv.kernel_h * conv.kernel_w * 255 * 127;
}

// The weight scale of `weights`, those of output channels [begin, end): max|w| / 127, raised where
// a bias would not fit in the accumulator bound (a channel with tiny weights and a large bias; its
// weights then round to fewer levels, which cannot matter next to that bias).
float scale_of_channels(const Conv2d& conv, const std::vector<float>& weights, int begin, int end,
                        float input_scale) {
  float scale = weight_scale_of(weights.data(), weights.size());
  for (int o = begin; o < end; ++o) {
    const double needed = std::abs(static_cast<double>(conv.bias[static_cast<std::size_t>(o)])) /
                          (static_cast<double>(input_scale) * bias_limit(conv));
    // Twice what is needed keeps the rounded bias well inside the bound.
    if (needed > static_cast<double>(scale)) scale = static_cast<float>(2.0 * needed);
  }
  return scale;
}

void check_weights_and_biases(const Conv2d& conv) {
  if (conv.weight.size() != weight_count(conv) ||
      conv.bias.size() != static_cast<std::size_t>(conv.out_channels)) {
    throw Error("quantize_conv needs a conv with its weights and one bias per output channel");
  }
}

// The weights of each output channel (contiguous in OIHW, strided in a transposed conv's IOHW).
std::vector<std::vector<float>> weights_by_output_channel(const Conv2d& conv) {
  std::vector<std::vector<float>> channels(static_cast<std::size_t>(conv.out_channels));
  for (std::size_t i = 0; i < conv.weight.size(); ++i) {
    channels[static_cast<std::size_t>(weight_output_channel(conv, i))].push_back(conv.weight[i]);
  }
  return channels;
}

}  // namespace

float weight_scale_of(const float* values, std::size_t count) {
  float largest = 0.0f;
  for (std::size_t i = 0; i < count; ++i) largest = std::max(largest, std::abs(values[i]));
  return largest > 0.0f ? largest / 127.0f : 1.0f;
}

std::int32_t quantize_bias(float bias, float input_scale, float weight_scale) {
  const double q =
      std::nearbyint(static_cast<double>(bias) / (static_cast<double>(input_scale) * weight_scale));
  return static_cast<std::int32_t>(std::clamp(q, -kInt32Max - 1, kInt32Max));
}

std::int8_t quantize_weight(float w, float scale) {
  const float q = std::nearbyint(w / scale);
  return static_cast<std::int8_t>(std::clamp(q, -127.0f, 127.0f));
}

QConv2d quantize_conv(const Conv2d& conv, float input_scale, WeightGranularity granularity) {
  check_weights_and_biases(conv);
  std::vector<float> scales;
  if (granularity == WeightGranularity::kPerTensor) {
    scales = {scale_of_channels(conv, conv.weight, 0, conv.out_channels, input_scale)};
  } else {
    const std::vector<std::vector<float>> channels = weights_by_output_channel(conv);
    for (int o = 0; o < conv.out_channels; ++o) {
      scales.push_back(
          scale_of_channels(conv, channels[static_cast<std::size_t>(o)], o, o + 1, input_scale));
    }
  }
  return quantize_conv(conv, input_scale, std::move(scales));
}

QConv2d quantize_conv(const Conv2d& conv, float input_scale, std::vector<float> weight_scales) {
  check_weights_and_biases(conv);
  if (weight_scales.size() != 1 &&
      weight_scales.size() != static_cast<std::size_t>(conv.out_channels)) {
    throw Error("quantize_conv needs 1 or " + std::to_string(conv.out_channels) +
                " weight scales, got " + std::to_string(weight_scales.size()));
  }
  QConv2d q = with_geometry_of<QConv2d>(conv);
  q.weight_scale = std::move(weight_scales);
  q.weight.resize(conv.weight.size());
  for (std::size_t i = 0; i < conv.weight.size(); ++i) {
    q.weight[i] = quantize_weight(conv.weight[i], q.scale_of(weight_output_channel(conv, i)));
  }
  for (int o = 0; o < conv.out_channels; ++o) {
    q.bias.push_back(
        quantize_bias(conv.bias[static_cast<std::size_t>(o)], input_scale, q.scale_of(o)));
  }
  return q;
}

Conv2d dequantize_conv(const QConv2d& conv, float input_scale) {
  Conv2d d = with_geometry_of<Conv2d>(conv);
  for (std::size_t i = 0; i < conv.weight.size(); ++i) {
    d.weight.push_back(static_cast<float>(conv.weight[i]) *
                       conv.scale_of(weight_output_channel(conv, i)));
  }
  for (int o = 0; o < conv.out_channels; ++o) {
    d.bias.push_back(
        static_cast<float>(static_cast<double>(conv.bias[static_cast<std::size_t>(o)]) *
                           input_scale * conv.scale_of(o)));
  }
  return d;
}

namespace {

// `net` with `encodings`, each conv quantized by quantize(conv, its input scale, its name's conv
// of `net`: first, body i, last, anchor).
template <typename QuantizeConv>
QuantizedQuickSRNet quantize_each_conv(const QuickSRNet& net, const ActivationEncodings& encodings,
                                       const QuantizeConv& quantize) {
  net.check();
  if (encodings.features.size() != net.body.size() + 1) {
    throw Error("quantize_weights: " + std::to_string(encodings.features.size()) +
                " feature encodings for a net with " + std::to_string(net.body.size() + 1) +
                " feature maps");
  }
  QuantizedQuickSRNet q;
  q.config = net.config;
  q.input = encodings.input;
  q.features = encodings.features;
  q.output = encodings.output;
  q.first = quantize(
      net.first, q.input.scale, [](const QuantizedQuickSRNet& g) -> auto& { return g.first; });
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    q.body.push_back(quantize(
        net.body[i],
        q.features[i].scale, [i](const QuantizedQuickSRNet& g) -> auto& { return g.body.at(i); }));
  }
  q.last = quantize(
      net.last, q.features.back().scale,
      [](const QuantizedQuickSRNet& g) -> auto& { return g.last; });
  for (std::size_t i = 0; i < net.anchor.size(); ++i) {
    q.anchor.push_back(quantize(
        net.anchor[i],
        q.input.scale, [i](const QuantizedQuickSRNet& g) -> auto& { return g.anchor.at(i); }));
  }
  q.check();
  return q;
}

}  // namespace

QuantizedQuickSRNet quantize_weights(const QuickSRNet& net, const ActivationEncodings& encodings,
                                     WeightGranularity granularity) {
  return quantize_each_conv(net, encodings,
                            [granularity](const Conv2d& conv, float input_scale, const auto&) {
                              return quantize_conv(conv, input_scale, granularity);
                            });
}

QuantizedQuickSRNet quantize_weights(const QuickSRNet& net, const QuantizedQuickSRNet& grid) {
  grid.check();
  if (!(net.config == grid.config)) {
    throw Error("quantize_weights: the grid is " + grid.config.name() + ", the net " +
                net.config.name());
  }
  return quantize_each_conv(net, encodings_of(grid),
                            [&grid](const Conv2d& conv, float input_scale, const auto& of) {
                              return quantize_conv(conv, input_scale, of(grid).weight_scale);
                            });
}

ActivationEncodings encodings_of(const QuantizedQuickSRNet& net) {
  return ActivationEncodings{net.input, net.features, net.output};
}

QuickSRNet dequantize_weights(const QuantizedQuickSRNet& net) {
  net.check();
  QuickSRNet d = quicksrnet_geometry(net.config);
  d.first = dequantize_conv(net.first, net.input.scale);
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    d.body[i] = dequantize_conv(net.body[i], net.features[i].scale);
  }
  d.last = dequantize_conv(net.last, net.features.back().scale);
  for (std::size_t i = 0; i < net.anchor.size(); ++i) {
    d.anchor[i] = dequantize_conv(net.anchor[i], net.input.scale);
  }
  return d;
}

// ---- INT8 graphs

namespace {

// Calls visit(conv index, input tensor) for every conv node, transposed too (a conv reads one u8
// tensor).
template <typename Visit>
void for_each_conv_node(const Graph& graph, const Visit& visit) {
  for (const GraphNode& node : graph.nodes) {
    if (node.op == OpType::kConv || node.op == OpType::kConvTranspose) {
      visit(static_cast<std::size_t>(node.conv), node.inputs.at(0));
    }
  }
}

}  // namespace

QuantizedGraph quantize_graph_weights(const Graph& graph, std::vector<ActivationEncoding> encodings,
                                      WeightGranularity granularity) {
  check_graph(graph);
  check_int8_ops(graph);
  const Int8GraphLayout layout = int8_layout(graph);
  if (encodings.size() != layout.tensors.size()) {
    throw Error("quantize_graph_weights: " + std::to_string(encodings.size()) +
                " encodings for a graph with " + std::to_string(layout.tensors.size()) +
                " u8 tensors");
  }
  QuantizedGraph q;
  q.graph = graph;
  q.encodings = std::move(encodings);
  q.convs.resize(graph.convs.size());
  for_each_conv_node(graph, [&](std::size_t c, const std::string& input) {
    Conv2d conv = graph.convs[c];
    if (conv.bias.empty()) conv.bias.assign(static_cast<std::size_t>(conv.out_channels), 0.0f);
    q.convs[c] = quantize_conv(conv, q.encodings[layout.index.at(input)].scale, granularity);
  });
  for (Conv2d& conv : q.graph.convs) {
    conv.weight.clear();
    conv.bias.clear();
  }
  q.check();
  return q;
}

Graph dequantize_weights(const QuantizedGraph& net) {
  net.check();
  const Int8GraphLayout layout = int8_layout(net.graph);
  Graph graph = net.graph;
  for_each_conv_node(graph, [&](std::size_t c, const std::string& input) {
    graph.convs[c] = dequantize_conv(net.convs[c], net.encodings[layout.index.at(input)].scale);
  });
  return graph;
}

}  // namespace quicksr::quant
