// INT8 input row on zmm: 16 pixels per step. 3-byte pixels: a byte-masked load takes the 48 bytes
// the step reads, `vpermd` gives each 128-bit lane the 12 bytes of its 4 pixels (dwords
// 3L..3L+2) and `vpshufb` forms their words (bytes 3k, 3k + 1, 3k + 2, 3k of the lane, or
// 3k + 2, 3k + 1, 3k, 3k + 2 blue first). 4-byte pixels (RGBA, BGRA): a load of their colour bytes,
// and the `vpshufb` alone.
#include <immintrin.h>

#include <array>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kPixels = 16;
constexpr int kStepBytes = kPixels * 3;

// The lanes' `vpshufb` mask (qu8_input_row_lane_shuffle) in all four lanes. (A copy, not
// `_mm512_broadcast_i32x4`: GCC 12's header trips -Wuninitialized on it.)
__m512i word_shuffle(int pixel_bytes, bool blue_first) {
  const std::array<std::uint8_t, 16> lane = qu8_input_row_lane_shuffle(pixel_bytes, blue_first);
  alignas(64) std::uint8_t mask[64];
  for (int i = 0; i < 64; ++i) mask[i] = lane[i % 16];
  return _mm512_load_si512(mask);
}

void qu8_input_row_ukernel_16_avx512bw(const QU8InputRowArgs& a) {
  const __m512i words = word_shuffle(a.pixel_bytes, a.blue_first);
  int x = 0;
  if (a.pixel_bytes == 4) {  // each lane already holds its 4 pixels
    // The fourth bytes are not loaded: the last pixel's may lie past the view (an XRGB view
    // starts at red, its fourth byte is the next pixel's).
    const __mmask64 colour_bytes = 0x7777777777777777;
    for (; x + kPixels <= a.pixels; x += kPixels) {
      const __m512i pixels = _mm512_maskz_loadu_epi8(colour_bytes, a.rgb + x * 4);
      _mm512_storeu_si512(a.out + x * kQu8Group, _mm512_shuffle_epi8(pixels, words));
    }
  } else {
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11);
    const __mmask64 step_bytes = (__mmask64{1} << kStepBytes) - 1;
    for (; x + kPixels <= a.pixels; x += kPixels) {
      const __m512i rgb = _mm512_maskz_loadu_epi8(step_bytes, a.rgb + x * 3);
      _mm512_storeu_si512(a.out + x * kQu8Group,
                          _mm512_shuffle_epi8(_mm512_permutexvar_epi32(lanes, rgb), words));
    }
  }
  qu8_input_row_from(a, x);
}

}  // namespace

const QU8InputRowConfig qu8_input_row_16_avx512bw_config{"qu8-input-row/16-avx512bw", Isa::kAvx512,
                                                         qu8_input_row_ukernel_16_avx512bw};

}  // namespace quicksr::engine
