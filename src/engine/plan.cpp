#include "engine/plan.hpp"

#include <algorithm>

namespace quicksr::engine {

namespace {

PackedConv3x3 pack(const Conv2d& conv, bool clamp, ConvAlgorithm algorithm, int channel_group,
                   PackWeightsFn pack_weights) {
  PackedConv3x3 packed;
  packed.algorithm = algorithm;
  packed.in_channels = conv.in_channels;
  packed.out_channels = conv.out_channels;
  packed.padded_out_channels =
      (conv.out_channels + channel_group - 1) / channel_group * channel_group;
  packed.clamp = clamp;
  packed.weights = pack_weights(conv, channel_group);
  packed.bias.assign(packed.padded_out_channels, 0.0f);
  for (int o = 0; o < conv.out_channels && !conv.bias.empty(); ++o) packed.bias[o] = conv.bias[o];
  return packed;
}

PackedTail1x1 pack_tail(const Conv2d& conv) {
  PackedTail1x1 tail;
  tail.in_channels = conv.in_channels;
  tail.weights.assign(static_cast<std::size_t>(conv.in_channels) * kHalfScalePaddedOutputs, 0.0f);
  tail.bias.assign(kHalfScalePaddedOutputs, 0.0f);
  for (int i = 0; i < conv.in_channels; ++i) {
    for (int o = 0; o < conv.out_channels; ++o) {
      tail.weights[static_cast<std::size_t>(i) * kHalfScalePaddedOutputs + o] = conv.w(o, i, 0, 0);
    }
  }
  for (int o = 0; o < conv.out_channels && !conv.bias.empty(); ++o) tail.bias[o] = conv.bias[o];
  return tail;
}

}  // namespace

PackedConv3x3 pack_conv3x3(const Conv2d& conv, bool clamp, const F32ConvConfig& config) {
  return pack(conv, clamp, ConvAlgorithm::kDirect, config.channel_group, config.pack);
}

PackedConv3x3 pack_conv3x3(const Conv2d& conv, bool clamp, const F32WinogradConfig& config) {
  return pack(conv, clamp, ConvAlgorithm::kWinogradF43, config.channel_group, config.pack);
}

std::size_t Plan::max_channels() const {
  std::size_t channels = 3;
  for (const PackedConv3x3& conv : convs) {
    channels = std::max<std::size_t>(channels, conv.padded_out_channels);
  }
  return channels;
}

Plan make_plan(const QuickSRNet& net, const F32Kernels& kernels) {
  net.check();
  Plan plan;
  static_cast<NetShape&>(plan) = NetShape::of(net.config);
  plan.convs.push_back(pack_conv3x3(net.first, true, *kernels.direct));
  for (const Conv2d& conv : net.body)
    plan.convs.push_back(pack_conv3x3(conv, true, *kernels.winograd));
  for (PackedConv3x3& conv : plan.convs)
    conv.clamp_max = activation_upper_bound(net.config.activation);
  if (plan.half_scale) {
    plan.tail = pack_tail(net.last);
  } else {
    plan.convs.push_back(pack_conv3x3(net.last, false, *kernels.winograd));
  }
  if (!net.anchor.empty()) plan.anchor = net.anchor.front();
  return plan;
}

}  // namespace quicksr::engine
