// AVX-512 Winograd F(4,3) row conv. Per point k, the products are a 3x1 conv over the three
// transformed rows with a register tile of 8 output channels x 48 tiles (3 zmm): 24 accumulators
// + 3 input vectors, the weights broadcast straight from memory into the FMAs ({1to16}), 24 FMAs
// per 3 loads and 8 broadcast loads. 32 zmm registers hold this tile without spills, so plain
// intrinsics suffice (the AVX2 4x24 tile needs inline assembly). Output channel counts that are
// a multiple of 4 but not of 8 (the 12 outputs of an x2 last conv) end with a 4-channel tile
// instead of padding to 16. The products of one chunk of tiles go to the scratch, then the output
// transform, bias and clamp write the phase-split output. Built with AVX-512 flags for this file
// only; called only after the run-time CPU check.
#include <immintrin.h>

#include <algorithm>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

namespace {

constexpr int kGroup = 8;        // output channels per register tile
constexpr int kPaddedGroup = 4;  // channels are padded to this (the last tile may be 4 wide)
constexpr int kTileBlock = 16;   // tiles per vector
constexpr int kChunkTiles = 48;  // tiles per pass: one 8 x 48 register tile

// The products of `kChannels` output channels x `kVectors` x 16 tiles of one point.
template <int kChannels, int kVectors>
void multiply_tiles(const F32WinogradConvArgs& args, const float* weights, std::size_t offset,
                    float* m) {
  __m512 acc[kChannels][kVectors];
  for (int j = 0; j < kChannels; ++j) {
    for (int v = 0; v < kVectors; ++v) acc[j][v] = _mm512_setzero_ps();
  }
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci, offset += args.tile_stride) {
    for (int ky = 0; ky < 3; ++ky, w += kChannels) {
      __m512 x[kVectors];
      for (int v = 0; v < kVectors; ++v) x[v] = _mm512_loadu_ps(args.rows[ky] + offset + 16 * v);
      for (int j = 0; j < kChannels; ++j) {
        const __m512 wj = _mm512_set1_ps(w[j]);
        for (int v = 0; v < kVectors; ++v) acc[j][v] = _mm512_fmadd_ps(x[v], wj, acc[j][v]);
      }
    }
  }
  for (int j = 0; j < kChannels; ++j) {
    for (int v = 0; v < kVectors; ++v) _mm512_storeu_ps(m + j * kChunkTiles + 16 * v, acc[j][v]);
  }
}

template <int kChannels>
void multiply_chunk(const F32WinogradConvArgs& args, const float* weights, std::size_t offset,
                    int count, float* m) {
  if (count == 48) {
    multiply_tiles<kChannels, 3>(args, weights, offset, m);
  } else if (count == 32) {
    multiply_tiles<kChannels, 2>(args, weights, offset, m);
  } else {
    multiply_tiles<kChannels, 1>(args, weights, offset, m);
  }
}

// Output transform, bias and clamp of `count` tiles from the scratch to the phase-split output.
void finish_tiles(const F32WinogradConvArgs& args, int tile, int count, const float* scratch) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 upper = _mm512_set1_ps(args.clamp_max);
  for (int o = 0; o < args.out_channels; ++o) {
    float* phase = args.out + o * kWinogradTile * args.tile_stride + tile;
    const __m512 bias = _mm512_set1_ps(args.bias[o]);
    for (int i = 0; i < count; i += kTileBlock) {
      __m512 m[kWinogradPoints];
      for (int k = 0; k < kWinogradPoints; ++k) {
        m[k] = _mm512_loadu_ps(scratch + (k * args.out_channels + o) * kChunkTiles + i);
      }
      __m512 y[kWinogradTile];
      winograd_f43::transform_output(m, y);
      for (int j = 0; j < kWinogradTile; ++j) {
        __m512 r = _mm512_add_ps(y[j], bias);
        if (args.clamp) r = _mm512_min_ps(_mm512_max_ps(r, zero), upper);
        _mm512_storeu_ps(phase + j * args.tile_stride + i, r);
      }
    }
  }
}

// Chunks of 48 tiles (192 pixels): per point, every output group reuses the chunk's input planes
// of that point from L1. Weights: per point, groups of 8 channels and a last group of 4 when the
// channel count is 4 mod 8, each [in_channel][ky][group] (pack_winograd_f43_avx512).
void f32_winograd_f43_conv_ukernel_8x48_avx512f(const F32WinogradConvArgs& args) {
  const int full_groups = args.out_channels / kGroup;
  const bool half_group = args.out_channels % kGroup != 0;
  const std::size_t point_weights =
      static_cast<std::size_t>(args.out_channels) * args.in_channels * 3;
  const int tile_end = args.tile_begin + args.tile_count;
  for (int tile = args.tile_begin; tile < tile_end; tile += kChunkTiles) {
    const int count = std::min(kChunkTiles, tile_end - tile);
    for (int k = 0; k < kWinogradPoints; ++k) {
      const std::size_t offset = static_cast<std::size_t>(k) * args.in_channels * args.tile_stride +
                                 static_cast<std::size_t>(tile);
      const float* weights = args.weights + k * point_weights;
      float* m = args.scratch + static_cast<std::size_t>(k) * args.out_channels * kChunkTiles;
      for (int group = 0; group < full_groups; ++group) {
        multiply_chunk<kGroup>(args, weights, offset, count, m);
        weights += static_cast<std::size_t>(kGroup) * args.in_channels * 3;
        m += kGroup * kChunkTiles;
      }
      if (half_group) multiply_chunk<kGroup / 2>(args, weights, offset, count, m);
    }
    finish_tiles(args, tile, count, args.scratch);
  }
}

// Per point k: groups of 8 output channels, [in_channel][ky][8], then (channels 4 mod 8) one
// group of 4, [in_channel][ky][4]. The same values as pack_winograd_f43_goi with groups of 8 and
// of 4.
std::vector<float> pack_winograd_f43_avx512(const Conv2d& conv, int channel_group) {
  const int padded = (conv.out_channels + channel_group - 1) / channel_group * channel_group;
  const std::vector<float> by8 = pack_winograd_f43_goi(conv, kGroup);
  const std::vector<float> by4 = pack_winograd_f43_goi(conv, kPaddedGroup);
  const std::size_t per_channel = static_cast<std::size_t>(conv.in_channels) * 3;
  const std::size_t point8 = (padded + kGroup - 1) / kGroup * kGroup * per_channel;
  const std::size_t point4 = padded * per_channel;
  std::vector<float> packed(kWinogradPoints * point4);
  const int full = padded / kGroup * kGroup;
  for (int k = 0; k < kWinogradPoints; ++k) {
    std::copy_n(by8.begin() + k * point8, full * per_channel, packed.begin() + k * point4);
    std::copy_n(by4.begin() + k * point4 + full * per_channel, (padded - full) * per_channel,
                packed.begin() + k * point4 + full * per_channel);
  }
  return packed;
}

}  // namespace

const F32WinogradConfig f32_winograd_f43_8x48_avx512f_config{
    "f32-winograd-f43-conv/8x48-avx512f",
    "f32-winograd-f43-input/16-avx512f",
    Isa::kAvx512,
    kPaddedGroup,
    kTileBlock,
    kChunkTiles,
    f32_winograd_f43_conv_ukernel_8x48_avx512f,
    f32_winograd_f43_input_ukernel_16_avx512f,
    pack_winograd_f43_avx512};

}  // namespace quicksr::engine
