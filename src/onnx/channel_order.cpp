#include "onnx/channel_order.hpp"

#include <algorithm>
#include <cassert>
#include <cstddef>

#include "model/layout.hpp"

namespace quicksr::onnx_io {

std::vector<int> block_channel_permutation(int channels, int block, ChannelOrder from,
                                           ChannelOrder to) {
  const int offsets = block * block;
  assert(channels % offsets == 0);
  const int colours = channels / offsets;
  std::vector<int> permutation(channels);
  for (int colour = 0; colour < colours; ++colour) {
    for (int dy = 0; dy < block; ++dy) {
      for (int dx = 0; dx < block; ++dx) {
        permutation[block_channel(colour, dy, dx, block, colours, to)] =
            block_channel(colour, dy, dx, block, colours, from);
      }
    }
  }
  return permutation;
}

Conv2d permute_output_channels(const Conv2d& conv, const std::vector<int>& permutation) {
  assert(static_cast<int>(permutation.size()) == conv.out_channels);
  Conv2d result = conv;
  const std::size_t per_output = conv.weight.size() / conv.out_channels;
  for (int o = 0; o < conv.out_channels; ++o) {
    std::copy_n(conv.weight.begin() + permutation[o] * per_output, per_output,
                result.weight.begin() + o * per_output);
    if (!conv.bias.empty()) result.bias[o] = conv.bias[permutation[o]];
  }
  return result;
}

Conv2d permute_input_channels(const Conv2d& conv, const std::vector<int>& permutation) {
  assert(conv.groups == 1 && static_cast<int>(permutation.size()) == conv.in_channels);
  Conv2d result = conv;
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int i = 0; i < conv.in_channels; ++i) {
      for (int ky = 0; ky < conv.kernel_h; ++ky) {
        for (int kx = 0; kx < conv.kernel_w; ++kx) {
          result.w(o, i, ky, kx) = conv.w(o, permutation[i], ky, kx);
        }
      }
    }
  }
  return result;
}

}  // namespace quicksr::onnx_io
