#pragma once
// Re-ordering conv channels so that a depth-to-space / space-to-depth of another channel order
// produces the same image.
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr::onnx_io {

// For a tensor of `channels` = C * block^2 channels: result[new] = old, where `new` indexes the
// channel in order `to` and `old` the same (colour, dy, dx) in order `from`.
std::vector<int> block_channel_permutation(int channels, int block, ChannelOrder from,
                                           ChannelOrder to);

// Output channel o of the result is output channel permutation[o] of `conv` (weights and bias).
Conv2d permute_output_channels(const Conv2d& conv, const std::vector<int>& permutation);
// Input channel i of the result is input channel permutation[i] of `conv` (groups must be 1).
Conv2d permute_input_channels(const Conv2d& conv, const std::vector<int>& permutation);

}  // namespace quicksr::onnx_io
