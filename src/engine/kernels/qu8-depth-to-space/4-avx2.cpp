// INT8 depth-to-space with byte shuffles: 4 pixels per step. One 128-bit load per channel group
// holds its 4 channels of 4 pixels; each 16-byte piece of an output row is the OR of `vpshufb`s
// of the groups it takes bytes from, with masks built from the channel map once per call. Pieces
// of 4-byte pixels (RGBA, BGRA) also OR in the kept bytes (alpha) of the row they replace.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kPixels = 4;
constexpr int kMaxGroups = (kQu8MaxDepthToSpaceScale * kQu8MaxDepthToSpaceScale * 3 + 3) / 4;
constexpr int kMaxPieces = (kPixels * kQu8MaxDepthToSpaceScale * 4 + 15) / 16;

// The shuffles of one 16-byte piece of an output row: `count` (group, mask) pairs, and the bytes
// it keeps from the row.
struct Piece {
  int bytes = 0;  // 16, or fewer for the last piece of 3-byte pixels
  int count = 0;
  int groups[kMaxGroups];
  __m128i masks[kMaxGroups];
  __m128i keep;  // 0xFF where the output byte stays as it is
};

// Pieces of output row dy for kPixels input pixels (each takes bytes from at least one group).
void build_pieces(const QU8DepthToSpaceArgs& a, int dy, Piece* pieces) {
  const int row_bytes = a.scale * a.pixel_bytes;
  const int span = kPixels * row_bytes;
  const int count = (span + 15) / 16;
  for (int piece = 0; piece < count; ++piece) {
    alignas(16) std::uint8_t masks[kMaxGroups][16];
    alignas(16) std::uint8_t keep[16] = {};
    std::memset(masks, 0x80, sizeof(masks));  // vpshufb writes 0 for a set high bit
    bool used[kMaxGroups] = {};
    const int bytes = std::min(16, span - piece * 16);
    for (int b = 0; b < bytes; ++b) {
      const int byte = piece * 16 + b;
      const int channel = a.channels[dy * row_bytes + byte % row_bytes];
      if (channel == kQu8KeepByte) {
        keep[b] = 0xFF;
        continue;
      }
      const int group = channel / kQu8Group;
      masks[group][b] =
          static_cast<std::uint8_t>(byte / row_bytes * kQu8Group + channel % kQu8Group);
      used[group] = true;
    }
    Piece& p = pieces[piece];
    p.bytes = bytes;
    p.keep = _mm_load_si128(reinterpret_cast<const __m128i*>(keep));
    p.count = 0;
    for (int group = 0; group < kMaxGroups; ++group) {
      if (!used[group]) continue;
      p.groups[p.count] = group;
      p.masks[p.count++] = _mm_load_si128(reinterpret_cast<const __m128i*>(masks[group]));
    }
  }
}

// A row's pieces are 16 bytes but for the last of 12 * scale bytes: 8 (scale 2) or 4 (scale 3).
void store_piece(std::uint8_t* out, __m128i v, int bytes) {
  if (bytes == 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
  } else if (bytes == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), v);
  } else {
    const std::int32_t word = _mm_cvtsi128_si32(v);
    std::memcpy(out, &word, sizeof(word));
  }
}

// The loops over rows, pieces and groups unroll for a known scale and pixel size.
template <int kScale, int kPixelBytes>
void depth_to_space(const QU8DepthToSpaceArgs& a) {
  constexpr int kGroups = (kScale * kScale * 3 + kQu8Group - 1) / kQu8Group;
  constexpr int kPieces = (kPixels * kScale * kPixelBytes + 15) / 16;
  constexpr int kStepBytes = kPixels * kScale * kPixelBytes;
  Piece pieces[kScale][kMaxPieces];
  for (int dy = 0; dy < kScale; ++dy) build_pieces(a, dy, pieces[dy]);
  // 4-byte pixels: the pieces rewrite the kept bytes too, and the last pixel's may lie past the
  // view (one that starts at red with the fourth byte before it): that pixel is left to the tail.
  const int simd_pixels = kPixelBytes == 4 ? a.pixels - 1 : a.pixels;
  int x = 0;
  for (; x + kPixels <= simd_pixels; x += kPixels) {
    __m128i in[kGroups];
#pragma GCC unroll 12
    for (int g = 0; g < kGroups; ++g) {
      in[g] = _mm_loadu_si128(
          reinterpret_cast<const __m128i*>(a.in + (g * a.in_stride + x) * kQu8Group));
    }
    std::uint8_t* out = a.out + static_cast<std::ptrdiff_t>(x / kPixels) * kStepBytes;
#pragma GCC unroll 4
    for (int dy = 0; dy < kScale; ++dy, out += a.out_row_step) {
#pragma GCC unroll 3
      for (int piece = 0; piece < kPieces; ++piece) {
        const Piece& p = pieces[dy][piece];
        __m128i v = _mm_shuffle_epi8(in[p.groups[0]], p.masks[0]);
        for (int k = 1; k < p.count; ++k) {
          v = _mm_or_si128(v, _mm_shuffle_epi8(in[p.groups[k]], p.masks[k]));
        }
        if constexpr (kPixelBytes == 4) {  // 16-byte pieces: 4 bytes a pixel
          const __m128i row = _mm_loadu_si128(reinterpret_cast<const __m128i*>(out + piece * 16));
          v = _mm_or_si128(v, _mm_and_si128(row, p.keep));
        }
        store_piece(out + piece * 16, v, p.bytes);
      }
    }
  }
  if (x < a.pixels) {
    QU8DepthToSpaceArgs rest = a;
    rest.in += x * kQu8Group;
    rest.pixels = a.pixels - x;
    rest.out += static_cast<std::ptrdiff_t>(x) * kScale * kPixelBytes;
    qu8_depth_to_space_ukernel_scalar(rest);
  }
}

template <int kPixelBytes>
void depth_to_space_of_pixel(const QU8DepthToSpaceArgs& a) {
  static_assert(kQu8MaxDepthToSpaceScale == 4);
  switch (a.scale) {
    case 2:
      return depth_to_space<2, kPixelBytes>(a);
    case 3:
      return depth_to_space<3, kPixelBytes>(a);
    default:
      return depth_to_space<4, kPixelBytes>(a);
  }
}

void qu8_depth_to_space_ukernel_4_avx2(const QU8DepthToSpaceArgs& a) {
  if (a.pixel_bytes == 4) return depth_to_space_of_pixel<4>(a);
  depth_to_space_of_pixel<3>(a);
}

}  // namespace

const QU8DepthToSpaceConfig qu8_depth_to_space_4_avx2_config{
    "qu8-depth-to-space/4-avx2", Isa::kAvx2Fma, qu8_depth_to_space_ukernel_4_avx2};

}  // namespace quicksr::engine
