// Portable Winograd F(4,3) row conv: per point a 3x1 conv over the transformed rows into the
// scratch, then the output transform, bias and clamp; plain loops that compilers auto-vectorise.
#include <algorithm>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

namespace {

constexpr int kGroup = 4;        // output channels per tile
constexpr int kTileBlock = 8;    // tiles per step
constexpr int kChunkTiles = 24;  // tiles per pass over the output groups

// Products of point k, output group `group`, for `count` tiles from `tile` into the scratch.
void multiply_point(const F32WinogradConvArgs& args, int k, int group, int tile, int count,
                    float* scratch) {
  const int groups = args.out_channels / kGroup;
  const float* w =
      args.weights + static_cast<std::size_t>(k * groups + group) * args.in_channels * 3 * kGroup;
  for (int block = 0; block < count; block += kTileBlock) {
    float acc[kGroup][kTileBlock] = {};
    const float* wc = w;
    for (int ci = 0; ci < args.in_channels; ++ci) {
      const std::size_t plane = (k * args.in_channels + ci) * args.tile_stride + tile + block;
      for (int ky = 0; ky < 3; ++ky, wc += kGroup) {
        const float* in = args.rows[ky] + plane;
        for (int j = 0; j < kGroup; ++j) {
          for (int p = 0; p < kTileBlock; ++p) acc[j][p] += wc[j] * in[p];
        }
      }
    }
    for (int j = 0; j < kGroup; ++j) {
      float* m = scratch + (k * args.out_channels + group * kGroup + j) * kChunkTiles;
      std::copy(acc[j], acc[j] + kTileBlock, m + block);
    }
  }
}

void finish_tiles(const F32WinogradConvArgs& args, int tile, int count, const float* scratch) {
  for (int o = 0; o < args.out_channels; ++o) {
    float* phase = args.out + o * kWinogradTile * args.tile_stride + tile;
    for (int i = 0; i < count; ++i) {
      float m[kWinogradPoints];
      for (int k = 0; k < kWinogradPoints; ++k) {
        m[k] = scratch[(k * args.out_channels + o) * kChunkTiles + i];
      }
      float y[kWinogradTile];
      winograd_f43::transform_output(m, y);
      for (int j = 0; j < kWinogradTile; ++j) {
        const float v = y[j] + args.bias[o];
        phase[j * args.tile_stride + i] =
            args.clamp ? std::min(std::max(v, 0.0f), args.clamp_max) : v;
      }
    }
  }
}

void f32_winograd_f43_conv_ukernel_scalar(const F32WinogradConvArgs& args) {
  const int tile_end = args.tile_begin + args.tile_count;
  for (int tile = args.tile_begin; tile < tile_end; tile += kChunkTiles) {
    const int count = std::min(kChunkTiles, tile_end - tile);
    for (int k = 0; k < kWinogradPoints; ++k) {
      for (int group = 0; group < args.out_channels / kGroup; ++group) {
        multiply_point(args, k, group, tile, count, args.scratch);
      }
    }
    finish_tiles(args, tile, count, args.scratch);
  }
}

}  // namespace

const F32WinogradConfig f32_winograd_f43_scalar_config{"f32-winograd-f43-conv/scalar",
                                                       "f32-winograd-f43-input/scalar",
                                                       Isa::kScalar,
                                                       kGroup,
                                                       kTileBlock,
                                                       kChunkTiles,
                                                       f32_winograd_f43_conv_ukernel_scalar,
                                                       f32_winograd_f43_input_ukernel_scalar,
                                                       pack_winograd_f43_goi};

}  // namespace quicksr::engine
