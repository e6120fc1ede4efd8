// AVX2 Winograd F(4,3) input transform: 8 tiles per vector. The phase-split layout makes the 6
// inputs of 8 tiles six (unaligned) vector loads. Built with -mavx2 -mfma for this file only.
#include <immintrin.h>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

void f32_winograd_f43_input_ukernel_8_avx2_fma(const F32WinogradInputArgs& args) {
  const std::size_t stride = args.tile_stride;
  for (int c = 0; c < args.channels; ++c) {
    const float* phase = args.in + c * kWinogradTile * stride;
    for (int t = args.tile_begin; t < args.tile_begin + args.tile_count; t += 8) {
      const __m256 d[kWinogradPoints] = {
          _mm256_loadu_ps(phase + 3 * stride + t - 1), _mm256_loadu_ps(phase + t),
          _mm256_loadu_ps(phase + stride + t),         _mm256_loadu_ps(phase + 2 * stride + t),
          _mm256_loadu_ps(phase + 3 * stride + t),     _mm256_loadu_ps(phase + t + 1)};
      __m256 u[kWinogradPoints];
      winograd_f43::transform_input(d, u);
      for (int k = 0; k < kWinogradPoints; ++k) {
        _mm256_storeu_ps(args.out + (k * args.channels + c) * stride + t, u[k]);
      }
    }
  }
}

}  // namespace quicksr::engine
