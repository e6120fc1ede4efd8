#pragma once
// 512-bit vector operations for the INT8 3x3 row loop (qu8_conv3x3_tile.hpp), shared by the
// AVX-512 VNNI kernel (`vpdpbusd` zmm) and the AVX-512BW kernel for CPUs without VNNI, which
// widens the pixels to s16 pairs and sums with `vpmaddwd` (exact; see qu8_avx256_ops.hpp).
#include <immintrin.h>

#include <type_traits>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine::qu8 {

template <bool kVnni>
struct Avx512Ops {
  struct Bytes {
    __m512i bytes;  // 4 u8 channels per pixel
  };
  struct Widened {
    __m512i even;  // channels 0 and 2 of each pixel as s16
    __m512i odd;   // channels 1 and 3
  };
  using Vec = __m512i;
  using Input = std::conditional_t<kVnni, Bytes, Widened>;
  static constexpr int kLanes = 16;
  static constexpr int kWeightWords = kVnni ? 1 : 2;

  static Vec set1(std::int32_t v) { return _mm512_set1_epi32(v); }
  static Input load(const std::uint8_t* p) {
    const __m512i bytes = _mm512_loadu_si512(p);
    if constexpr (kVnni) {
      return {bytes};
    } else {
      const __m512i mask = _mm512_set1_epi32(0x00ff00ff);
      return {_mm512_and_si512(bytes, mask), _mm512_and_si512(_mm512_srli_epi32(bytes, 8), mask)};
    }
  }
  static Vec dot(Vec acc, const Input& in, const std::int32_t* w) {
    if constexpr (kVnni) {
      return _mm512_dpbusd_epi32(acc, in.bytes, _mm512_set1_epi32(*w));
    } else {
      const __m512i even = _mm512_madd_epi16(in.even, _mm512_set1_epi32(w[0]));
      const __m512i odd = _mm512_madd_epi16(in.odd, _mm512_set1_epi32(w[1]));
      return _mm512_add_epi32(acc, _mm512_add_epi32(even, odd));
    }
  }
  // What the stores of one output channel group need, read from the arguments once per tile: a
  // store through the byte pointer may alias them, so the compiler would re-read them per vector.
  struct Output {
    std::uint8_t* row;   // the group's grouped output row
    std::int32_t* raw;   // or its first raw channel (nullptr: requantise)
    std::size_t stride;  // raw: between channels
    __m512 multipliers[kQu8Group];
    __m512 lo, hi;
    __m512i zero_point;
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
      out.multipliers[o] = _mm512_set1_ps(a.multipliers[group * kQu8Group + o]);
    }
    out.lo = _mm512_set1_ps(a.clamp_min);
    out.hi = _mm512_set1_ps(a.clamp_max);
    out.zero_point = _mm512_set1_epi32(a.zero_point);
    return out;
  }
  static void store(const Output& out, const Vec (&acc)[kQu8Group], int x) {
    if (out.raw != nullptr) {
      for (int o = 0; o < kQu8Group; ++o) _mm512_storeu_si512(out.raw + o * out.stride + x, acc[o]);
      return;
    }
    __m512i packed = _mm512_setzero_si512();
    for (int o = 0; o < kQu8Group; ++o) {
      const __m512 t = _mm512_min_ps(
          _mm512_max_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[o]), out.multipliers[o]), out.lo),
          out.hi);
      const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(t), out.zero_point);
      packed = _mm512_or_si512(packed, _mm512_slli_epi32(q, 8 * o));
    }
    _mm512_storeu_si512(out.row + x * kQu8Group, packed);
  }
};

}  // namespace quicksr::engine::qu8
