#include "engine/qu8_plan.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "engine/qu8_channel_order.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

int round_up_group(int channels) { return (channels + kQu8Group - 1) / kQu8Group * kQu8Group; }

std::vector<float> multipliers_of(const QConv2d& conv, const ActivationEncoding& in,
                                  const ActivationEncoding& out, int padded) {
  std::vector<float> m(padded, 0.0f);
  for (int o = 0; o < conv.out_channels; ++o) {
    m[o] = quant::requant_multiplier(in.scale, conv.scale_of(o), out.scale);
  }
  return m;
}

std::size_t weight_index(const QConv2d& conv, int o, int i, int tap) {
  return (static_cast<std::size_t>(o) * conv.in_channels + i) * conv.kernel_h * conv.kernel_w + tap;
}

// The input rows repeat red in the fourth channel (qu8_kernels.hpp), so the first conv takes 4
// input channels and red's weight r is shared between channels 0 and 3: the byte pairs (R, G) and
// (B, R) then stay exact in s16 (qu8_exact_in_s16) wherever r, g and b allow it, and the AVX2
// kernel needs no residual pass there (the sums are the same on every kernel).
QConv2d with_red_shared(const QConv2d& first) {
  QConv2d conv = first;
  conv.in_channels = kQu8Group;
  const int taps = conv.kernel_h * conv.kernel_w;
  conv.weight.assign(static_cast<std::size_t>(conv.out_channels) * kQu8Group * taps, 0);
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int tap = 0; tap < taps; ++tap) {
      const int r = first.weight[weight_index(first, o, 0, tap)];
      const int g = first.weight[weight_index(first, o, 1, tap)];
      const int b = first.weight[weight_index(first, o, 2, tap)];
      // Weights of opposite signs cancel; of the same sign they share the bound.
      const int room = r * g > 0 ? kQu8ExactSumMagnitude - std::abs(g) : kQu8ExactSumMagnitude;
      const int with_green = std::clamp(r, -room, room);
      const int weights[kQu8Group] = {with_green, g, b, r - with_green};
      for (int i = 0; i < kQu8Group; ++i) {
        conv.weight[weight_index(conv, o, i, tap)] = static_cast<std::int8_t>(weights[i]);
      }
    }
  }
  return conv;
}

// The first conv as the 1x1 over its im2col rows: input channel b is byte b of kQu8Im2colBytes.
QConv2d as_im2col_1x1(const QConv2d& first) {
  QConv2d conv = first;
  conv.in_channels = kQu8Im2colGroups * kQu8Group;
  conv.kernel_h = conv.kernel_w = 1;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 0;
  conv.weight.assign(static_cast<std::size_t>(conv.out_channels) * conv.in_channels, 0);
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int b = 0; b < conv.in_channels; ++b) {
      const QU8Im2colByte source = kQu8Im2colBytes[b];
      if (source.colour < 0) continue;
      conv.weight[weight_index(conv, o, b, 0)] = first.w(o, source.colour, source.ky, source.kx);
    }
  }
  return conv;
}

// Output channel k of `producer` (and input channel k of `consumer`) becomes channel order[k].
void reorder_channels(QConv2d& producer, QConv2d& consumer, const std::vector<int>& order) {
  const QConv2d out = producer;
  const QConv2d in = consumer;
  const std::size_t out_size = out.weight.size() / out.out_channels;
  const int taps = in.kernel_h * in.kernel_w;
  for (int k = 0; k < out.out_channels; ++k) {
    std::copy_n(out.weight.begin() + order[k] * out_size, out_size,
                producer.weight.begin() + k * out_size);
    producer.bias[k] = out.bias[order[k]];
    if (out.per_channel()) producer.weight_scale[k] = out.weight_scale[order[k]];
    for (int o = 0; o < in.out_channels; ++o) {
      std::copy_n(in.weight.begin() + weight_index(in, o, order[k], 0), taps,
                  consumer.weight.begin() + weight_index(in, o, k, 0));
    }
  }
}

QU8PlainConv plain(const QConv2d& conv, const ActivationEncoding& in,
                   const ActivationEncoding& out) {
  return {conv, in.zero_point, multipliers_of(conv, in, out, conv.out_channels)};
}

}  // namespace

QU8PackedConv pack_qu8_conv(const QConv2d& conv, const ActivationEncoding& in,
                            const ActivationEncoding& out, quant::ClampBounds bounds,
                            const QU8Conv3x3Config& kernel, bool raw) {
  const int pad = conv.kernel_h / 2;
  if ((conv.kernel_h != 3 && conv.kernel_h != 1) || conv.kernel_w != conv.kernel_h ||
      conv.stride != 1 || conv.pad_top != pad || conv.pad_left != pad || conv.pad_bottom != pad ||
      conv.pad_right != pad) {
    throw Error("INT8 engine: expected a 3x3 stride-1 conv with padding 1, or a 1x1 one");
  }
  QU8PackedConv packed;
  packed.in_channels = conv.in_channels;
  packed.in_groups = round_up_group(conv.in_channels) / kQu8Group;
  packed.out_channels = conv.out_channels;
  packed.padded_out_channels = round_up_group(conv.out_channels);
  packed.pad_value = static_cast<std::uint8_t>(in.zero_point);
  packed.weights = kernel.pack(conv);
  packed.bias.assign(packed.padded_out_channels, 0);
  const std::size_t taps =
      static_cast<std::size_t>(conv.in_channels) * conv.kernel_h * conv.kernel_w;
  for (int o = 0; o < conv.out_channels; ++o) {
    long long sum = 0;
    for (std::size_t k = 0; k < taps; ++k) sum += conv.weight[o * taps + k];
    // Wraps like the s32 accumulators do; the final sums fit (checked with the model).
    packed.bias[o] = static_cast<std::int32_t>(static_cast<std::uint32_t>(
        static_cast<long long>(conv.bias[o]) - static_cast<long long>(in.zero_point) * sum));
  }
  packed.multipliers = multipliers_of(conv, in, out, packed.padded_out_channels);
  packed.zero_point = out.zero_point;
  packed.bounds = bounds;
  packed.raw = raw;
  return packed;
}

void run_qu8_conv(const QU8PackedConv& conv, QU8Conv3x3Fn kernel, const std::uint8_t* const* rows,
                  std::size_t stride, std::uint8_t* out, std::int32_t* raw_out, int col_begin,
                  int col_end) {
  QU8Conv3x3Args args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = rows[k];
  args.in_stride = stride;
  args.in_groups = conv.in_groups;
  args.weights = conv.weights.data();
  args.bias = conv.bias.data();
  args.multipliers = conv.multipliers.data();
  args.out_channels = conv.padded_out_channels;
  args.out = out;
  args.raw_out = conv.raw ? raw_out : nullptr;
  args.out_stride = stride;
  args.col_begin = col_begin;
  args.col_count = col_end - col_begin;
  args.zero_point = conv.zero_point;
  args.clamp_min = static_cast<float>(conv.bounds.lo - conv.zero_point);
  args.clamp_max = static_cast<float>(conv.bounds.hi - conv.zero_point);
  kernel(args);
}

QU8GraphTensors::QU8GraphTensors(const QuantizedGraph& net)
    : net_(net), layout_(int8_layout(net.graph)) {
  for (const GraphNode& node : net.graph.nodes) {
    for (const std::string& input : node.inputs) ++readers_[input];
  }
}

int QU8Plan::max_groups() const {
  int groups = 1;
  for (const QU8PackedConv& conv : convs) {
    groups = std::max(groups, conv.padded_out_channels / kQu8Group);
  }
  return groups;
}

std::vector<QU8PackedConv> pack_qu8_chain(std::vector<QU8ChainConv> chain,
                                          const QU8Conv3x3Config& kernel, bool raw_last) {
  QConv2d& first = chain.front().conv;
  first = kernel.first_conv_im2col ? as_im2col_1x1(first) : with_red_shared(first);
  // For the kernel that sums in s16 (the split packing's), the channels between two convs are
  // ordered for exact s16 sums; the other kernels do not care.
  for (std::size_t i = 0; kernel.pack == pack_qu8_conv3x3_s8x4_split && i + 1 < chain.size(); ++i) {
    reorder_channels(chain[i].conv, chain[i + 1].conv, s16_friendly_order(chain[i + 1].conv).order);
  }
  std::vector<QU8PackedConv> packed;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const QU8ChainConv& layer = chain[i];
    packed.push_back(pack_qu8_conv(layer.conv, layer.input, layer.output, layer.bounds, kernel,
                                   raw_last && i + 1 == chain.size()));
  }
  packed.front().im2col = kernel.first_conv_im2col;
  return packed;
}

QU8Plan make_qu8_plan(const QuantizedQuickSRNet& net, const QU8Conv3x3Config& kernel) {
  net.check();
  const QuickSRNetConfig& config = net.config;
  QU8Plan plan;
  static_cast<NetShape&>(plan) = NetShape::of(config);
  plan.input = net.input;
  plan.output = net.output;
  plan.output_bounds = quant::relu1_bounds(net.output);
  const auto feature_bounds = [&](int i) {
    return quant::activation_bounds(net.features[i], config.activation);
  };
  // The 3x3 convs in order: first, body..., and last for integer scales.
  std::vector<QU8ChainConv> chain{{net.first, net.input, net.features[0], feature_bounds(0)}};
  for (int i = 0; i < config.blocks; ++i) {
    chain.push_back({net.body[i], net.features[i], net.features[i + 1], feature_bounds(i + 1)});
  }
  const bool raw = !net.anchor.empty();
  if (!plan.half_scale) {
    chain.push_back({net.last, net.features.back(), net.output, plan.output_bounds});
  }
  // The anchored last conv (integer scales) or x1.5 tail keeps its s32 sums for the anchor sum.
  plan.convs = pack_qu8_chain(std::move(chain), kernel, raw && !plan.half_scale);
  if (plan.half_scale) {
    plan.tail =
        pack_qu8_conv(net.last, net.features.back(), net.output, plan.output_bounds, kernel, raw);
  }
  if (!net.anchor.empty()) plan.anchor = plain(net.anchor.front(), net.input, net.output);
  return plan;
}

}  // namespace quicksr::engine
