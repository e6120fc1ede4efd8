// AVX2+FMA f32 3x3 row kernel. Tile: 4 output channels x 24 pixels (3 ymm) = 12 accumulators,
// plus 3 input vectors and 1 broadcast weight: all 16 ymm registers, no spills. Per tap and input
// channel it issues 12 FMAs for 3 input loads and 4 weight broadcasts, so it stays FMA-bound on
// CPUs with two load ports. Built with -mavx2 -mfma for this file only; called only after the
// run-time CPU check.
#include <immintrin.h>

#include <algorithm>

#include "engine/kernels/avx2_fma_4x24_block.hpp"
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kConvGroup = 4;   // output channels per tile
constexpr int kPixelBlock = 8;  // pixels per vector
// A multiple of the 24-pixel tile; see f32_conv3x3_ukernel_4x24_avx2_fma.
constexpr int kChunkColumns = 96;

// Tiles of 1 or 2 vectors (row ends): few enough registers for the compiler to allocate well.
template <int kVectors>
inline void conv_tile(const F32ConvArgs& args, const float* weights, const float* bias, int col,
                      float* const out[kConvGroup]) {
  __m256 acc[kConvGroup][kVectors];
  for (int j = 0; j < kConvGroup; ++j) {
    const __m256 b = _mm256_broadcast_ss(bias + j);
    for (int v = 0; v < kVectors; ++v) acc[j][v] = b;
  }
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci) {
    const std::size_t channel_offset = ci * args.in_stride + col;
    for (int ky = 0; ky < 3; ++ky) {
      const float* in = args.rows[ky] + channel_offset;
      for (int kx = 0; kx < 3; ++kx, w += kConvGroup) {
        __m256 x[kVectors];
        for (int v = 0; v < kVectors; ++v) x[v] = _mm256_loadu_ps(in + kx + 8 * v);
        for (int j = 0; j < kConvGroup; ++j) {
          const __m256 wj = _mm256_broadcast_ss(w + j);
          for (int v = 0; v < kVectors; ++v) acc[j][v] = _mm256_fmadd_ps(x[v], wj, acc[j][v]);
        }
      }
    }
  }
  const __m256 zero = _mm256_setzero_ps();
  const __m256 upper = _mm256_set1_ps(args.clamp_max);
  for (int j = 0; j < kConvGroup; ++j) {
    for (int v = 0; v < kVectors; ++v) {
      __m256 r = acc[j][v];
      if (args.clamp) r = _mm256_min_ps(_mm256_max_ps(r, zero), upper);
      _mm256_storeu_ps(out[j] + col + 8 * v, r);
    }
  }
}

// One tap (kx) of the 24-pixel tile: the input at byte offset `in_offset` of %[in].
#define QUICKSR_TAP(in_offset, w_offset)                                     \
  QUICKSR_AVX2_FMA_4X24_BLOCK(#in_offset "(%[in])", #in_offset "+32(%[in])", \
                              #in_offset "+64(%[in])", w_offset)

// The full 24-pixel tile in inline assembly: with 12 accumulators, 3 input vectors and a
// broadcast weight it needs all 16 ymm registers, and GCC's allocator then reloads the input
// vectors as FMA memory operands (10 loads per 12 FMAs instead of 7), which makes the tile
// load-bound. One asm block covers the 3 taps of one kernel row of one input channel.
void conv_tile_24(const F32ConvArgs& args, const float* weights, const float* bias, int col,
                  float* const out[kConvGroup]) {
  __m256 a00 = _mm256_broadcast_ss(bias + 0), a01 = a00, a02 = a00;
  __m256 a10 = _mm256_broadcast_ss(bias + 1), a11 = a10, a12 = a10;
  __m256 a20 = _mm256_broadcast_ss(bias + 2), a21 = a20, a22 = a20;
  __m256 a30 = _mm256_broadcast_ss(bias + 3), a31 = a30, a32 = a30;
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci) {
    const std::size_t channel_offset = ci * args.in_stride + col;
    for (int ky = 0; ky < 3; ++ky, w += 3 * kConvGroup) {
      const float* in = args.rows[ky] + channel_offset;
      asm(QUICKSR_TAP(0, 0) QUICKSR_TAP(4, 16) QUICKSR_TAP(8, 32)
          : [a00] "+x"(a00), [a01] "+x"(a01), [a02] "+x"(a02), [a10] "+x"(a10), [a11] "+x"(a11),
            [a12] "+x"(a12), [a20] "+x"(a20), [a21] "+x"(a21), [a22] "+x"(a22), [a30] "+x"(a30),
            [a31] "+x"(a31), [a32] "+x"(a32)
          : [in] "r"(in), [w] "r"(w), "m"(*(const float(*)[26])in), "m"(*(const float(*)[12])w)
          : "xmm12", "xmm13", "xmm14", "xmm15");
    }
  }
  const __m256 acc[kConvGroup][3] = {
      {a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}, {a30, a31, a32}};
  const __m256 zero = _mm256_setzero_ps();
  const __m256 upper = _mm256_set1_ps(args.clamp_max);
  for (int j = 0; j < kConvGroup; ++j) {
    for (int v = 0; v < 3; ++v) {
      __m256 r = acc[j][v];
      if (args.clamp) r = _mm256_min_ps(_mm256_max_ps(r, zero), upper);
      _mm256_storeu_ps(out[j] + col + 8 * v, r);
    }
  }
}

// Columns are processed in chunks, every output group per chunk, so that the input rows a chunk
// reads (3 rows x channels x chunk) stay in L1/L2 while all groups reuse them; whole rows of a
// wide image would be re-read from L3 once per group.
void f32_conv3x3_ukernel_4x24_avx2_fma(const F32ConvArgs& args) {
  const int col_end = args.col_begin + args.col_count;
  for (int chunk = args.col_begin; chunk < col_end; chunk += kChunkColumns) {
    const int chunk_end = std::min(col_end, chunk + kChunkColumns);
    for (int group = 0; group < args.out_channels / kConvGroup; ++group) {
      const float* weights =
          args.weights + static_cast<std::size_t>(group) * args.in_channels * 9 * kConvGroup;
      const float* bias = args.bias + group * kConvGroup;
      float* const out[kConvGroup] = {args.out + (group * kConvGroup + 0) * args.out_stride,
                                      args.out + (group * kConvGroup + 1) * args.out_stride,
                                      args.out + (group * kConvGroup + 2) * args.out_stride,
                                      args.out + (group * kConvGroup + 3) * args.out_stride};
      int col = chunk;
      for (; col + 24 <= chunk_end; col += 24) conv_tile_24(args, weights, bias, col, out);
      if (col + 16 <= chunk_end) {
        conv_tile<2>(args, weights, bias, col, out);
      } else if (col < chunk_end) {
        conv_tile<1>(args, weights, bias, col, out);
      }
    }
  }
}

}  // namespace

const F32ConvConfig f32_conv3x3_4x24_avx2_fma_config{
    "f32-conv3x3/4x24-avx2-fma",       Isa::kAvx2Fma, kConvGroup, kPixelBlock,
    f32_conv3x3_ukernel_4x24_avx2_fma, pack_conv_goi};

}  // namespace quicksr::engine
