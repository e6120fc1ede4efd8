#pragma once
// Per-value definitions of graph ops that the float reference runtime and the INT8 integer runtime
// share (docs/quantization.md "General graphs"): the lookup-table activations, pooling windows
// and the source positions of bilinear resizing. Sharing them is what makes QuantSim (the float
// runtime on quantized values) and the integer runtime agree.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "quicksr/error.hpp"
#include "quicksr/model.hpp"

namespace quicksr {

// Ops whose u8 output keeps its (first) input's encoding in an INT8 graph: depth-to-space and
// space-to-depth permute values, max pool selects them, bilinear resize interpolates between them.
inline bool keeps_input_encoding(OpType op) {
  return is_permutation(op) || op == OpType::kMaxPool || op == OpType::kResizeBilinear;
}

// LeakyReLU, Sigmoid and Tanh: the INT8 path runs them as u8 -> u8 lookup tables of this function.
inline bool is_table_activation(OpType op) {
  return op == OpType::kLeakyRelu || op == OpType::kSigmoid || op == OpType::kTanh;
}

// The float value of a table activation (is_table_activation) at v.
inline float table_activation_value(const GraphNode& node, float v) {
  switch (node.op) {
    case OpType::kLeakyRelu:
      return v < 0.0f ? v * node.alpha : v;
    case OpType::kSigmoid:
      return 1.0f / (1.0f + std::exp(-v));
    default:
      return std::tanh(v);
  }
}

struct PlaneSize {
  int height;
  int width;
};

// The output size of `window` over a height x width plane (floor rounding, as ONNX's default);
// throws when the window is larger than the padded input.
inline PlaneSize pooled_size(int height, int width, const Pool2d& window, const char* op_name) {
  if (window.kernel < 1 || window.stride < 1 ||
      height + window.pad_top + window.pad_bottom < window.kernel ||
      width + window.pad_left + window.pad_right < window.kernel) {
    throw Error(std::string(op_name) + " window is larger than the padded input " +
                std::to_string(height) + "x" + std::to_string(width));
  }
  return {(height + window.pad_top + window.pad_bottom - window.kernel) / window.stride + 1,
          (width + window.pad_left + window.pad_right - window.kernel) / window.stride + 1};
}

// Calls visit(y, x, top, bottom, left, right) for every output (y, x) of `window` over a
// height x width plane with its window clipped to the image, [top, bottom) x [left, right):
// padded positions are skipped (never empty: the checker keeps padding below the kernel).
template <typename Visit>
void for_each_pool_window(int height, int width, const Pool2d& window, const Visit& visit) {
  const PlaneSize out = pooled_size(height, width, window, "pool");
  for (int y = 0; y < out.height; ++y) {
    const int top = y * window.stride - window.pad_top;
    for (int x = 0; x < out.width; ++x) {
      const int left = x * window.stride - window.pad_left;
      visit(y, x, std::max(top, 0), std::min(top + window.kernel, height), std::max(left, 0),
            std::min(left + window.kernel, width));
    }
  }
}

// Source of one output position of a half-pixel bilinear resize along one axis (PyTorch's
// align_corners=False, the position clamped to the input): the lower and upper neighbours and
// the weight of the upper one.
struct BilinearTap {
  int lower;
  int upper;
  float weight;
};

// Throws when either size is below 1.
inline std::vector<BilinearTap> bilinear_taps(int in, int out) {
  if (in < 1 || out < 1) {
    throw Error("resize_bilinear of " + std::to_string(in) + " to " + std::to_string(out) +
                " pixels");
  }
  std::vector<BilinearTap> taps(static_cast<std::size_t>(out));
  const double ratio = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    const double source = std::clamp((i + 0.5) * ratio - 0.5, 0.0, static_cast<double>(in - 1));
    const int lower = static_cast<int>(source);
    taps[static_cast<std::size_t>(i)] = {lower, std::min(lower + 1, in - 1),
                                         static_cast<float>(source - lower)};
  }
  return taps;
}

}  // namespace quicksr
