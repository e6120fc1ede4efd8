#pragma once
// A QuantizedQuickSRNet rearranged for the INT8 engine: 3x3 convs (and the x1.5 tail's 1x1) with
// kernel-ready packed s8 weights, zero-point-folded s32 biases and float32 multipliers; the
// anchor sum and depth-to-space in plain integer code (docs/quantization.md, docs/engine.md).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
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
  // The first conv as a 1x1 over im2col rows (QU8Conv3x3Config::first_conv_im2col).
  bool im2col = false;
};

// The anchor conv (integer scales: 1x1, 3 -> 3s^2 on the input; x1.5: 3x3 stride 2, 3 -> 27),
// run by plain code.
struct QU8PlainConv {
  QConv2d conv;
  int input_zero_point = 0;
  std::vector<float> multipliers;  // quant::requant_multiplier per output channel
};

// An INT8 graph's input-to-output residual (ABPN): the input repeated s^2 times along channels
// (a concat, requantized into its own encoding; channel o is input colour o % 3) added to the
// last conv's u8 output, quant::requantize_sum into the output encoding with the add's fused clip,
// as docs/quantization.md "General graphs" defines add. Every encoding is per tensor, so the sum
// is a function of the two u8 levels alone: a table of them, computed with those rules.
struct QU8RepeatedInputAdd {
  std::vector<std::uint8_t> sum;  // [last conv level << 8 | input level]
};

struct QU8Plan : NetShape {
  ActivationEncoding input;
  ActivationEncoding output;
  quant::ClampBounds output_bounds;  // the final clip
  // first, body..., and for integer scales last.
  std::vector<QU8PackedConv> convs;
  std::optional<QU8PackedConv> tail;   // x1.5 only: 1x1, 4f -> 27 on space-to-depth features
  std::optional<QU8PlainConv> anchor;  // the input-to-output residual conv, when the net has one
  std::optional<QU8RepeatedInputAdd> repeated_input_add;  // INT8 graphs (ABPN)

  int conv_count() const { return static_cast<int>(convs.size()); }
  int net_size(int size) const { return half_scale ? size + (size & 1) : size; }
  int output_size(int size) const { return half_scale ? size * 3 / 2 : size * scale.numerator; }
  int max_groups() const;
};

// One 3x3 conv (stride 1, padding 1) of a chain, the encodings of its input and output and the
// u8 clamp of its activation.
struct QU8ChainConv {
  QConv2d conv;
  ActivationEncoding input;
  ActivationEncoding output;
  quant::ClampBounds bounds;
};

// Runs `conv` with `kernel` (its 3x3 or 1x1 tile) on one row: `rows` in (grouped, `stride`
// pixels between channel groups, as the output), buffer columns [col_begin, col_end), multiples of
// kQu8ColumnBlock, into `out`, or into `raw_out` for a raw conv.
void run_qu8_conv(const QU8PackedConv& conv, QU8Conv3x3Fn kernel, const std::uint8_t* const* rows,
                  std::size_t stride, std::uint8_t* out, std::int32_t* raw_out, int col_begin,
                  int col_end);

// One 3x3 stride-1 conv with padding 1, or a 1x1 one, packed for `kernel`: `in` and `out` are the
// encodings of its input and output, `bounds` the u8 clamp of its activation (or of the final
// clip); `raw` keeps the s32 sums (QU8PackedConv::raw).
QU8PackedConv pack_qu8_conv(const QConv2d& conv, const ActivationEncoding& in,
                            const ActivationEncoding& out, quant::ClampBounds bounds,
                            const QU8Conv3x3Config& kernel, bool raw = false);

// Packs a chain whose first conv reads the RGB input (3 channels) for `kernel`; the last conv
// keeps its s32 sums (QU8PackedConv::raw) when `raw_last`.
std::vector<QU8PackedConv> pack_qu8_chain(std::vector<QU8ChainConv> chain,
                                          const QU8Conv3x3Config& kernel, bool raw_last);

// Throws quicksr::Error when `net` fails QuantizedQuickSRNet::check().
QU8Plan make_qu8_plan(const QuantizedQuickSRNet& net, const QU8Conv3x3Config& kernel);

// The u8 tensors of an INT8 graph as the engine's planners read them (int8_layout): each one's
// encoding, the ReLU / Clip fused into a node, the tensor a node (with it) writes, readers.
class QU8GraphTensors {
 public:
  explicit QU8GraphTensors(const QuantizedGraph& net);
  const ActivationEncoding& encoding(const std::string& tensor) const {
    return net_.encodings[layout_.index.at(tensor)];
  }
  const GraphNode* fused(std::size_t node) const {
    const int activation = layout_.fused_activation[node];
    return activation < 0 ? nullptr : &net_.graph.nodes[activation];
  }
  const std::string& output_of(std::size_t node) const {
    const GraphNode* activation = fused(node);
    return activation == nullptr ? net_.graph.nodes[node].output : activation->output;
  }
  int readers(const std::string& tensor) const {
    const auto found = readers_.find(tensor);
    return found == readers_.end() ? 0 : found->second;
  }

 protected:
  const QuantizedGraph& net_;
  const Int8GraphLayout layout_;

 private:
  std::map<std::string, int> readers_;
};

// An INT8 graph that is a QuickSRNet-like chain (ABPN, with or without its residual: see
// qu8_chain_plan.cpp) packed for `kernel`. Throws quicksr::Error naming the first node that does
// not fit (qu8_chain_unsupported_reason), or the problem when `net` fails check().
QU8Plan make_qu8_chain_plan(const QuantizedGraph& net, const QU8Conv3x3Config& kernel);
std::optional<std::string> qu8_chain_unsupported_reason(const QuantizedGraph& net);

}  // namespace quicksr::engine
