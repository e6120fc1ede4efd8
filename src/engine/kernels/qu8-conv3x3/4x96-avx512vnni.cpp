// INT8 3x3 row kernel for AVX-512 VNNI: 4 output channels x 6 zmm of 16 pixels (24 accumulators).
// Per tap and input group: 6 input loads, 4 embedded-broadcast weights, 24 `vpdpbusd` (u8 pixels
// x s8 weights, 4 channels per lane, exact s32 sums).
#include <immintrin.h>

#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

struct Avx512VnniOps {
  using Vec = __m512i;
  using Input = __m512i;
  static constexpr int kLanes = 16;
  static constexpr int kWeightWords = 1;

  static Vec set1(std::int32_t v) { return _mm512_set1_epi32(v); }
  static Input load(const std::uint8_t* p) { return _mm512_loadu_si512(p); }
  static Vec dot(Vec acc, const Input& in, const std::int32_t* w) {
    return _mm512_dpbusd_epi32(acc, in, _mm512_set1_epi32(*w));
  }
  static void store(const QU8Conv3x3Args& a, const Vec (&acc)[kQu8Group], int group, int x) {
    if (a.raw_out != nullptr) {
      for (int o = 0; o < kQu8Group; ++o) {
        _mm512_storeu_si512(a.raw_out + (group * kQu8Group + o) * a.out_stride + x, acc[o]);
      }
      return;
    }
    const __m512 lo = _mm512_set1_ps(a.clamp_min);
    const __m512 hi = _mm512_set1_ps(a.clamp_max);
    const __m512i zero_point = _mm512_set1_epi32(a.zero_point);
    __m512i packed = _mm512_setzero_si512();
    for (int o = 0; o < kQu8Group; ++o) {
      const __m512 m = _mm512_set1_ps(a.multipliers[group * kQu8Group + o]);
      const __m512 t =
          _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[o]), m), lo), hi);
      const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(t), zero_point);
      packed = _mm512_or_si512(packed, _mm512_slli_epi32(q, 8 * o));
    }
    _mm512_storeu_si512(a.out + (group * a.out_stride + x) * kQu8Group, packed);
  }
};

void qu8_conv3x3_ukernel_4x96_avx512vnni(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx512VnniOps, 6>(args);
}

void qu8_conv1x1_ukernel_4x96_avx512vnni(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx512VnniOps, 6, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x96_avx512vnni_config{"qu8-conv3x3/4x96-avx512vnni",
                                                          Isa::kAvx512Vnni,
                                                          16,
                                                          96,
                                                          qu8_conv3x3_ukernel_4x96_avx512vnni,
                                                          qu8_conv1x1_ukernel_4x96_avx512vnni,
                                                          pack_qu8_conv3x3_s8x4};

}  // namespace quicksr::engine
