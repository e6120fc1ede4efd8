#pragma once
// Micro-kernel interfaces and their configurations.
//
// Layout ("row-planar"): a row of a feature map holds each channel's pixels contiguously,
// channel c at row + c * stride, so kernels vectorise over pixels and every output channel count
// (32, 12, 27...) fills whole vectors. One file per micro-kernel, named like XNNPACK
// (kernels/<operation>/<tile>-<isa>.cpp). Each kernel file also defines the kernel's *config*
// (as XNNPACK's gemm configs do): its ISA, register tile (output channels per group, pixels or
// tiles per vector and per pass), and the function that packs weights for it. The planner, the
// band runner and the workspace take every size from the configs chosen for the ISA (configs.cpp),
// never from global constants, so an AVX-512 or INT8 kernel picks its own tile.
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "quicksr/engine.hpp"
#include "quicksr/model.hpp"

namespace quicksr::engine {

// Channel index of (colour or feature c, sub-pixel dy, dx) in a depth-to-space / space-to-depth
// tensor with `channels` groups and block `block`.
inline int d2s_channel(ChannelOrder order, int channels, int block, int c, int dy, int dx) {
  return order == ChannelOrder::kCRD ? (c * block + dy) * block + dx
                                     : (dy * block + dx) * channels + c;
}

// Packs an OIHW conv's weights for a kernel whose register tile covers `channel_group` output
// channels (channels past the real count are zero).
using PackWeightsFn = std::vector<float> (*)(const Conv2d& conv, int channel_group);

// Direct kernels (any kernel size): per group of channel_group output channels,
// [in_channel][ky][kx][group]. Output channels are padded to a multiple of channel_group.
std::vector<float> pack_conv_goi(const Conv2d& conv, int channel_group);
// The same with output channels padded to a multiple of channel_group but packed in blocks of
// `block` (a multiple of channel_group), the last block narrower when the padded count is not a
// multiple of `block` (e.g. 12 channels as one block of 8 and one of 4).
std::vector<float> pack_conv_goi_blocks(const Conv2d& conv, int channel_group, int block);

// ---------------------------------------------------------------------------------------------
// One output row of a stride-1 kernel_h x kernel_w convolution, bias and an optional ReLU / ReLU1
// clamp fused into the store. Two families of kernels take it: f32-conv (any kernel size: the 1x1
// and 5x5 convs of general graphs) and f32-conv3x3 (kernel_h = kernel_w = 3 only: every direct 3x3
// conv, in the QuickSRNet band pipeline and in general graphs).
struct F32ConvArgs {
  // kernel_h input rows (tap ky reads rows[ky]), each shifted so that output column col, tap kx,
  // channel c reads rows[ky][c * in_stride + col + kx].
  const float* const* rows;
  std::size_t in_stride;  // floats between channels of a row
  int in_channels;
  int kernel_h;
  int kernel_w;
  const float* weights;  // packed by the config's pack function
  const float* bias;     // out_channels values
  int out_channels;      // a multiple of the config's channel_group
  float* out;            // channel c at out + c * out_stride
  std::size_t out_stride;
  int col_begin;
  int col_count;           // a multiple of the config's pixel_block
  bool clamp;              // clamp to [0, clamp_max] after the bias
  float clamp_max = 1.0f;  // 1 for ReLU1, +infinity for ReLU
};

using F32ConvFn = void (*)(const F32ConvArgs&);

struct F32ConvConfig {
  const char* name;
  Isa isa;
  int channel_group;  // output channels per register tile; weights are packed per group
  int pixel_block;    // pixels per vector: column counts are multiples of it
  F32ConvFn run;
  PackWeightsFn pack;
};

// The portable kernel of any size (kernels/f32-conv/scalar.cpp), also the scalar 3x3 one: tiles of
// 4 output channels x 8 pixels.
void f32_conv_ukernel_scalar(const F32ConvArgs& args);
inline constexpr int kF32ScalarConvGroup = 4;
inline constexpr int kF32ScalarConvPixels = 8;

// ---------------------------------------------------------------------------------------------
// Winograd F(4,3) along x: a 3x3 conv is three 1x3 row convs (one per ky), and each of those
// computes 4 output pixels from 6 inputs with 6 multiplies instead of 12, so a 3x3 conv costs
// 6 x 3 = 18 multiplies per 4 pixels and input channel instead of 36 (2x fewer). Rows stay whole
// (no row pairs), so the one-row band pipeline is unchanged. Tile t covers pixels 4t..4t+3 of
// the buffer, whose column 0 is a multiple of 8 in image coordinates: tiles sit on fixed image
// columns, whatever the band or strip.
//
// Two row layouts, both with `tile_stride` floats per plane (plane = one row of tiles):
// - phase-split (a layer's output): pixel 4t + j of channel c at row + (c * 4 + j) * tile_stride
//   + t, so the 6 inputs of every tile are plain unaligned vector loads of neighbouring tiles;
// - transformed (a Winograd layer's input): point k of channel c at row + (k * channels + c) *
//   tile_stride + t, i.e. six ordinary row-planar rows, one per Winograd point.
inline constexpr int kWinogradTile = 4;    // output pixels per tile
inline constexpr int kWinogradPoints = 6;  // transformed values per tile (tile + 2)

// Winograd kernels: each kernel row transformed (G w), then per point k and group of
// channel_group output channels, [in_channel][ky][group].
std::vector<float> pack_winograd_f43_goi(const Conv2d& conv, int channel_group);

// Phase-split row -> transformed row (B^T d per tile), for tiles [tile_begin, tile_begin +
// tile_count); reads the neighbouring tiles tile_begin - 1 and tile_begin + tile_count.
struct F32WinogradInputArgs {
  const float* in;  // phase-split
  float* out;       // transformed
  std::size_t tile_stride;
  int channels;
  int tile_begin;  // >= 1
  int tile_count;  // a multiple of the config's tile_block
};

// One output row of a 3x3 conv from three transformed input rows: per point k a row-planar
// 3x1 conv over the rows, then the output transform (A^T m), bias and optional ReLU1 / ReLU clamp.
struct F32WinogradConvArgs {
  const float* rows[3];  // transformed input rows y-1, y, y+1
  std::size_t tile_stride;
  int in_channels;
  const float* weights;  // packed by the config's pack function
  const float* bias;     // out_channels values
  int out_channels;      // a multiple of the config's channel_group
  float* out;            // phase-split
  int tile_begin;
  int tile_count;          // a multiple of the config's tile_block
  bool clamp;              // clamp to [0, clamp_max] after the bias
  float clamp_max = 1.0f;  // 1 for ReLU1, +infinity for ReLU
  // kWinogradPoints x out_channels x chunk_tiles floats: the products of one chunk of tiles,
  // before the output transform.
  float* scratch;
};

using F32WinogradInputFn = void (*)(const F32WinogradInputArgs&);
using F32WinogradConvFn = void (*)(const F32WinogradConvArgs&);

struct F32WinogradConfig {
  const char* name;        // the conv kernel
  const char* input_name;  // the input-transform kernel
  Isa isa;
  int channel_group;  // output channels per register tile; weights are packed per group
  int tile_block;     // tiles per vector: tile counts are multiples of it
  int chunk_tiles;    // tiles per pass over the output groups (sizes the scratch)
  F32WinogradConvFn conv;
  F32WinogradInputFn input;
  PackWeightsFn pack;
};

// ---------------------------------------------------------------------------------------------
// The tail: the last conv's output rows to output pixels.

// Integer scale s: one row of the last conv's output (3 s^2 channels, row-planar) plus the
// anchor (if any), clip [0, 1], depth-to-space(s) into output rows y*s..y*s+s-1. Views of Sample
// float or 8-bit (8-bit frame buffers: samples read as sample_to_unit, written as unit_to_sample,
// common/samples.hpp, the pixels of the float view rounded as the image writers round).
template <typename Sample>
struct F32DepthToSpaceArgs {
  const float* values;  // channel ch, image column x at values[ch * stride + x]
  std::size_t stride;
  int block;  // s
  ChannelOrder order;
  const Conv2d* anchor;  // the input-to-output conv, or nullptr
  RgbView<const Sample> input;
  int net_width;  // the network input size (the anchor's zero padding)
  int net_height;
  RgbView<Sample> output;
  int y;  // the feature row
  int col_begin;
  int col_end;
};

// x1.5: feature rows y-1 and y (y odd) as one space-to-depth row, Conv1x1(4f -> 27) with its
// outputs padded to 32, the stride-2 anchor (if any), clip, depth-to-space(3), cropped to the
// output size.
template <typename Sample>
struct F32HalfScaleTailArgs {
  const float* rows[2];  // like F32DepthToSpaceArgs::values, rows y-1 and y
  std::size_t stride;
  int features;
  ChannelOrder order;
  const float* weights;  // [4 * features][32], d2s channel order of the input
  const float* bias;     // 32
  const Conv2d* anchor;
  RgbView<const Sample> input;
  int net_width;
  int net_height;
  RgbView<Sample> output;
  int y;
  int col_begin;  // even
  int col_end;    // even
};
inline constexpr int kHalfScaleOutputs = 27;
inline constexpr int kHalfScalePaddedOutputs = 32;

template <typename Sample>
struct F32TailFns {
  void (*depth_to_space)(const F32DepthToSpaceArgs<Sample>&);
  void (*half_scale)(const F32HalfScaleTailArgs<Sample>&);
};

struct F32TailConfig {
  const char* name;
  Isa isa;
  F32TailFns<float> f32;
  F32TailFns<std::uint8_t> u8;
  template <typename Sample>
  const F32TailFns<Sample>& fns() const {
    if constexpr (std::is_same_v<Sample, float>) {
      return f32;
    } else {
      return u8;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Elementwise ops over n contiguous floats (in == out allowed): f32-vtanh, the Tanh of general
// graphs (ESPCN), run on each row a conv stores.
using F32VUnaryFn = void (*)(const float* in, float* out, std::size_t n);

struct F32VUnaryConfig {
  const char* name;
  Isa isa;
  F32VUnaryFn run;
};

// ---------------------------------------------------------------------------------------------
// Registry (configs.cpp): every config this build has (best ISA first; x86 ones only on x86),
// and the set the engine uses for an ISA level: per operation the first config whose ISA the
// level includes.
std::span<const F32ConvConfig* const> f32_conv3x3_configs();
std::span<const F32WinogradConfig* const> f32_winograd_configs();
std::span<const F32TailConfig* const> f32_tail_configs();
std::span<const F32ConvConfig* const> f32_conv_configs();
std::span<const F32VUnaryConfig* const> f32_vtanh_configs();

struct F32Kernels {
  const F32ConvConfig* direct;  // 3x3 convs with padding 1
  const F32WinogradConfig* winograd;
  const F32TailConfig* tail;
  const F32ConvConfig* conv;  // general graphs: convs other than "same" 3x3
  const F32VUnaryConfig* tanh;
  bool operator==(const F32Kernels&) const = default;
};
F32Kernels f32_kernels(Isa isa);

// True when code for level `kernel` runs wherever level `level` does (e.g. avx512 includes avx2).
bool isa_includes(Isa level, Isa kernel);

// Input transforms (kernels/f32-winograd-f43-input/), named by the Winograd configs.
void f32_winograd_f43_input_ukernel_16_avx512f(const F32WinogradInputArgs& args);
void f32_winograd_f43_input_ukernel_8_avx2_fma(const F32WinogradInputArgs& args);
void f32_winograd_f43_input_ukernel_scalar(const F32WinogradInputArgs& args);

// The configs, one per kernel file (the x86 ones are built only on x86).
extern const F32ConvConfig f32_conv3x3_scalar_config;
extern const F32ConvConfig f32_conv3x3_4x24_avx2_fma_config;
extern const F32ConvConfig f32_conv3x3_8x48_avx512f_config;
extern const F32WinogradConfig f32_winograd_f43_scalar_config;
extern const F32WinogradConfig f32_winograd_f43_4x24_avx2_fma_config;
extern const F32WinogradConfig f32_winograd_f43_8x48_avx512f_config;
extern const F32TailConfig f32_tail_scalar_config;
extern const F32ConvConfig f32_conv_scalar_config;
extern const F32ConvConfig f32_conv_4x24_avx2_fma_config;
extern const F32ConvConfig f32_conv_8x48_avx512f_config;
extern const F32VUnaryConfig f32_vtanh_scalar_config;
extern const F32VUnaryConfig f32_vtanh_8_avx2_fma_config;
extern const F32VUnaryConfig f32_vtanh_16_avx512f_config;

}  // namespace quicksr::engine
