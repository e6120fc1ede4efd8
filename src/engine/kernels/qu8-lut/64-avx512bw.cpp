// INT8 table lookup on zmm: 64 bytes per step. The table is 16 rows of 16 bytes, each broadcast
// to the four 128-bit lanes; `vpshufb` looks the low nibble up in every row, and row j's result is
// kept where the high nibble is j (a byte compare mask). A masked load and store take the rest.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kRows = 16;

__m512i look_up(const __m512i (&rows)[kRows], __m512i x) {
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  const __m512i low = _mm512_and_si512(x, nibble);
  const __m512i high = _mm512_and_si512(_mm512_srli_epi16(x, 4), nibble);
  __m512i y = _mm512_shuffle_epi8(rows[0], low);
#pragma GCC unroll 15
  for (int j = 1; j < kRows; ++j) {
    const __mmask64 in_row = _mm512_cmpeq_epi8_mask(high, _mm512_set1_epi8(static_cast<char>(j)));
    y = _mm512_mask_shuffle_epi8(y, in_row, rows[j], low);
  }
  return y;
}

void qu8_lut_ukernel_64_avx512bw(const QU8LutArgs& a) {
  __m512i rows[kRows];
  for (int j = 0; j < kRows; ++j) {
    // Two 64-bit halves (GCC 12's 128-bit broadcasts trip -Wuninitialized).
    std::int64_t half[2];
    std::memcpy(half, a.table + j * kRows, sizeof(half));
    rows[j] =
        _mm512_set_epi64(half[1], half[0], half[1], half[0], half[1], half[0], half[1], half[0]);
  }
  std::size_t i = 0;
  for (; i + 64 <= a.count; i += 64) {
    _mm512_storeu_si512(a.out + i, look_up(rows, _mm512_loadu_si512(a.in + i)));
  }
  if (i < a.count) {
    const __mmask64 rest = (__mmask64{1} << (a.count - i)) - 1;
    _mm512_mask_storeu_epi8(a.out + i, rest,
                            look_up(rows, _mm512_maskz_loadu_epi8(rest, a.in + i)));
  }
}

}  // namespace

const QU8LutConfig qu8_lut_64_avx512bw_config{"qu8-lut/64-avx512bw", Isa::kAvx512,
                                              qu8_lut_ukernel_64_avx512bw};

}  // namespace quicksr::engine
