#pragma once
// The register-tiled row loop of the f32-conv kernels (any kernel size, stride 1), written once
// as a template on the vector operations so that each kernel file compiles it for its own ISA.
// Ops: V (vector type), kLanes, load, broadcast, fmadd, clamp (to [0, max]), store; the x86
// kernels use f32_avx256_ops.hpp / f32_avx512_ops.hpp.
#include <algorithm>
#include <cstddef>

#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

// kChannels output channels x kVectors vectors of pixels, starting at column `col`; `weights` is
// the group's [in][ky][kx][kChannels] block.
template <typename Ops, int kChannels, int kVectors>
void f32_conv_tile(const F32ConvArgs& args, const float* weights, const float* bias, int col,
                   float* const* out) {
  using V = typename Ops::V;
  V acc[kChannels][kVectors];
  for (int j = 0; j < kChannels; ++j) {
    const V b = Ops::broadcast(bias[j]);
    for (int v = 0; v < kVectors; ++v) acc[j][v] = b;
  }
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci) {
    for (int ky = 0; ky < args.kernel_h; ++ky) {
      const float* in = args.rows[ky] + ci * args.in_stride + col;
      for (int kx = 0; kx < args.kernel_w; ++kx, w += kChannels) {
        V x[kVectors];
        for (int v = 0; v < kVectors; ++v) x[v] = Ops::load(in + kx + Ops::kLanes * v);
        for (int j = 0; j < kChannels; ++j) {
          const V wj = Ops::broadcast(w[j]);
          for (int v = 0; v < kVectors; ++v) acc[j][v] = Ops::fmadd(x[v], wj, acc[j][v]);
        }
      }
    }
  }
  for (int j = 0; j < kChannels; ++j) {
    for (int v = 0; v < kVectors; ++v) {
      const V r = args.clamp ? Ops::clamp(acc[j][v], args.clamp_max) : acc[j][v];
      Ops::store(out[j] + col + Ops::kLanes * v, r);
    }
  }
}

// One group of kChannels output channels over the columns [begin, end): tiles of kMaxVectors
// vectors, the row end in narrower ones.
template <typename Ops, int kChannels, int kMaxVectors>
void f32_conv_group(const F32ConvArgs& args, int first_channel, const float* weights, int begin,
                    int end) {
  float* out[kChannels];
  for (int j = 0; j < kChannels; ++j) out[j] = args.out + (first_channel + j) * args.out_stride;
  const float* bias = args.bias + first_channel;
  int col = begin;
  for (; col + kMaxVectors * Ops::kLanes <= end; col += kMaxVectors * Ops::kLanes) {
    f32_conv_tile<Ops, kChannels, kMaxVectors>(args, weights, bias, col, out);
  }
  for (; col < end; col += Ops::kLanes)
    f32_conv_tile<Ops, kChannels, 1>(args, weights, bias, col, out);
}

// The whole row: columns in chunks of kChunk, every output group per chunk so that the input
// rows of a chunk stay in L1/L2 while all groups reuse them. Groups of kChannels, then (when the
// channel count is 4 mod kChannels) one of 4, matching pack_conv_goi_blocks(conv, 4, kChannels).
template <typename Ops, int kChannels, int kMaxVectors, int kChunk>
void f32_conv_row(const F32ConvArgs& args) {
  const std::size_t group_floats =
      static_cast<std::size_t>(args.in_channels) * args.kernel_h * args.kernel_w;
  const int col_end = args.col_begin + args.col_count;
  for (int chunk = args.col_begin; chunk < col_end; chunk += kChunk) {
    const int chunk_end = std::min(col_end, chunk + kChunk);
    int o = 0;
    for (; o + kChannels <= args.out_channels; o += kChannels) {
      f32_conv_group<Ops, kChannels, kMaxVectors>(args, o, args.weights + o * group_floats, chunk,
                                                  chunk_end);
    }
    if constexpr (kChannels > 4) {
      if (o < args.out_channels) {
        f32_conv_group<Ops, 4, kMaxVectors>(args, o, args.weights + o * group_floats, chunk,
                                            chunk_end);
      }
    }
  }
}

}  // namespace quicksr::engine
