#pragma once
// An INT8 graph (docs/quantization.md "General graphs") compiled for the INT8 engine's
// general-graph path: XLSR, SESR (collapsed), ESPCN... Steps in graph order over u8 tensors in
// the grouped layout of qu8_kernels.hpp, run band by band (graph_bands.hpp); every step follows the
// integer rules exactly, so the output is bit-identical to quant::forward(QuantizedGraph):
// - convs (stride 1, "same" padding) on the qu8-conv3x3 configs: 3x3 on the 3x3 tile, 1x1 on the
//   1x1 tile, any other k x k as a 1x1 conv over rows of the input's k * k shifted copies; a
//   grouped conv group by group when its groups hold whole channel words, else densified; a
//   following Tanh / Sigmoid / LeakyReLU as a table on each output row;
// - u8 -> u8 ops as tables of the rules: activations (256 entries), concat (256 per input); add
//   computed by the qu8-add kernels with the reference's float32 arithmetic;
// - depth-to-space inside the graph (EDSR's upsampler) as a permutation of u8 values: the tensors
//   after it have b times the rows and columns (GraphBands derives their rows);
// - ERFDN's spatial attention: a strided conv without padding (its stride-1 row on the tile, every
//   stride-th column kept), a max pool without padding, a half-pixel bilinear resize to another
//   tensor's size (u8 values, the reference's fixed-point taps) and mul (a table of the
//   requantized products of every level pair);
//   their row maps are not translations by the band (GraphBands::is_local() false);
// - concats whose inputs do not start on channel words (ERFDN's 25- and 50-channel parts) as a
//   copy of each channel through its input's table;
// - the graph output is the depth-to-space of a tensor at the input's resolution (written as RGB
//   by the depth-to-space kernel), or a 3-channel tensor at the output's resolution (EDSR's tail).
// Graphs with other ops or shapes are refused: qu8_graph_unsupported_reason() names the node.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph_bands.hpp"
#include "engine/qu8_plan.hpp"

namespace quicksr::engine {

// The largest conv kernel the path takes (its tensors' margins hold half of it).
inline constexpr int kQu8GraphMaxKernel = 9;

// A conv per group of channels. Part p (of conv groups) reads input channel groups
// [p * in_groups, ...) and writes output channel groups [p * padded_out_channels / kQu8Group, ...);
// it is parts[p * rotations() + rotation], one packing per ring rotation for a shifted conv.
struct QU8GraphConv {
  int tile_kernel = 3;  // the tile that runs it: 3 (3x3) or 1 (1x1)
  int shifted = 0;      // k for a k x k conv run on the 1x1 tile over k * k shifted copies, else 0
  int in_groups = 0;    // channel groups of the input tensor a part reads (before the shifts)
  int factor = 1;       // the resolution of its input and output (QU8GraphTensor::factor)
  int stride = 1;       // > 1: no padding; output column x is the tile's column x * stride + k / 2
  std::vector<QU8PackedConv> parts;
  std::vector<std::uint8_t> row_table;  // 256 levels applied to every output row, or empty
  int rotations() const { return shifted != 0 ? shifted : 1; }
  int part_count() const { return static_cast<int>(parts.size()) / rotations(); }
};

enum class QU8GraphStepKind {
  kConv,
  kTable,
  kAdd,
  kConcat,
  kDepthToSpace,
  kMaxPool,
  kResize,
  kMul
};

struct QU8GraphStep {
  QU8GraphStepKind kind = QU8GraphStepKind::kConv;
  std::vector<int> inputs;  // tensor indices
  int output = 0;
  int conv = -1;  // kConv: index into QU8GraphPlan::convs
  // kTable: 256 levels; kConcat: 256 per input, in input order; kMul: 65536, the output level of
  // levels a, b at a * 256 + b (every encoding is per tensor).
  std::vector<std::uint8_t> table;
  bool words = true;  // kConcat: every input starts on a channel word (whole words through tables)
  QU8AddParams add;   // kAdd
  int block = 1;      // kDepthToSpace: its block and channel order
  ChannelOrder order = ChannelOrder::kCRD;
  int window = 1;  // kMaxPool: its square window and stride (no padding)
  int stride = 1;
  int resize_to = -1;  // kResize: the tensor whose size it takes (inputs[1], not read)
};

struct QU8GraphTensor {
  int channels = 0;
  int groups = 0;               // channel words per pixel (padded conv outputs included)
  std::uint8_t zero_point = 0;  // also the padding value of its margins
  int factor = 1;               // resolution: factor x the input's rows and columns, or 1 for
                                // ESA's shrunk tensors (their sizes: GraphBands::lengths)
};

struct QU8GraphPlan {
  std::vector<QU8GraphTensor> tensors;
  std::vector<QU8GraphStep> steps;
  std::vector<QU8GraphConv> convs;
  GraphBands bands;  // each tensor's rows per band of output rows (the convs' row reach)
  int input = 0;     // the RGB input (one group: R, G, B, R as the input rows)
  int output = 0;    // the tensor whose depth-to-space (or itself: output_block 1) is the output
  int scale = 2;
  int output_block =
      2;  // the output's depth-to-space block: scale, or 1 (RGB rows at factor scale)
  ChannelOrder order = ChannelOrder::kCRD;
  ActivationEncoding output_encoding;
  double macs_per_pixel = 0.0;  // executed (padded channels and shifted copies included)
};

// Why the general-graph path cannot run `net`, or nothing. Throws quicksr::Error when `net`
// fails check().
std::optional<std::string> qu8_graph_unsupported_reason(const QuantizedGraph& net);
// Throws quicksr::Error with that reason.
QU8GraphPlan make_qu8_graph_plan(const QuantizedGraph& net, const QU8Conv3x3Config& kernel);

}  // namespace quicksr::engine
