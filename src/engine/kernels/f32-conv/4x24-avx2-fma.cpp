// AVX2+FMA f32 row kernel for convs of any kernel size (1x1, 5x5...). Tile: 4 output channels x
// 24 pixels (3 ymm) = 12 accumulators + 3 inputs + 1 broadcast weight. Built with AVX2 flags for
// this file only; called only after the run-time CPU check.
#include <immintrin.h>

#include "engine/kernels/f32_conv_tile.hpp"

namespace quicksr::engine {

namespace {

struct Avx2Ops {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V broadcast(float v) { return _mm256_set1_ps(v); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V clamp(V v, float max) {
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(max));
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};

void f32_conv_ukernel_4x24_avx2_fma(const F32ConvArgs& args) {
  f32_conv_row<Avx2Ops, 4, 3, 96>(args);
}

}  // namespace

const F32ConvConfig f32_conv_4x24_avx2_fma_config{
    "f32-conv/4x24-avx2-fma",       Isa::kAvx2Fma, 4, Avx2Ops::kLanes,
    f32_conv_ukernel_4x24_avx2_fma, pack_conv_goi};

}  // namespace quicksr::engine
