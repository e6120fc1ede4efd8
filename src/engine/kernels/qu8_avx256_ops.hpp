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
  // What the stores of one output channel group need, read from the arguments once per tile: a
  // store through the byte pointer may alias them, so the compiler would re-read them per vector.
  struct Output {
    std::uint8_t* row;   // the group's grouped output row
    std::int32_t* raw;   // or its first raw channel (nullptr: requantise)
    std::size_t stride;  // raw: between channels
    __m256 multipliers[kQu8Group];
    __m256 lo, hi;
    __m256i zero_point;
  };
  static Output output(const QU8Conv3x3Args& a, int group) {
    Output out{};
    if (a.raw_out != nullptr) {
      out.raw = a.raw_out + group * kQu8Group * a.out_stride;
      out.stride = a.out_stride;
      return out;
    }
    out.row = a.out + group * a.out_stride * kQu8Group;
    for (int o = 0; o < kQu8Group; ++o) {
      out.multipliers[o] = _mm256_set1_ps(a.multipliers[group * kQu8Group + o]);
    }
    out.lo = _mm256_set1_ps(a.clamp_min);
    out.hi = _mm256_set1_ps(a.clamp_max);
    out.zero_point = _mm256_set1_epi32(a.zero_point);
    return out;
  }
  static void store(const Output& out, const Vec (&acc)[kQu8Group], int x) {
    if (out.raw != nullptr) {
      for (int o = 0; o < kQu8Group; ++o)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.raw + o * out.stride + x), acc[o]);
      return;
    }
    __m256i packed = _mm256_setzero_si256();
    for (int o = 0; o < kQu8Group; ++o) {
      const __m256 t = _mm256_min_ps(
          _mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[o]), out.multipliers[o]), out.lo),
          out.hi);
      const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(t), out.zero_point);
      packed = _mm256_or_si256(packed, _mm256_slli_epi32(q, 8 * o));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.row + x * kQu8Group), packed);
  }
};

}  // namespace quicksr::engine::qu8
