// Portable Winograd F(4,3) row conv: per point a 3x1 conv over the transformed rows into the
// scratch, then the output transform, bias and clamp; plain loops that compilers auto-vectorise.
#include <algorithm>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

namespace {

// Products of point k, output group `group`, for `count` tiles from `tile` into the scratch.
void multiply_point(const F32WinogradConvArgs& args, int k, int group, int tile, int count,
                    float* scratch) {
  const int groups = args.out_channels / kConvGroup;
  const float* w = args.weights +
                   static_cast<std::size_t>(k * groups + group) * args.in_channels * 3 * kConvGroup;
  for (int block = 0; block < count; block += kWinogradTileBlock) {
    float acc[kConvGroup][kWinogradTileBlock] = {};
    const float* wc = w;
    for (int ci = 0; ci < args.in_channels; ++ci) {
      const std::size_t plane = (k * args.in_channels + ci) * args.tile_stride + tile + block;
      for (int ky = 0; ky < 3; ++ky, wc += kConvGroup) {
        const float* in = args.rows[ky] + plane;
        for (int j = 0; j < kConvGroup; ++j) {
          for (int p = 0; p < kWinogradTileBlock; ++p) acc[j][p] += wc[j] * in[p];
        }
      }
    }
    for (int j = 0; j < kConvGroup; ++j) {
      float* m = scratch + (k * args.out_channels + group * kConvGroup + j) * kWinogradChunkTiles;
      std::copy(acc[j], acc[j] + kWinogradTileBlock, m + block);
    }
  }
}

void finish_tiles(const F32WinogradConvArgs& args, int tile, int count, const float* scratch) {
  for (int o = 0; o < args.out_channels; ++o) {
    float* phase = args.out + o * kWinogradTile * args.tile_stride + tile;
    for (int i = 0; i < count; ++i) {
      float m[kWinogradPoints];
      for (int k = 0; k < kWinogradPoints; ++k) {
        m[k] = scratch[(k * args.out_channels + o) * kWinogradChunkTiles + i];
      }
      float y[kWinogradTile];
      winograd_f43::transform_output(m, y);
      for (int j = 0; j < kWinogradTile; ++j) {
        const float v = y[j] + args.bias[o];
        phase[j * args.tile_stride + i] =
            args.clamp ? (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v)) : v;
      }
    }
  }
}

}  // namespace

void f32_winograd_f43_conv_ukernel_scalar(const F32WinogradConvArgs& args) {
  const int tile_end = args.tile_begin + args.tile_count;
  for (int tile = args.tile_begin; tile < tile_end; tile += kWinogradChunkTiles) {
    const int count = std::min(kWinogradChunkTiles, tile_end - tile);
    for (int k = 0; k < kWinogradPoints; ++k) {
      for (int group = 0; group < args.out_channels / kConvGroup; ++group) {
        multiply_point(args, k, group, tile, count, args.scratch);
      }
    }
    finish_tiles(args, tile, count, args.scratch);
  }
}

}  // namespace quicksr::engine
