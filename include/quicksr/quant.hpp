#pragma once
// INT8 (W8A8) QuickSRNet: u8 activations (scale, zero point), s8 symmetric weights (per output
// channel or per tensor), s32 bias and accumulation, float32 requantisation with a fused clamp.
// The integer semantics are written down once in docs/quantization.md; the integer reference
// runtime (quicksr::quant::forward) implements them plainly and is the oracle of the INT8 engine.
#include <cstdint>
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr {

// real = scale * (q - zero_point), q in [0, 255].
struct ActivationEncoding {
  float scale = 1.0f / 255.0f;
  int zero_point = 0;
  friend bool operator==(const ActivationEncoding&, const ActivationEncoding&) = default;
};

// A convolution with s8 weights (symmetric, [-127, 127]) and s32 bias. Geometry as in Conv2d.
struct QConv2d {
  int in_channels = 0;
  int out_channels = 0;
  int kernel_h = 3;
  int kernel_w = 3;
  int stride = 1;
  int pad_top = 1, pad_left = 1, pad_bottom = 1, pad_right = 1;
  std::vector<std::int8_t> weight;   // OIHW, out * in * kh * kw
  std::vector<float> weight_scale;   // out values (per channel) or 1 value (per tensor)
  std::vector<std::int32_t> bias;    // out values, in units of input_scale * weight_scale[o]

  float scale_of(int o) const { return weight_scale.size() == 1 ? weight_scale[0] : weight_scale[o]; }
  bool per_channel() const { return weight_scale.size() != 1; }
};

// The QuickSRNet chain with an activation encoding after every quantizer (docs/quantization.md):
// the input (fixed: the 8-bit image, scale 1/255, zero point 0), each conv + ReLU1 output, and the
// final output (after the last conv, plus the anchor for Large, clipped to [0, 1]).
struct QuantizedQuickSRNet {
  QuickSRNetConfig config;
  QConv2d first;
  std::vector<QConv2d> body;
  QConv2d last;
  std::vector<QConv2d> anchor;  // empty, or the anchor conv (reads the input)

  ActivationEncoding input;
  std::vector<ActivationEncoding> features;  // 1 + m: after first, after each body conv
  ActivationEncoding output;
};

}  // namespace quicksr
