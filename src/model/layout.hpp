#pragma once
// Shapes of convolutions and of QuickSRNet without allocating weights: the loader checks a file
// against them before it trusts any size, and zeros()/check() build on them.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr {

// Largest depth-to-space / space-to-depth block a graph may use.
inline constexpr int kMaxBlockSize = 16;
inline constexpr int kMinFeatures = 3;
inline constexpr int kMaxFeatures = 1024;
inline constexpr int kMaxBlocks = 64;

// Geometry of a stride-1 conv with "same" padding for odd kernels; weight and bias left empty.
Conv2d conv_geometry(int in_channels, int out_channels, int kernel, int groups = 1);
std::size_t weight_count(const Conv2d& conv);
// OIHW, or IOHW for a transposed conv (as ONNX and PyTorch store them).
std::vector<std::int64_t> weight_shape(const Conv2d& conv);
// A uniform draw in [0, 1) from the raw 64-bit engine output (not std::uniform_real_distribution)
// so that a seed gives the same weights with every standard library.
double uniform_unit(std::mt19937_64& engine);
// PyTorch's default conv init: kaiming_uniform_(a = sqrt(5)) on the weight gives
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias uses the same bound. Fills the allocated values.
void fill_uniform(Conv2d& conv, std::mt19937_64& engine);
// Sizes weight and bias for the geometry (bias: one per output channel), all zero.
void allocate_zero_weights(Conv2d& conv);

// Throws quicksr::Error unless features, blocks and scale are in range (scale 2, 3, 4 or 1.5).
void check_quicksrnet_config(const QuickSRNetConfig& config);
// The network for `config` with every conv's geometry set and no weights allocated.
QuickSRNet quicksrnet_geometry(const QuickSRNetConfig& config);

// Channel of colour `c` at sub-pixel (dy, dx) of a block x block tile in depth-to-space /
// space-to-depth with `colours` channels on the spatial side (ChannelOrder in model.hpp).
int block_channel(int c, int dy, int dx, int block, int colours, ChannelOrder order);

// The convs in execution order with their names: "first", "body.0", ..., "last", "anchor".
std::vector<std::pair<std::string, const Conv2d*>> named_convs(const QuickSRNet& net);
std::vector<std::pair<std::string, Conv2d*>> named_convs(QuickSRNet& net);
std::vector<std::pair<std::string, const QConv2d*>> named_convs(const QuantizedQuickSRNet& net);
std::vector<std::pair<std::string, QConv2d*>> named_convs(QuantizedQuickSRNet& net);

// The INT8 net of `config` with every conv's geometry set, no weights, default encodings.
QuantizedQuickSRNet quantized_geometry(const QuickSRNetConfig& config);

// Copies what QConv2d and Conv2d share: channels, kernel, stride, padding, groups, transposition.
template <typename To, typename From>
To with_geometry_of(const From& from) {
  To to;
  to.in_channels = from.in_channels;
  to.out_channels = from.out_channels;
  to.kernel_h = from.kernel_h;
  to.kernel_w = from.kernel_w;
  to.stride = from.stride;
  to.pad_top = from.pad_top;
  to.pad_left = from.pad_left;
  to.pad_bottom = from.pad_bottom;
  to.pad_right = from.pad_right;
  to.groups = from.groups;
  to.transposed = from.transposed;
  to.output_padding = from.output_padding;
  return to;
}

// The output channel that weight `index` of a conv (OIHW) or transposed conv (IOHW: input channel
// i of group g feeds outputs g * out / groups + j) belongs to, for per-channel scales.
template <typename Conv>
int weight_output_channel(const Conv& conv, std::size_t index) {
  const std::size_t taps = static_cast<std::size_t>(conv.kernel_h) * conv.kernel_w;
  const auto in_per_group = static_cast<std::size_t>(conv.in_channels / conv.groups);
  if (!conv.transposed) return static_cast<int>(index / (taps * in_per_group));
  const auto out_per_group = static_cast<std::size_t>(conv.out_channels / conv.groups);
  const std::size_t group = index / (taps * out_per_group) / in_per_group;
  return static_cast<int>(group * out_per_group + index / taps % out_per_group);
}

}  // namespace quicksr
