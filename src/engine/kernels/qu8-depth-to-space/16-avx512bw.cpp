// INT8 depth-to-space for scale 2 on zmm: 16 pixels per step, 4 per 128-bit lane. As in the
// 4-avx2 kernel, each lane forms its pixels' 24 bytes of an output row as two pieces (16 and 8
// bytes), each the OR of `vpshufb`s of the 3 channel groups with masks built from the channel map
// once per call; two `vpermt2q` then close the gaps between the lanes' 24 bytes (96 bytes per
// output row and step, one zmm and one ymm store). Other scales take the 4-avx2 kernel.
#include <immintrin.h>

#include <cstring>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kScale = 2;
constexpr int kGroups = kScale * kScale * 3 / kQu8Group;  // 3
constexpr int kLanePixels = 4;
constexpr int kPixels = 4 * kLanePixels;
constexpr int kLaneBytes = kLanePixels * kScale * 3;  // 24 output bytes per lane and row

// The shuffle masks of output row dy: piece 0 (lane bytes 0..15) and piece 1 (16..23, in the low 8
// bytes) per channel group, the same in every lane; bytes of other groups are 0x80 (vpshufb -> 0).
struct RowMasks {
  __m512i pieces[2][kGroups];
};

RowMasks build_masks(const QU8DepthToSpaceArgs& a, int dy) {
  alignas(64) std::uint8_t masks[2][kGroups][64];
  std::memset(masks, 0x80, sizeof(masks));
  const int row_bytes = kScale * 3;
  for (int byte = 0; byte < kLaneBytes; ++byte) {
    const int channel = a.channels[dy * row_bytes + byte % row_bytes];
    for (int lane = 0; lane < 4; ++lane) {
      masks[byte / 16][channel / kQu8Group][lane * 16 + byte % 16] =
          static_cast<std::uint8_t>(byte / row_bytes * kQu8Group + channel % kQu8Group);
    }
  }
  RowMasks row;
  for (int piece = 0; piece < 2; ++piece) {
    for (int g = 0; g < kGroups; ++g) row.pieces[piece][g] = _mm512_load_si512(masks[piece][g]);
  }
  return row;
}

__m512i shuffle_piece(const __m512i (&in)[kGroups], const __m512i (&masks)[kGroups]) {
  return _mm512_or_si512(
      _mm512_or_si512(_mm512_shuffle_epi8(in[0], masks[0]), _mm512_shuffle_epi8(in[1], masks[1])),
      _mm512_shuffle_epi8(in[2], masks[2]));
}

void depth_to_space_x2(const QU8DepthToSpaceArgs& a) {
  const RowMasks rows[kScale] = {build_masks(a, 0), build_masks(a, 1)};
  // Quadwords of the lanes' pieces p0 (2 per lane) and p1 (1 per lane) in output order:
  // lane 0: p0.q0 p0.q1 p1.q0, lane 1: p0.q2 p0.q3 p1.q2, ... (index >= 8: from p1).
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 2, 3, 10, 4, 5);
  const __m512i second = _mm512_setr_epi64(12, 6, 7, 14, 0, 0, 0, 0);
  int x = 0;
  for (; x + kPixels <= a.pixels; x += kPixels) {
    __m512i in[kGroups];
    for (int g = 0; g < kGroups; ++g) {
      in[g] = _mm512_loadu_si512(a.in + (g * a.in_stride + x) * kQu8Group);
    }
    std::uint8_t* out = a.out + static_cast<std::ptrdiff_t>(x) * kScale * 3;
    for (int dy = 0; dy < kScale; ++dy, out += a.out_row_step) {
      const __m512i p0 = shuffle_piece(in, rows[dy].pieces[0]);
      const __m512i p1 = shuffle_piece(in, rows[dy].pieces[1]);
      _mm512_storeu_si512(out, _mm512_permutex2var_epi64(p0, first, p1));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64),
                          _mm512_castsi512_si256(_mm512_permutex2var_epi64(p0, second, p1)));
    }
  }
  if (x < a.pixels) {
    QU8DepthToSpaceArgs rest = a;
    rest.in += x * kQu8Group;
    rest.pixels = a.pixels - x;
    rest.out += static_cast<std::ptrdiff_t>(x) * kScale * 3;
    qu8_depth_to_space_4_avx2_config.run(rest);
  }
}

// 4-byte pixels (RGBA, BGRA frames) at x2: 16 input pixels make 128 bytes of an output row, two
// zmm whose lane l holds input pixels 8k + 2l and 8k + 2l + 1 (8 bytes each). `vpermd` brings
// those pixels' dwords of each group into the lane, `vpshufb`s place the channel bytes, and a
// byte-masked store leaves the kept bytes (alpha) as they are.
void depth_to_space_x2_4byte(const QU8DepthToSpaceArgs& a) {
  constexpr int kRowBytes = kScale * 4;  // output bytes of one input pixel in one row
  alignas(64) std::uint8_t masks[kScale][kGroups][64];
  std::memset(masks, 0x80, sizeof(masks));
  __mmask64 store[kScale] = {0, 0};
  for (int dy = 0; dy < kScale; ++dy) {
    for (int byte = 0; byte < 64; ++byte) {
      const int channel = a.channels[dy * kRowBytes + byte % kRowBytes];
      if (channel == kQu8KeepByte) continue;
      store[dy] |= __mmask64{1} << byte;
      const int pixel = byte % 16 / kRowBytes;  // dword 0 or 1 of the lane
      masks[dy][channel / kQu8Group][byte] =
          static_cast<std::uint8_t>(pixel * kQu8Group + channel % kQu8Group);
    }
  }
  __m512i shuffles[kScale][kGroups];
  for (int dy = 0; dy < kScale; ++dy) {
    for (int g = 0; g < kGroups; ++g) shuffles[dy][g] = _mm512_load_si512(masks[dy][g]);
  }
  const __m512i halves[2] = {
      _mm512_setr_epi32(0, 1, 0, 0, 2, 3, 0, 0, 4, 5, 0, 0, 6, 7, 0, 0),
      _mm512_setr_epi32(8, 9, 0, 0, 10, 11, 0, 0, 12, 13, 0, 0, 14, 15, 0, 0)};
  int x = 0;
  for (; x + kPixels <= a.pixels; x += kPixels) {
    __m512i in[kGroups];
    for (int g = 0; g < kGroups; ++g) {
      in[g] = _mm512_loadu_si512(a.in + (g * a.in_stride + x) * kQu8Group);
    }
    for (int half = 0; half < 2; ++half) {
      __m512i pixels[kGroups];
      for (int g = 0; g < kGroups; ++g) pixels[g] = _mm512_permutexvar_epi32(halves[half], in[g]);
      std::uint8_t* out = a.out + static_cast<std::ptrdiff_t>(x) * kRowBytes + half * 64;
      for (int dy = 0; dy < kScale; ++dy, out += a.out_row_step) {
        _mm512_mask_storeu_epi8(out, store[dy], shuffle_piece(pixels, shuffles[dy]));
      }
    }
  }
  if (x < a.pixels) {
    QU8DepthToSpaceArgs rest = a;
    rest.in += x * kQu8Group;
    rest.pixels = a.pixels - x;
    rest.out += static_cast<std::ptrdiff_t>(x) * kRowBytes;
    qu8_depth_to_space_ukernel_scalar(rest);
  }
}

void qu8_depth_to_space_ukernel_16_avx512bw(const QU8DepthToSpaceArgs& a) {
  if (a.scale != kScale) return qu8_depth_to_space_4_avx2_config.run(a);
  if (a.pixel_bytes == 4) return depth_to_space_x2_4byte(a);
  depth_to_space_x2(a);
}

}  // namespace

const QU8DepthToSpaceConfig qu8_depth_to_space_16_avx512bw_config{
    "qu8-depth-to-space/16-avx512bw", Isa::kAvx512, qu8_depth_to_space_ukernel_16_avx512bw};

}  // namespace quicksr::engine
