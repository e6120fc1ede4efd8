// Weight packing for the f32 conv kernels; each config names the function its kernel reads.
#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

namespace {

int padded_channels(const Conv2d& conv, int channel_group) {
  return (conv.out_channels + channel_group - 1) / channel_group * channel_group;
}

}  // namespace

std::vector<float> pack_conv3x3_goi(const Conv2d& conv, int channel_group) {
  const int groups = padded_channels(conv, channel_group) / channel_group;
  std::vector<float> packed(static_cast<std::size_t>(groups) * channel_group * conv.in_channels * 9,
                            0.0f);
  std::size_t index = 0;
  for (int group = 0; group < groups; ++group) {
    for (int ci = 0; ci < conv.in_channels; ++ci) {
      for (int ky = 0; ky < 3; ++ky) {
        for (int kx = 0; kx < 3; ++kx) {
          for (int j = 0; j < channel_group; ++j, ++index) {
            const int o = group * channel_group + j;
            if (o < conv.out_channels) packed[index] = conv.w(o, ci, ky, kx);
          }
        }
      }
    }
  }
  return packed;
}

// Weights are transformed in double and rounded once.
std::vector<float> pack_winograd_f43_goi(const Conv2d& conv, int channel_group) {
  const int groups = padded_channels(conv, channel_group) / channel_group;
  std::vector<float> packed(
      static_cast<std::size_t>(kWinogradPoints) * groups * channel_group * conv.in_channels * 3,
      0.0f);
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int ci = 0; ci < conv.in_channels; ++ci) {
      for (int ky = 0; ky < 3; ++ky) {
        const double taps[3] = {conv.w(o, ci, ky, 0), conv.w(o, ci, ky, 1), conv.w(o, ci, ky, 2)};
        double points[kWinogradPoints];
        winograd_f43::transform_weights(taps, points);
        for (int k = 0; k < kWinogradPoints; ++k) {
          const std::size_t index =
              ((static_cast<std::size_t>(k * groups + o / channel_group) * conv.in_channels + ci) *
                   3 +
               ky) *
                  channel_group +
              o % channel_group;
          packed[index] = static_cast<float>(points[k]);
        }
      }
    }
  }
  return packed;
}

}  // namespace quicksr::engine
