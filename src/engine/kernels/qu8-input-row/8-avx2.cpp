// INT8 input row on ymm: 8 pixels per step, 4 in each 128-bit lane. 3-byte pixels: the lanes load
// the 12 bytes of their pixels with two overlapping 16-byte loads; 4-byte pixels (RGBA, BGRA): one
// 32-byte load. A `vpshufb` then forms the words R, G, B, R (as in qu8-input-row/16-avx512bw).
// Unmasked loads read 4 bytes past the step, so the last pixels go to the scalar kernel.
#include <immintrin.h>

#include <array>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kPixels = 8;

// The lanes' `vpshufb` mask (qu8_input_row_lane_shuffle) in both lanes.
__m256i word_shuffle(int pixel_bytes, bool blue_first) {
  const std::array<std::uint8_t, 16> lane = qu8_input_row_lane_shuffle(pixel_bytes, blue_first);
  return _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(lane.data())));
}

void qu8_input_row_ukernel_8_avx2(const QU8InputRowArgs& a) {
  const __m256i words = word_shuffle(a.pixel_bytes, a.blue_first);
  int x = 0;
  if (a.pixel_bytes == 4) {
    // The load's last byte is pixel x + 7's fourth, past the view when that pixel is the last.
    for (; x + kPixels < a.pixels; x += kPixels) {
      const __m256i pixels = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.rgb + x * 4));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.out + x * kQu8Group),
                          _mm256_shuffle_epi8(pixels, words));
    }
  } else {
    // Bytes 3x .. 3x + 27 are read: pixel x + 9 must exist.
    for (; x + kPixels + 2 <= a.pixels; x += kPixels) {
      const std::uint8_t* rgb = a.rgb + x * 3;
      const __m256i pixels = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(rgb + 12),
                                                 reinterpret_cast<const __m128i*>(rgb));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.out + x * kQu8Group),
                          _mm256_shuffle_epi8(pixels, words));
    }
  }
  qu8_input_row_from(a, x);
}

}  // namespace

const QU8InputRowConfig qu8_input_row_8_avx2_config{"qu8-input-row/8-avx2", Isa::kAvx2Fma,
                                                    qu8_input_row_ukernel_8_avx2};

}  // namespace quicksr::engine
