#pragma once
// A QuantizedQuickSRNet rearranged for the INT8 engine: 3x3 convs (and the x1.5 tail's 1x1) with
// kernel-ready packed s8 weights, zero-point-folded s32 biases and float32 multipliers; the
// anchor sum and depth-to-space in plain integer code (docs/quantization.md, docs/engine.md).
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/kernels/qu8_kernels.hpp"
#include "engine/net_shape.hpp"
#include "quicksr/model.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::engine {

// A 3x3 stride-1 conv with padding 1, or the x1.5 tail's 1x1.
struct QU8PackedConv {
  int in_channels = 0;
  int in_groups = 0;
  int out_channels = 0;               // real count
  int padded_out_channels = 0;        // rounded up to kQu8Group
  std::uint8_t pad_value = 0;         // the input zero point: rows are padded with it
  std::vector<std::int32_t> weights;  // packed by the kernel's pack function
  std::vector<std::int32_t> bias;     // padded; bias - pad_value * sum of the weights
  std::vector<float> multipliers;     // padded; quant::requant_multiplier
  int zero_point = 0;                 // of the output
  quant::ClampBounds bounds;          // ReLU1 (or the final clip) in u8
  bool raw = false;  // the last conv (or x1.5 tail) of an anchored net: s32 sums for the anchor sum
};

// The anchor conv (integer scales: 1x1, 3 -> 3s^2 on the input; x1.5: 3x3 stride 2, 3 -> 27),
// run by plain code.
struct QU8PlainConv {
  QConv2d conv;
  int input_zero_point = 0;
  std::vector<float> multipliers;  // quant::requant_multiplier per output channel
};

struct QU8Plan : NetShape {
  ActivationEncoding input;
  ActivationEncoding output;
  quant::ClampBounds output_bounds;  // the final clip
  // first, body..., and for integer scales last.
  std::vector<QU8PackedConv> convs;
  std::optional<QU8PackedConv> tail;   // x1.5 only: 1x1, 4f -> 27 on space-to-depth features
  std::optional<QU8PlainConv> anchor;  // the input-to-output residual conv, when the net has one

  int conv_count() const { return static_cast<int>(convs.size()); }
  int net_size(int size) const { return half_scale ? size + (size & 1) : size; }
  int output_size(int size) const { return half_scale ? size * 3 / 2 : size * scale.numerator; }
  int max_groups() const;
};

// Throws quicksr::Error when `net` fails QuantizedQuickSRNet::check().
QU8Plan make_qu8_plan(const QuantizedQuickSRNet& net, const QU8Conv3x3Config& kernel);

}  // namespace quicksr::engine
