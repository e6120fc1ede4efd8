#pragma once
// 256-bit (AVX2 + FMA) float vector operations for the templated f32 row loops: the conv tile
// (f32_conv_tile.hpp), tanh (f32_vtanh.hpp) and the INT8 add's float32 part (qu8_add_loop.hpp).
// Included only by files built with -mavx2 -mfma.
#include <immintrin.h>

namespace quicksr::engine::f32 {

struct Avx256Ops {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(float v) { return _mm256_set1_ps(v); }
  static V sign_bit() { return _mm256_set1_ps(-0.0f); }
  static V abs(V v) { return _mm256_andnot_ps(sign_bit(), v); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  // To [0, max].
  static V clamp(V v, float max) {
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(max));
  }
  static V round(V v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // n is integral in [-26, 0] here: 2^n by building the exponent field.
  static V pow2(V n) {
    const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
  }
  static V less_than_select(V a, V b, V if_less, V otherwise) {
    return _mm256_blendv_ps(otherwise, if_less, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  // `magnitude` is >= 0 (or NaN): OR in the sign bit of `sign`.
  static V with_sign_of(V magnitude, V sign) {
    return _mm256_or_ps(magnitude, _mm256_and_ps(sign, sign_bit()));
  }
};

}  // namespace quicksr::engine::f32
