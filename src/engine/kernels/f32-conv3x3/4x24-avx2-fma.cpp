// AVX2+FMA f32 3x3 row kernel. Tile: 4 output channels x 24 pixels (3 ymm) = 12 accumulators,
// plus 3 input vectors and 1 broadcast weight: all 16 ymm registers, no spills. Per tap and input
// channel it issues 12 FMAs for 3 input loads and 4 weight broadcasts, so it stays FMA-bound on
// CPUs with two load ports. Built with -mavx2 -mfma for this file only; called only after the
// run-time CPU check.
#include <immintrin.h>

#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

template <int kVectors>
inline void conv_tile(const F32Conv3x3Args& args, const float* weights, const float* bias, int col,
                      float* const out[kConvGroup]) {
  __m256 acc[kConvGroup][kVectors];
  for (int j = 0; j < kConvGroup; ++j) {
    const __m256 b = _mm256_broadcast_ss(bias + j);
    for (int v = 0; v < kVectors; ++v) acc[j][v] = b;
  }
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci) {
    const std::size_t channel_offset = ci * args.in_stride + col - 1;
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
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int j = 0; j < kConvGroup; ++j) {
    for (int v = 0; v < kVectors; ++v) {
      __m256 r = acc[j][v];
      if (args.clamp) r = _mm256_min_ps(_mm256_max_ps(r, zero), one);
      _mm256_storeu_ps(out[j] + col + 8 * v, r);
    }
  }
}

}  // namespace

void f32_conv3x3_ukernel_4x24_avx2_fma(const F32Conv3x3Args& args) {
  const int col_end = args.col_begin + args.col_count;
  for (int group = 0; group < args.out_channels / kConvGroup; ++group) {
    const float* weights =
        args.weights + static_cast<std::size_t>(group) * args.in_channels * 9 * kConvGroup;
    const float* bias = args.bias + group * kConvGroup;
    float* const out[kConvGroup] = {args.out + (group * kConvGroup + 0) * args.out_stride,
                                    args.out + (group * kConvGroup + 1) * args.out_stride,
                                    args.out + (group * kConvGroup + 2) * args.out_stride,
                                    args.out + (group * kConvGroup + 3) * args.out_stride};
    int col = args.col_begin;
    for (; col + 24 <= col_end; col += 24) conv_tile<3>(args, weights, bias, col, out);
    if (col + 16 <= col_end) {
      conv_tile<2>(args, weights, bias, col, out);
    } else if (col < col_end) {
      conv_tile<1>(args, weights, bias, col, out);
    }
  }
}

}  // namespace quicksr::engine
