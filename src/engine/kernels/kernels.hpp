#pragma once
// Micro-kernel interfaces and the registry that picks an implementation per data type and ISA.
//
// Layout ("row-planar"): a row of a feature map holds each channel's pixels contiguously,
// channel c at row + c * stride, so kernels vectorise over pixels and every output channel count
// (32, 12, 27...) fills whole vectors. One file per micro-kernel, named like XNNPACK
// (kernels/<operation>/<tile>-<isa>.cpp), so NEON or AVX-512 siblings sit beside them; INT8
// kernels (u8 activations x s8 per-channel weights, s32 accumulation, requantisation with a
// fused clamp) get their own argument struct and table keyed by DataType::kQU8.
#include <cstddef>

#include "quicksr/engine.hpp"

namespace quicksr::engine {

enum class DataType { kF32 };

// Output channels per weight group: the packed weights hold, per group of kConvGroup output
// channels, [in_channel][ky][kx][kConvGroup] floats (zero for channels past the real count).
inline constexpr int kConvGroup = 4;
// Every computed column range starts and ends on a multiple of this many pixels.
inline constexpr int kColumnBlock = 8;

// One output row of a 3x3, stride-1 convolution with bias and an optional ReLU1 clamp.
struct F32Conv3x3Args {
  const float* rows[3];   // input rows y-1, y, y+1 (channel c at rows[k] + c * in_stride)
  std::size_t in_stride;  // floats between channels of a row
  int in_channels;
  const float* weights;  // packed as described at kConvGroup
  const float* bias;     // out_channels values
  int out_channels;      // a multiple of kConvGroup
  float* out;            // channel c at out + c * out_stride
  std::size_t out_stride;
  int col_begin;  // first output column, >= 1 (column col reads col-1..col+1)
  int col_count;  // a multiple of kColumnBlock
  bool clamp;     // clamp to [0, 1] after the bias
};

using F32Conv3x3Fn = void (*)(const F32Conv3x3Args&);

struct F32Conv3x3Kernel {
  Isa isa;
  const char* name;
  F32Conv3x3Fn run;
};

// The f32 3x3 kernel for `isa`; throws quicksr::Error when this build has none.
const F32Conv3x3Kernel& f32_conv3x3_kernel(Isa isa);

// Implementations (one per file under kernels/f32-conv3x3/).
void f32_conv3x3_ukernel_4x24_avx2_fma(const F32Conv3x3Args& args);
void f32_conv3x3_ukernel_scalar(const F32Conv3x3Args& args);

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
// Tiles per vector: every tile count is a multiple of this.
inline constexpr int kWinogradTileBlock = 8;
// Tiles the conv kernel takes per pass over the output groups; see the scratch argument.
inline constexpr int kWinogradChunkTiles = 24;

// Phase-split row -> transformed row (B^T d per tile), for tiles [tile_begin, tile_begin +
// tile_count); reads the neighbouring tiles tile_begin - 1 and tile_begin + tile_count.
struct F32WinogradInputArgs {
  const float* in;  // phase-split
  float* out;       // transformed
  std::size_t tile_stride;
  int channels;
  int tile_begin;  // >= 1
  int tile_count;  // a multiple of kWinogradTileBlock
};

// One output row of a 3x3 conv from three transformed input rows: per point k a row-planar
// 3x1 conv over the rows, then the output transform (A^T m), bias and optional ReLU1 clamp.
struct F32WinogradConvArgs {
  const float* rows[3];  // transformed input rows y-1, y, y+1
  std::size_t tile_stride;
  int in_channels;
  const float* weights;  // see pack_winograd_conv3x3 in plan.hpp
  const float* bias;     // out_channels values
  int out_channels;      // a multiple of kConvGroup
  float* out;            // phase-split
  int tile_begin;
  int tile_count;  // a multiple of kWinogradTileBlock
  bool clamp;
  // kWinogradPoints x out_channels x kWinogradChunkTiles floats: the products of one chunk of
  // tiles, before the output transform.
  float* scratch;
};

using F32WinogradInputFn = void (*)(const F32WinogradInputArgs&);
using F32WinogradConvFn = void (*)(const F32WinogradConvArgs&);

struct F32WinogradInputKernel {
  Isa isa;
  const char* name;
  F32WinogradInputFn run;
};

struct F32WinogradConvKernel {
  Isa isa;
  const char* name;
  F32WinogradConvFn run;
};

// The kernels for `isa`; throw quicksr::Error when this build has none.
const F32WinogradInputKernel& f32_winograd_input_kernel(Isa isa);
const F32WinogradConvKernel& f32_winograd_conv_kernel(Isa isa);

// Implementations (kernels/f32-winograd-f43-input/, kernels/f32-winograd-f43-conv/).
void f32_winograd_f43_input_ukernel_8_avx2_fma(const F32WinogradInputArgs& args);
void f32_winograd_f43_input_ukernel_scalar(const F32WinogradInputArgs& args);
void f32_winograd_f43_conv_ukernel_4x24_avx2_fma(const F32WinogradConvArgs& args);
void f32_winograd_f43_conv_ukernel_scalar(const F32WinogradConvArgs& args);

}  // namespace quicksr::engine
