#pragma once
// INT8 micro-kernels (docs/quantization.md): u8 activations x s8 weights, exact s32 accumulation,
// float32 requantisation with the clamp fused into the store.
//
// Layout ("grouped"): a feature row holds its channels in groups of 4 interleaved per pixel, so
// one 32-bit word holds 4 input channels of one pixel, the operand of a `vpdpbusd` lane. Group g
// of buffer column x is the word at row + (g * stride + x) * 4 bytes. Kernels vectorise over
// pixels (16 per zmm) and broadcast the weights: any output channel count (12 for x2, 27 -> 28
// for x3) fills whole vectors, and the 4 output channels of a group pack into one store.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quicksr/engine.hpp"
#include "quicksr/model.hpp"

namespace quicksr::engine {

// Channels per word of a grouped row (and output channels per register tile).
inline constexpr int kQu8Group = 4;
// Every computed column range of an INT8 row starts and ends on a multiple of this many pixels.
inline constexpr int kQu8ColumnBlock = 16;

// One output row of a 3x3, stride-1 convolution over grouped u8 rows. The zero point of the
// input is already folded into `bias` (bias - zero_point_in * sum of the weights) and the rows
// are padded with that zero point outside the image, which gives exactly the padding rule.
struct QU8Conv3x3Args {
  const std::uint8_t* rows[3];  // input rows y-1, y, y+1 (grouped)
  std::size_t in_stride;        // pixels between channel groups of a row
  int in_groups;                // input channels / kQu8Group, rounded up
  const std::int32_t* weights;  // packed by the kernel's pack function
  const std::int32_t* bias;     // out_channels values, input zero point folded in
  const float* multipliers;     // out_channels values: input_scale * weight_scale / output_scale
  int out_channels;             // a multiple of kQu8Group
  // Requantised output (grouped), or, when raw_out is set, the s32 accumulators (channel o of
  // column x at raw_out + o * out_stride + x) for a requantisation done by the caller.
  std::uint8_t* out;
  std::int32_t* raw_out;
  std::size_t out_stride;  // pixels between channel groups (or channels, raw)
  int col_begin;           // first output column, >= 1 (column x reads x-1..x+1)
  int col_count;           // a multiple of kQu8ColumnBlock
  // q = clamp(nearbyint(float(acc) * m), clamp_min, clamp_max) + zero_point, the clamp bounds
  // being the u8 bounds minus the output zero point (docs/quantization.md).
  int zero_point;
  float clamp_min;
  float clamp_max;
};

using QU8Conv3x3Fn = void (*)(const QU8Conv3x3Args&);
// Packs OIHW s8 weights (3x3 or 1x1) for a kernel: per group of kQu8Group output channels, for
// each input group, ky and kx, `weight_words` words per output channel.
using QU8PackFn = std::vector<std::int32_t> (*)(const QConv2d& conv);

// A kernel configuration (as the f32 ones in kernels.hpp): the ISA, the register tile and the
// weight packing that goes with it. Output channels per tile are always kQu8Group (one word).
struct QU8Conv3x3Config {
  const char* name;
  Isa isa;
  int pixel_block;  // pixels per vector
  int tile_pixels;  // pixels of the widest register tile
  QU8Conv3x3Fn run;
  // The same tile for a 1x1 conv (the x1.5 tail's 4f -> 27 on space-to-depth features): reads
  // rows[0] only, column x from column x.
  QU8Conv3x3Fn run_1x1;
  QU8PackFn pack;
  // The network's first conv (3 input channels) runs as run_1x1 over im2col rows (QU8Im2colArgs):
  // 7 instead of 9 dot products per output vector.
  bool first_conv_im2col;
};

// Registry (configs.cpp): every INT8 3x3 config this build has, best ISA first, and the one the
// engine uses for an ISA level (the first whose ISA the level includes).
std::span<const QU8Conv3x3Config* const> qu8_conv3x3_configs();
const QU8Conv3x3Config& qu8_conv3x3_config(Isa level);

// Weight packings (packing.cpp): 4 s8 weights of one input group in a word (the vpdpbusd
// operand), or two words of s16 pairs (channels 0,2 and 1,3 of the group) for 4x16-avx2.
std::vector<std::int32_t> pack_qu8_conv3x3_s8x4(const QConv2d& conv);
std::vector<std::int32_t> pack_qu8_conv3x3_s16x2(const QConv2d& conv);

// `vpmaddubsw` adds the u8 x s8 products of a byte pair (channels 0,1 or 2,3 of a word) in s16
// with saturation, and the AVX2 kernel adds two such sums (`vpaddw`, wrapping) before widening
// them. On u8 inputs (0..255) weights whose positive ones sum to at most 128 and negative ones to
// at least -128 keep every such sum within 255 x 128 = 32640, so it is exact; weights of opposite
// signs cancel ((127, -128) is exact, (65, 64) is not).
inline constexpr int kQu8ExactSumMagnitude = 128;
inline bool qu8_exact_in_s16(std::span<const int> weights) {
  int positive = 0;
  int negative = 0;
  for (const int w : weights) (w > 0 ? positive : negative) += w;
  return positive <= kQu8ExactSumMagnitude && negative >= -kQu8ExactSumMagnitude;
}

// The packing of the exact `vpmaddubsw` kernel (4x16-avx2-split): the s8x4 words reduced so that
// for input groups 2m and 2m + 1 (the kernel's fused pair of groups) each "quad" (byte pair j of
// the one word with byte pair j of the other, same output channel and tap) is exact for
// qu8_exact_in_s16, and every byte pair of a last, unpaired group is; then the residual list that
// restores the rest: out_channels + 1 entry indices (channel o's entries are [start[o],
// start[o + 1])), then per entry two words, qu8_residual_position() of the input word and a
// residual s8x4 word whose byte pairs are exact (a word may have two entries). Trained weights
// leave a few % of words with a residual.
std::vector<std::int32_t> pack_qu8_conv3x3_s8x4_split(const QConv2d& conv);
inline constexpr std::int32_t qu8_residual_position(int in_group, int ky, int kx) {
  return in_group << 4 | ky << 2 | kx;
}

// The first conv (3x3 over the 3 input colours) as a 1x1 over "im2col" rows: per output pixel
// the 27 input bytes its 3x3 window reads, in kQu8Im2colGroups words instead of 9 taps of one word
// each (whose fourth byte repeats red), so 7 instead of 9 dot-product instructions per output
// vector. Byte b (group b / 4, byte b % 4) of output column x is colour `colour` of input pixel
// (x - 1 + kx, y - 1 + ky); the last byte is unused (0, with weight 0). Rows ky and their two
// words stay together; the three blues of kx = 2 share the last word.
struct QU8Im2colByte {
  int ky;
  int kx;
  int colour;  // -1: unused
};
inline constexpr int kQu8Im2colGroups = 7;
inline constexpr QU8Im2colByte kQu8Im2colBytes[kQu8Im2colGroups * kQu8Group] = {
    {0, 0, 0}, {0, 0, 1}, {0, 0, 2}, {0, 1, 0}, {0, 1, 1}, {0, 1, 2}, {0, 2, 0},
    {0, 2, 1}, {1, 0, 0}, {1, 0, 1}, {1, 0, 2}, {1, 1, 0}, {1, 1, 1}, {1, 1, 2},
    {1, 2, 0}, {1, 2, 1}, {2, 0, 0}, {2, 0, 1}, {2, 0, 2}, {2, 1, 0}, {2, 1, 1},
    {2, 1, 2}, {2, 2, 0}, {2, 2, 1}, {0, 2, 2}, {1, 2, 2}, {2, 2, 2}, {0, 0, -1}};

// One im2col row from the input rows y-1, y, y+1 (one group of R, G, B, R words, padded with the
// input zero point outside the image like every conv input).
struct QU8Im2colArgs {
  const std::uint8_t* rows[3];
  std::uint8_t* out;   // kQu8Im2colGroups groups
  std::size_t stride;  // pixels between groups of `out` (and of nothing else: rows have one)
  int col_begin;       // first output column, >= 1 (column x reads x-1..x+1)
  int col_count;       // a multiple of kQu8ColumnBlock
};

using QU8Im2colFn = void (*)(const QU8Im2colArgs&);

struct QU8Im2colConfig {
  const char* name;
  Isa isa;
  QU8Im2colFn run;
};

std::span<const QU8Im2colConfig* const> qu8_im2col_configs();
const QU8Im2colConfig& qu8_im2col_config(Isa level);

// The portable kernel (byte by byte).
void qu8_im2col_ukernel_scalar(const QU8Im2colArgs& args);

// Depth-to-space of one grouped u8 row of the last conv (integer scales, no anchor) into
// `scale` rows of interleaved 8-bit pixels of pixel_bytes bytes: byte b of output pixel
// (x * scale + dx, dy) is channel channels[(dy * scale + dx) * pixel_bytes + b] of pixel x, or
// left as it is where that entry is kQu8KeepByte (the alpha of RGBA/BGRA frames). The map sets
// the colour order (RGB or BGR; d2s_byte_map). The last output pixel's kept byte may lie past the
// row (a view starting at red with the fourth byte before it): kernels do not touch it.
struct QU8DepthToSpaceArgs {
  const std::uint8_t* in;        // grouped row, at the first pixel's column
  std::size_t in_stride;         // pixels between channel groups
  int pixels;                    // input pixels
  int scale;                     // 2..kQu8MaxDepthToSpaceScale
  const std::uint8_t* channels;  // scale * scale * pixel_bytes entries
  std::uint8_t* out;             // output row y * scale, at the first pixel's first byte
  std::ptrdiff_t out_row_step;   // bytes between output rows
  int pixel_bytes = 3;           // 3, or 4 with one kept byte
};
inline constexpr int kQu8MaxDepthToSpaceScale = 4;
inline constexpr std::uint8_t kQu8KeepByte = 0xFF;

// The channel map of QU8DepthToSpaceArgs for a depth-to-space of `order` at `scale` into pixels
// of pixel_bytes (3 or 4: the fourth kept), red first or blue first.
std::vector<std::uint8_t> d2s_byte_map(ChannelOrder order, int scale, int pixel_bytes,
                                       bool blue_first);

using QU8DepthToSpaceFn = void (*)(const QU8DepthToSpaceArgs&);

struct QU8DepthToSpaceConfig {
  const char* name;
  Isa isa;
  QU8DepthToSpaceFn run;
};

std::span<const QU8DepthToSpaceConfig* const> qu8_depth_to_space_configs();
const QU8DepthToSpaceConfig& qu8_depth_to_space_config(Isa level);

// The portable kernel (byte by byte), also the SIMD kernels' row end.
void qu8_depth_to_space_ukernel_scalar(const QU8DepthToSpaceArgs& args);

// 8-bit interleaved pixels into the words of one channel group (the network input row):
// word x = R, G, B, R of pixel x. The fourth channel repeats red so that the plan can share red's
// weight between two byte pairs (make_qu8_plan: exact `vpmaddubsw` pairs without a residual).
// Pixels are RGB, BGR, or those with a fourth byte (RGBA, BGRA); reads only colour bytes (the
// last pixel's fourth byte may lie past the row).
struct QU8InputRowArgs {
  const std::uint8_t* rgb;  // the first pixel's first byte
  int pixels;
  std::uint8_t* out;  // pixels words
  int pixel_bytes = 3;
  bool blue_first = false;
};

using QU8InputRowFn = void (*)(const QU8InputRowArgs&);

struct QU8InputRowConfig {
  const char* name;
  Isa isa;
  QU8InputRowFn run;
};

std::span<const QU8InputRowConfig* const> qu8_input_row_configs();
const QU8InputRowConfig& qu8_input_row_config(Isa level);

// The portable kernel (byte by byte), also the SIMD kernels' row end.
void qu8_input_row_ukernel_scalar(const QU8InputRowArgs& args);

// The scalar kernel on pixels [x, pixels): the end of a SIMD kernel's row.
void qu8_input_row_from(const QU8InputRowArgs& args, int x);

// The SIMD kernels' `vpshufb` mask for one 128-bit lane holding 4 pixels at its start: byte i
// takes byte `bytes[i]` of the lane, forming the words R, G, B, R of those pixels.
std::array<std::uint8_t, 16> qu8_input_row_lane_shuffle(int pixel_bytes, bool blue_first);

// out[i] = table[in[i]] for `count` bytes (in == out allowed): the u8 -> u8 ops of INT8 graphs
// (activation tables, requantisation of standalone activations and concat inputs).
struct QU8LutArgs {
  const std::uint8_t* table;  // 256 entries
  const std::uint8_t* in;
  std::uint8_t* out;
  std::size_t count;
};

using QU8LutFn = void (*)(const QU8LutArgs&);

struct QU8LutConfig {
  const char* name;
  Isa isa;
  QU8LutFn run;
};

std::span<const QU8LutConfig* const> qu8_lut_configs();
const QU8LutConfig& qu8_lut_config(Isa level);

// The portable kernel (byte by byte).
void qu8_lut_ukernel_scalar(const QU8LutArgs& args);

// The INT8 add of two u8 tensors (docs/quantization.md "General graphs": SESR's residuals), as
// quant::requantize_sum: each level minus its zero point, times its multiplier (float32 products,
// never fused), summed, clamped to [lo, hi] - zero_point, rounded to nearest even, plus the
// output's zero point.
struct QU8AddParams {
  int a_zero_point = 0;
  int b_zero_point = 0;
  float a_multiplier = 0.0f;
  float b_multiplier = 0.0f;
  int zero_point = 0;  // of the output
  int lo = 0;          // the output's u8 clamp (a fused ReLU / Clip, else the u8 range)
  int hi = 255;
};

// out[i] = the add of a[i] and b[i] for `count` bytes (out == a or out == b allowed).
struct QU8AddArgs {
  const std::uint8_t* a;
  const std::uint8_t* b;
  std::uint8_t* out;
  std::size_t count;
  const QU8AddParams* params;
};

using QU8AddFn = void (*)(const QU8AddArgs&);

struct QU8AddConfig {
  const char* name;
  Isa isa;
  QU8AddFn run;
};

std::span<const QU8AddConfig* const> qu8_add_configs();
const QU8AddConfig& qu8_add_config(Isa level);

// The portable kernel (quant::requantize_sum per byte), also the SIMD kernels' row end.
void qu8_add_ukernel_scalar(const QU8AddArgs& args);

// The configs, one per kernel file (the x86 ones are built only on x86).
extern const QU8Conv3x3Config qu8_conv3x3_4x96_avx512vnni_config;
extern const QU8Conv3x3Config qu8_conv3x3_4x64_avx512bw_config;
extern const QU8Conv3x3Config qu8_conv3x3_4x24_avxvnni_config;
extern const QU8Conv3x3Config qu8_conv3x3_4x16_avx2_split_config;
extern const QU8Conv3x3Config qu8_conv3x3_4x16_avx2_config;
extern const QU8Conv3x3Config qu8_conv3x3_scalar_config;
extern const QU8DepthToSpaceConfig qu8_depth_to_space_16_avx512bw_config;
extern const QU8DepthToSpaceConfig qu8_depth_to_space_4_avx2_config;
extern const QU8DepthToSpaceConfig qu8_depth_to_space_scalar_config;
extern const QU8Im2colConfig qu8_im2col_16_avx512bw_config;
extern const QU8Im2colConfig qu8_im2col_scalar_config;
extern const QU8InputRowConfig qu8_input_row_16_avx512bw_config;
extern const QU8InputRowConfig qu8_input_row_8_avx2_config;
extern const QU8InputRowConfig qu8_input_row_scalar_config;
extern const QU8LutConfig qu8_lut_64_avx512bw_config;
extern const QU8LutConfig qu8_lut_scalar_config;
extern const QU8AddConfig qu8_add_16_avx512f_config;
extern const QU8AddConfig qu8_add_8_avx2_config;
extern const QU8AddConfig qu8_add_scalar_config;

}  // namespace quicksr::engine
