#pragma once
// 256-bit vector operations for the INT8 3x3 row loop (qu8_conv3x3_tile.hpp), shared by the
// AVX-VNNI kernel (`vpdpbusd` ymm) and the AVX2 kernel, which has no exact u8 x s8 dot product:
// `vpmaddubsw` saturates pair sums above 32767 (255 * 127 * 2 = 64770), so it widens instead.
// The pixels' channels 0,2 and 1,3 become s16 pairs (mask / shift), and `vpmaddwd` against s16
// weight pairs gives exact s32 sums (|255 * 127 * 2| is far from the one saturating case).
#include <immintrin.h>

#include <type_traits>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine::qu8 {

template <bool kVnni>
struct Avx256Ops {
  struct Bytes {
    __m256i bytes;  // 4 u8 channels per pixel
  };
  struct Widened {
    __m256i even;  // channels 0 and 2 of each pixel as s16
    __m256i odd;   // channels 1 and 3
  };
  using Vec = __m256i;
  using Input = std::conditional_t<kVnni, Bytes, Widened>;
  static constexpr int kLanes = 8;
  static constexpr int kWeightWords = kVnni ? 1 : 2;

  static Vec set1(std::int32_t v) { return _mm256_set1_epi32(v); }
  static Input load(const std::uint8_t* p) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (kVnni) {
      return {bytes};
    } else {
      const __m256i mask = _mm256_set1_epi32(0x00ff00ff);
      return {_mm256_and_si256(bytes, mask), _mm256_and_si256(_mm256_srli_epi32(bytes, 8), mask)};
    }
  }
  static Vec dot(Vec acc, const Input& in, const std::int32_t* w) {
    if constexpr (kVnni) {
      return _mm256_dpbusd_avx_epi32(acc, in.bytes, _mm256_set1_epi32(*w));
    } else {
      const __m256i even = _mm256_madd_epi16(in.even, _mm256_set1_epi32(w[0]));
      const __m256i odd = _mm256_madd_epi16(in.odd, _mm256_set1_epi32(w[1]));
      return _mm256_add_epi32(acc, _mm256_add_epi32(even, odd));
    }
  }
  static void store(const QU8Conv3x3Args& a, const Vec (&acc)[kQu8Group], int group, int x) {
    if (a.raw_out != nullptr) {
      for (int o = 0; o < kQu8Group; ++o) {
        _mm256_storeu_si256(
            reinterpret_cast<__m256i*>(a.raw_out + (group * kQu8Group + o) * a.out_stride + x),
            acc[o]);
      }
      return;
    }
    const __m256 lo = _mm256_set1_ps(a.clamp_min);
    const __m256 hi = _mm256_set1_ps(a.clamp_max);
    const __m256i zero_point = _mm256_set1_epi32(a.zero_point);
    __m256i packed = _mm256_setzero_si256();
    for (int o = 0; o < kQu8Group; ++o) {
      const __m256 m = _mm256_set1_ps(a.multipliers[group * kQu8Group + o]);
      const __m256 t =
          _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[o]), m), lo), hi);
      const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(t), zero_point);
      packed = _mm256_or_si256(packed, _mm256_slli_epi32(q, 8 * o));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.out + (group * a.out_stride + x) * kQu8Group),
                        packed);
  }
};

}  // namespace quicksr::engine::qu8
