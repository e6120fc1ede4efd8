#pragma once
// 512-bit (AVX-512F) float vector operations for the templated f32 row loops: the conv tile
// (f32_conv_tile.hpp), tanh (f32_vtanh.hpp) and the INT8 add's float32 part (qu8_add_loop.hpp).
// Included only by files built with AVX-512 flags.
#include <immintrin.h>

namespace quicksr::engine::f32 {

struct Avx512Ops {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(float v) { return _mm512_set1_ps(v); }
  static V abs(V v) { return _mm512_abs_ps(v); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  // To [0, max].
  static V clamp(V v, float max) {
    return _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(max));
  }
  static V round(V v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT); }
  static V pow2(V n) { return _mm512_scalef_ps(_mm512_set1_ps(1.0f), n); }
  static V less_than_select(V a, V b, V if_less, V otherwise) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), otherwise, if_less);
  }
  // `magnitude` is >= 0 (or NaN): OR in the sign bit of `sign`.
  static V with_sign_of(V magnitude, V sign) {
    const __m512i sign_bit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(magnitude), _mm512_and_si512(_mm512_castps_si512(sign), sign_bit)));
  }
};

}  // namespace quicksr::engine::f32
