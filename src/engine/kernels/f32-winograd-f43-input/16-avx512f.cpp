// AVX-512 Winograd F(4,3) input transform: 16 tiles per vector. The phase-split layout makes the
// 6 inputs of 16 tiles six (unaligned) vector loads. Built with AVX-512 flags for this file only.
#include <immintrin.h>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

void f32_winograd_f43_input_ukernel_16_avx512f(const F32WinogradInputArgs& args) {
  const std::size_t stride = args.tile_stride;
  for (int c = 0; c < args.channels; ++c) {
    const float* phase = args.in + c * kWinogradTile * stride;
    for (int t = args.tile_begin; t < args.tile_begin + args.tile_count; t += 16) {
      const __m512 d[kWinogradPoints] = {
          _mm512_loadu_ps(phase + 3 * stride + t - 1), _mm512_loadu_ps(phase + t),
          _mm512_loadu_ps(phase + stride + t),         _mm512_loadu_ps(phase + 2 * stride + t),
          _mm512_loadu_ps(phase + 3 * stride + t),     _mm512_loadu_ps(phase + t + 1)};
      __m512 u[kWinogradPoints];
      winograd_f43::transform_input(d, u);
      for (int k = 0; k < kWinogradPoints; ++k) {
        _mm512_storeu_ps(args.out + (k * args.channels + c) * stride + t, u[k]);
      }
    }
  }
}

}  // namespace quicksr::engine
