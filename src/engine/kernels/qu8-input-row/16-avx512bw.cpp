// INT8 input row on zmm: 16 pixels per step. A byte-masked load takes the 48 bytes the step reads,
// `vpermd` gives each 128-bit lane the 12 bytes of its 4 pixels (dwords 3L..3L+2) and `vpshufb`
// forms their words (bytes 3k, 3k + 1, 3k + 2, 3k of the lane).
#include <immintrin.h>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kPixels = 16;
constexpr int kStepBytes = kPixels * 3;

void qu8_input_row_ukernel_16_avx512bw(const QU8InputRowArgs& a) {
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11);
  alignas(64) static constexpr std::uint8_t kWords[64] = {
      0, 1,  2,  0, 3, 4, 5, 3,  6,  7, 8, 6, 9, 10, 11, 9, 0, 1,  2,  0, 3, 4,
      5, 3,  6,  7, 8, 6, 9, 10, 11, 9, 0, 1, 2, 0,  3,  4, 5, 3,  6,  7, 8, 6,
      9, 10, 11, 9, 0, 1, 2, 0,  3,  4, 5, 3, 6, 7,  8,  6, 9, 10, 11, 9};
  const __m512i words = _mm512_load_si512(kWords);
  const __mmask64 step_bytes = (__mmask64{1} << kStepBytes) - 1;
  int x = 0;
  for (; x + kPixels <= a.pixels; x += kPixels) {
    const __m512i rgb = _mm512_maskz_loadu_epi8(step_bytes, a.rgb + x * 3);
    _mm512_storeu_si512(a.out + x * kQu8Group,
                        _mm512_shuffle_epi8(_mm512_permutexvar_epi32(lanes, rgb), words));
  }
  QU8InputRowArgs rest = a;
  rest.rgb += x * 3;
  rest.pixels -= x;
  rest.out += x * kQu8Group;
  qu8_input_row_ukernel_scalar(rest);
}

}  // namespace

const QU8InputRowConfig qu8_input_row_16_avx512bw_config{"qu8-input-row/16-avx512bw", Isa::kAvx512,
                                                         qu8_input_row_ukernel_16_avx512bw};

}  // namespace quicksr::engine
