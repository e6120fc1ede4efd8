#include "engine/plan.hpp"

#include <algorithm>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

namespace {

// Everything but the weights.
PackedConv3x3 pack_shape_and_bias(const Conv2d& conv, bool clamp, ConvAlgorithm algorithm) {
  PackedConv3x3 packed;
  packed.algorithm = algorithm;
  packed.in_channels = conv.in_channels;
  packed.out_channels = conv.out_channels;
  packed.padded_out_channels = (conv.out_channels + kConvGroup - 1) / kConvGroup * kConvGroup;
  packed.clamp = clamp;
  packed.bias.assign(packed.padded_out_channels, 0.0f);
  for (int o = 0; o < conv.out_channels && !conv.bias.empty(); ++o) packed.bias[o] = conv.bias[o];
  return packed;
}

}  // namespace

PackedConv3x3 pack_conv3x3(const Conv2d& conv, bool clamp) {
  PackedConv3x3 packed = pack_shape_and_bias(conv, clamp, ConvAlgorithm::kDirect);
  packed.weights.assign(static_cast<std::size_t>(packed.padded_out_channels) * conv.in_channels * 9,
                        0.0f);
  std::size_t index = 0;
  for (int group = 0; group < packed.padded_out_channels / kConvGroup; ++group) {
    for (int ci = 0; ci < conv.in_channels; ++ci) {
      for (int ky = 0; ky < 3; ++ky) {
        for (int kx = 0; kx < 3; ++kx) {
          for (int j = 0; j < kConvGroup; ++j, ++index) {
            const int o = group * kConvGroup + j;
            if (o < conv.out_channels) packed.weights[index] = conv.w(o, ci, ky, kx);
          }
        }
      }
    }
  }
  return packed;
}

PackedConv3x3 pack_winograd_conv3x3(const Conv2d& conv, bool clamp) {
  PackedConv3x3 packed = pack_shape_and_bias(conv, clamp, ConvAlgorithm::kWinogradF43);
  const int groups = packed.padded_out_channels / kConvGroup;
  packed.weights.assign(
      static_cast<std::size_t>(kWinogradPoints) * packed.padded_out_channels * conv.in_channels * 3,
      0.0f);
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int ci = 0; ci < conv.in_channels; ++ci) {
      for (int ky = 0; ky < 3; ++ky) {
        const double taps[3] = {conv.w(o, ci, ky, 0), conv.w(o, ci, ky, 1), conv.w(o, ci, ky, 2)};
        double points[kWinogradPoints];
        winograd_f43::transform_weights(taps, points);
        for (int k = 0; k < kWinogradPoints; ++k) {
          const std::size_t index =
              ((static_cast<std::size_t>(k * groups + o / kConvGroup) * conv.in_channels + ci) * 3 +
               ky) *
                  kConvGroup +
              o % kConvGroup;
          packed.weights[index] = static_cast<float>(points[k]);
        }
      }
    }
  }
  return packed;
}

namespace {

PackedTail1x1 pack_tail(const Conv2d& conv) {
  PackedTail1x1 tail;
  tail.in_channels = conv.in_channels;
  tail.weights.assign(static_cast<std::size_t>(conv.in_channels) * PackedTail1x1::kPaddedOutputs,
                      0.0f);
  tail.bias.assign(PackedTail1x1::kPaddedOutputs, 0.0f);
  for (int i = 0; i < conv.in_channels; ++i) {
    for (int o = 0; o < conv.out_channels; ++o) {
      tail.weights[static_cast<std::size_t>(i) * PackedTail1x1::kPaddedOutputs + o] =
          conv.w(o, i, 0, 0);
    }
  }
  for (int o = 0; o < conv.out_channels && !conv.bias.empty(); ++o) tail.bias[o] = conv.bias[o];
  return tail;
}

}  // namespace

std::size_t Plan::max_channels() const {
  std::size_t channels = 3;
  for (const PackedConv3x3& conv : convs) {
    channels = std::max<std::size_t>(channels, conv.padded_out_channels);
  }
  return channels;
}

Plan make_plan(const QuickSRNet& net) {
  net.check();
  Plan plan;
  plan.scale = net.config.scale;
  plan.half_scale = !net.config.scale.is_integer();
  plan.block = plan.half_scale ? 3 : net.config.scale.numerator;
  plan.order = net.config.order;
  plan.features = net.config.features;
  plan.convs.push_back(pack_conv3x3(net.first, true));
  for (const Conv2d& conv : net.body) plan.convs.push_back(pack_winograd_conv3x3(conv, true));
  if (plan.half_scale) {
    plan.tail = pack_tail(net.last);
  } else {
    plan.convs.push_back(pack_winograd_conv3x3(net.last, false));
  }
  if (!net.anchor.empty()) plan.anchor = net.anchor.front();
  return plan;
}

}  // namespace quicksr::engine
