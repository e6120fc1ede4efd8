#pragma once
// The register-tiled INT8 row loop of a kKernel x kKernel conv (3x3, or the 1x1 of the x1.5 tail)
// shared by the SIMD kernels; each kernel file instantiates
// it with its own vector operations (compiled with that file's ISA flags). Everything here is a
// template on those operations, so no code is shared between files compiled for different ISAs.
//
// Ops provides:
//   Vec, Input                      s32 accumulators of kLanes pixels; one prepared input vector
//   kLanes, kWeightWords            pixels per vector; packed words per output channel and tap
//   Vec set1(int32_t)
//   Input load(const uint8_t* p)    kLanes pixels of one channel group (4 bytes per pixel)
//   Vec dot(Vec acc, const Input&, const int32_t* w)   acc + the 4-channel dot products
//   Output output(const QU8Conv3x3Args&, int group)
//       what the stores of output channel group `group` need (read once per tile)
//   void store(const Output&, const Vec (&acc)[4], int x)
//       requantise and store kLanes pixels from column x of that group (or the raw sums)
// and optionally, for a tile it writes by hand (overloaded on the tile and kernel size),
//   void sum_tile(const QU8Conv3x3Args&, int group, int x, Vec (&acc)[kTile][4],
//                 KernelSize<kKernel>)                     what qu8::sum_tile computes
#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine::qu8 {

// The kernel size as a type, to select a kernel's hand-written tile (Ops::sum_tile).
template <int kKernel>
struct KernelSize {};

// acc = bias + the kKernel x kKernel conv of kTile vectors of pixels from column x, for output
// channel group `group`.
template <typename Ops, int kTile, int kKernel>
inline void sum_tile(const QU8Conv3x3Args& a, int group, int x,
                     typename Ops::Vec (&acc)[kTile][kQu8Group]) {
#pragma GCC unroll 8
  for (int p = 0; p < kTile; ++p) {
#pragma GCC unroll 4
    for (int o = 0; o < kQu8Group; ++o) acc[p][o] = Ops::set1(a.bias[group * kQu8Group + o]);
  }
  constexpr int kTapWords = kQu8Group * Ops::kWeightWords;
  const std::int32_t* w =
      a.weights + static_cast<std::size_t>(group) * a.in_groups * kKernel * kKernel * kTapWords;
  for (int g = 0; g < a.in_groups; ++g) {
    for (int ky = 0; ky < kKernel; ++ky) {
      const std::uint8_t* row = a.rows[ky] + (g * a.in_stride + x - kKernel / 2) * kQu8Group;
#pragma GCC unroll 3
      for (int kx = 0; kx < kKernel; ++kx, w += kTapWords) {
        typename Ops::Input in[kTile];
#pragma GCC unroll 8
        for (int p = 0; p < kTile; ++p) in[p] = Ops::load(row + (kx + p * Ops::kLanes) * kQu8Group);
#pragma GCC unroll 4
        for (int o = 0; o < kQu8Group; ++o) {
#pragma GCC unroll 8
          for (int p = 0; p < kTile; ++p) {
            acc[p][o] = Ops::dot(acc[p][o], in[p], w + o * Ops::kWeightWords);
          }
        }
      }
    }
  }
}

// kTile vectors of pixels x kQu8Group output channels, starting at column x.
template <typename Ops, int kTile, int kKernel>
inline void conv_tile(const QU8Conv3x3Args& a, int group, int x) {
  typename Ops::Vec acc[kTile][kQu8Group];
  // A kernel may hand-write the sums of its widest tile.
  if constexpr (requires { Ops::sum_tile(a, group, x, acc, KernelSize<kKernel>{}); }) {
    Ops::sum_tile(a, group, x, acc, KernelSize<kKernel>{});
  } else {
    sum_tile<Ops, kTile, kKernel>(a, group, x, acc);
  }
  const typename Ops::Output out = Ops::output(a, group);
#pragma GCC unroll 8
  for (int p = 0; p < kTile; ++p) Ops::store(out, acc[p], x + p * Ops::kLanes);
}

// Columns [x, x + tile * kLanes) for a tile of 1..kMaxTile vectors, every output group.
template <typename Ops, int kMaxTile, int kKernel>
inline void conv_columns(const QU8Conv3x3Args& a, int x, int tile) {
  if constexpr (kMaxTile > 1) {
    if (tile < kMaxTile) return conv_columns<Ops, kMaxTile - 1, kKernel>(a, x, tile);
  }
  for (int group = 0; group < a.out_channels / kQu8Group; ++group) {
    conv_tile<Ops, kMaxTile, kKernel>(a, group, x);
  }
}

// One output row: chunks of kMaxTile vectors of pixels, all output groups per chunk (so the
// chunk's inputs stay in L1), then one narrower tile for the rest.
template <typename Ops, int kMaxTile, int kKernel = 3>
void conv_row(const QU8Conv3x3Args& a) {
  constexpr int kTilePixels = kMaxTile * Ops::kLanes;
  static_assert(kQu8ColumnBlock % Ops::kLanes == 0);
  const int end = a.col_begin + a.col_count;
  int x = a.col_begin;
  for (; x + kTilePixels <= end; x += kTilePixels) {
    conv_columns<Ops, kMaxTile, kKernel>(a, x, kMaxTile);
  }
  if (x < end) conv_columns<Ops, kMaxTile, kKernel>(a, x, (end - x) / Ops::kLanes);
}

}  // namespace quicksr::engine::qu8
