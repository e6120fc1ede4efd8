// INT8 im2col row of the first conv on zmm: 16 pixels per step. The input words are R, G, B, R,
// so each im2col word is two input words shifted into place and merged by a byte blend
// (kQu8Im2colBytes: row ky gives words (t0.RGB, t1.R) and (t1.GB, t2.RG), the blues of t2 the last
// word), 11 shifts and 6 blends for 7 words.
#include <immintrin.h>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kPixels = 16;
// Byte j of every 32-bit word.
constexpr __mmask64 byte_of_words(int j) { return 0x1111111111111111ull << j; }

void qu8_im2col_ukernel_16_avx512bw(const QU8Im2colArgs& a) {
  const std::size_t group_bytes = a.stride * kQu8Group;
  for (int x = a.col_begin; x < a.col_begin + a.col_count; x += kPixels) {
    std::uint8_t* out = a.out + x * kQu8Group;
    __m512i blue[3];
    for (int ky = 0; ky < 3; ++ky) {
      const std::uint8_t* row = a.rows[ky] + (x - 1) * kQu8Group;
      const __m512i t0 = _mm512_loadu_si512(row);
      const __m512i t1 = _mm512_loadu_si512(row + kQu8Group);
      const __m512i t2 = _mm512_loadu_si512(row + 2 * kQu8Group);
      _mm512_storeu_si512(out + 2 * ky * group_bytes,
                          _mm512_mask_blend_epi8(byte_of_words(3), t0, _mm512_slli_epi32(t1, 24)));
      _mm512_storeu_si512(
          out + (2 * ky + 1) * group_bytes,
          _mm512_mask_blend_epi8(byte_of_words(2) | byte_of_words(3), _mm512_srli_epi32(t1, 8),
                                 _mm512_slli_epi32(t2, 16)));
      blue[ky] = t2;
    }
    // Blue is byte 2: of t2 >> 8, row 1's lands in byte 1 (and byte 3 is 0); row 0's from >> 16.
    const __m512i blues = _mm512_mask_blend_epi8(
        byte_of_words(2),
        _mm512_mask_blend_epi8(byte_of_words(0), _mm512_srli_epi32(blue[1], 8),
                               _mm512_srli_epi32(blue[0], 16)),
        blue[2]);
    _mm512_storeu_si512(out + 6 * group_bytes, blues);
  }
}

}  // namespace

const QU8Im2colConfig qu8_im2col_16_avx512bw_config{"qu8-im2col/16-avx512bw", Isa::kAvx512,
                                                    qu8_im2col_ukernel_16_avx512bw};

}  // namespace quicksr::engine
