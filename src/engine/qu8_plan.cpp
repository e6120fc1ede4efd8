#include "engine/qu8_plan.hpp"

#include <algorithm>
#include <string>

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

// `bounds`: the u8 clamp of the conv's activation (or of the final clip).
QU8PackedConv pack(const QConv2d& conv, const ActivationEncoding& in, const ActivationEncoding& out,
                   quant::ClampBounds bounds, const QU8Conv3x3Config& kernel, bool raw) {
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

QU8PlainConv plain(const QConv2d& conv, const ActivationEncoding& in,
                   const ActivationEncoding& out) {
  return {conv, in.zero_point, multipliers_of(conv, in, out, conv.out_channels)};
}

}  // namespace

int QU8Plan::max_groups() const {
  int groups = 1;
  for (const QU8PackedConv& conv : convs) {
    groups = std::max(groups, conv.padded_out_channels / kQu8Group);
  }
  return groups;
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
  plan.convs.push_back(
      pack(net.first, net.input, net.features[0], feature_bounds(0), kernel, false));
  for (int i = 0; i < config.blocks; ++i) {
    plan.convs.push_back(pack(net.body[i], net.features[i], net.features[i + 1],
                              feature_bounds(i + 1), kernel, false));
  }
  const bool raw = !net.anchor.empty();
  if (plan.half_scale) {
    plan.tail = pack(net.last, net.features.back(), net.output, plan.output_bounds, kernel, raw);
  } else {
    plan.convs.push_back(
        pack(net.last, net.features.back(), net.output, plan.output_bounds, kernel, raw));
  }
  if (!net.anchor.empty()) plan.anchor = plain(net.anchor.front(), net.input, net.output);
  return plan;
}

}  // namespace quicksr::engine
