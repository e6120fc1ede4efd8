// AVX2 + FMA tanh, 8 floats per vector (kernels/f32_vtanh.hpp). Built with AVX2 and FMA flags for
// this file only; called only after the run-time CPU check.
#include <immintrin.h>

#include "engine/kernels/f32_vtanh.hpp"
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

struct Avx2Ops {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(float v) { return _mm256_set1_ps(v); }
  static V sign_bit() { return _mm256_set1_ps(-0.0f); }
  static V abs(V v) { return _mm256_andnot_ps(sign_bit(), v); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
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

void f32_vtanh_ukernel_8_avx2_fma(const float* in, float* out, std::size_t n) {
  f32_vtanh_run<Avx2Ops>(in, out, n);
}

}  // namespace

const F32VUnaryConfig f32_vtanh_8_avx2_fma_config{"f32-vtanh/8-avx2-fma", Isa::kAvx2Fma,
                                                  f32_vtanh_ukernel_8_avx2_fma};

}  // namespace quicksr::engine
