#pragma once
// Depth-to-space, space-to-depth and the x1.5 edge handling on any planar CHW tensor (fp32 Tensor,
// u8/s32 PlanarTensor): they only move values, so the float and the integer runtimes share them.
// Callers check the shapes (channels divisible by block^2, sizes divisible by block).
#include <algorithm>

#include "model/layout.hpp"

namespace quicksr {

template <typename Planar>
Planar depth_to_space_values(const Planar& x, int block, ChannelOrder order) {
  const int channels = x.channels / (block * block);
  Planar y(channels, x.height * block, x.width * block);
  for (int c = 0; c < channels; ++c) {
    for (int dy = 0; dy < block; ++dy) {
      for (int dx = 0; dx < block; ++dx) {
        const int source = block_channel(c, dy, dx, block, channels, order);
        for (int row = 0; row < x.height; ++row) {
          for (int col = 0; col < x.width; ++col) {
            y.at(c, row * block + dy, col * block + dx) = x.at(source, row, col);
          }
        }
      }
    }
  }
  return y;
}

template <typename Planar>
Planar space_to_depth_values(const Planar& x, int block, ChannelOrder order) {
  Planar y(x.channels * block * block, x.height / block, x.width / block);
  for (int c = 0; c < x.channels; ++c) {
    for (int dy = 0; dy < block; ++dy) {
      for (int dx = 0; dx < block; ++dx) {
        const int target = block_channel(c, dy, dx, block, x.channels, order);
        for (int row = 0; row < y.height; ++row) {
          for (int col = 0; col < y.width; ++col) {
            y.at(target, row, col) = x.at(c, row * block + dy, col * block + dx);
          }
        }
      }
    }
  }
  return y;
}

// Odd heights and widths grown by one, repeating the last row / column (x1.5 input).
template <typename Planar>
Planar replicate_to_even(const Planar& x) {
  Planar y(x.channels, x.height + x.height % 2, x.width + x.width % 2);
  for (int c = 0; c < y.channels; ++c) {
    for (int row = 0; row < y.height; ++row) {
      for (int col = 0; col < y.width; ++col) {
        y.at(c, row, col) = x.at(c, std::min(row, x.height - 1), std::min(col, x.width - 1));
      }
    }
  }
  return y;
}

// The top-left height x width of x (x1.5 output).
template <typename Planar>
Planar crop_top_left(const Planar& x, int height, int width) {
  Planar y(x.channels, height, width);
  for (int c = 0; c < y.channels; ++c) {
    for (int row = 0; row < height; ++row) {
      for (int col = 0; col < width; ++col) y.at(c, row, col) = x.at(c, row, col);
    }
  }
  return y;
}

}  // namespace quicksr
