// AVX-512 f32 3x3 row kernel. Tile: 8 output channels x 48 pixels (3 zmm) = 24 accumulators + 3
// input vectors, the weights broadcast from memory into the FMAs ({1to16}): 24 FMAs per 3 loads
// and 8 broadcast loads. 32 zmm registers hold it without spills, so plain intrinsics suffice.
// Built with AVX-512 flags for this file only; called only after the run-time CPU check.
#include <immintrin.h>

#include <algorithm>

#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kGroup = 8;           // output channels per tile
constexpr int kPixelBlock = 16;     // pixels per vector
constexpr int kChunkColumns = 192;  // a multiple of the 48-pixel tile, see below

template <int kVectors>
void conv_tile(const F32ConvArgs& args, const float* weights, const float* bias, int col,
               float* const out[kGroup]) {
  __m512 acc[kGroup][kVectors];
  for (int j = 0; j < kGroup; ++j) {
    const __m512 b = _mm512_set1_ps(bias[j]);
    for (int v = 0; v < kVectors; ++v) acc[j][v] = b;
  }
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci) {
    const std::size_t channel_offset = ci * args.in_stride + col;
    for (int ky = 0; ky < 3; ++ky) {
      const float* in = args.rows[ky] + channel_offset;
      for (int kx = 0; kx < 3; ++kx, w += kGroup) {
        __m512 x[kVectors];
        for (int v = 0; v < kVectors; ++v) x[v] = _mm512_loadu_ps(in + kx + 16 * v);
        for (int j = 0; j < kGroup; ++j) {
          const __m512 wj = _mm512_set1_ps(w[j]);
          for (int v = 0; v < kVectors; ++v) acc[j][v] = _mm512_fmadd_ps(x[v], wj, acc[j][v]);
        }
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  const __m512 upper = _mm512_set1_ps(args.clamp_max);
  for (int j = 0; j < kGroup; ++j) {
    for (int v = 0; v < kVectors; ++v) {
      __m512 r = acc[j][v];
      if (args.clamp) r = _mm512_min_ps(_mm512_max_ps(r, zero), upper);
      _mm512_storeu_ps(out[j] + col + 16 * v, r);
    }
  }
}

// Columns are processed in chunks, every output group per chunk, so that the input rows a chunk
// reads stay in L1/L2 while all groups reuse them.
void f32_conv3x3_ukernel_8x48_avx512f(const F32ConvArgs& args) {
  const int col_end = args.col_begin + args.col_count;
  for (int chunk = args.col_begin; chunk < col_end; chunk += kChunkColumns) {
    const int chunk_end = std::min(col_end, chunk + kChunkColumns);
    for (int group = 0; group < args.out_channels / kGroup; ++group) {
      const float* weights =
          args.weights + static_cast<std::size_t>(group) * args.in_channels * 9 * kGroup;
      const float* bias = args.bias + group * kGroup;
      float* out[kGroup];
      for (int j = 0; j < kGroup; ++j) out[j] = args.out + (group * kGroup + j) * args.out_stride;
      int col = chunk;
      for (; col + 48 <= chunk_end; col += 48) conv_tile<3>(args, weights, bias, col, out);
      if (col + 32 <= chunk_end) {
        conv_tile<2>(args, weights, bias, col, out);
      } else if (col < chunk_end) {
        conv_tile<1>(args, weights, bias, col, out);
      }
    }
  }
}

}  // namespace

const F32ConvConfig f32_conv3x3_8x48_avx512f_config{
    "f32-conv3x3/8x48-avx512f",       Isa::kAvx512, kGroup, kPixelBlock,
    f32_conv3x3_ukernel_8x48_avx512f, pack_conv_goi};

}  // namespace quicksr::engine
