// AVX2+FMA Winograd F(4,3) row conv. Per point k, the products are a 3x1 conv over the three
// transformed rows, computed like f32-conv3x3/4x24-avx2-fma: 4 output channels x 24 tiles = 12
// ymm accumulators + 3 input vectors + 1 broadcast weight, 12 FMAs per 3 loads and 4
// broadcasts (FMA-bound). The products of one chunk of tiles go to the scratch (L1), then the
// output transform, bias and clamp write the phase-split output. Built with -mavx2 -mfma for
// this file only; called only after the run-time CPU check.
#include <immintrin.h>

#include <algorithm>

#include "engine/kernels/avx2_fma_4x24_block.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

namespace {

constexpr int kConvGroup = 4;            // output channels per tile
constexpr int kWinogradTileBlock = 8;    // tiles per vector
constexpr int kWinogradChunkTiles = 24;  // tiles per pass: one 24-tile asm tile

// Tiles of 1 or 2 vectors (row ends): few enough registers for the compiler to allocate well.
template <int kVectors>
void multiply_tiles(const F32WinogradConvArgs& args, const float* weights, std::size_t offset,
                    float* const m[kConvGroup]) {
  __m256 acc[kConvGroup][kVectors];
  for (int j = 0; j < kConvGroup; ++j) {
    for (int v = 0; v < kVectors; ++v) acc[j][v] = _mm256_setzero_ps();
  }
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci, offset += args.tile_stride) {
    for (int ky = 0; ky < 3; ++ky, w += kConvGroup) {
      __m256 x[kVectors];
      for (int v = 0; v < kVectors; ++v) x[v] = _mm256_loadu_ps(args.rows[ky] + offset + 8 * v);
      for (int j = 0; j < kConvGroup; ++j) {
        const __m256 wj = _mm256_broadcast_ss(w + j);
        for (int v = 0; v < kVectors; ++v) acc[j][v] = _mm256_fmadd_ps(x[v], wj, acc[j][v]);
      }
    }
  }
  for (int j = 0; j < kConvGroup; ++j) {
    for (int v = 0; v < kVectors; ++v) _mm256_storeu_ps(m[j] + 8 * v, acc[j][v]);
  }
}

// One tap (ky) of the 24-tile block: the input at row pointer operand `in`.
#define QUICKSR_WINOGRAD_TAP(in, w_offset) \
  QUICKSR_AVX2_FMA_4X24_BLOCK("(%[" in "])", "32(%[" in "])", "64(%[" in "])", w_offset)

// The 24-tile block in inline assembly, for the register-allocation reason given in
// f32-conv3x3/4x24-avx2-fma.cpp. One asm block covers the 3 taps (rows) of one input channel.
void multiply_tiles_24(const F32WinogradConvArgs& args, const float* weights, std::size_t offset,
                       float* const m[kConvGroup]) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
  __m256 a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
  const float* w = weights;
  for (int ci = 0; ci < args.in_channels; ++ci, offset += args.tile_stride, w += 3 * kConvGroup) {
    const float* in0 = args.rows[0] + offset;
    const float* in1 = args.rows[1] + offset;
    const float* in2 = args.rows[2] + offset;
    asm(QUICKSR_WINOGRAD_TAP("in0", 0) QUICKSR_WINOGRAD_TAP("in1", 16)
            QUICKSR_WINOGRAD_TAP("in2", 32)
        : [a00] "+x"(a00), [a01] "+x"(a01), [a02] "+x"(a02), [a10] "+x"(a10), [a11] "+x"(a11),
          [a12] "+x"(a12), [a20] "+x"(a20), [a21] "+x"(a21), [a22] "+x"(a22), [a30] "+x"(a30),
          [a31] "+x"(a31), [a32] "+x"(a32)
        : [in0] "r"(in0), [in1] "r"(in1), [in2] "r"(in2), [w] "r"(w)
        // Input-only memory operands for the 4 blocks it reads would exceed GCC's 30 operands.
        : "xmm12", "xmm13", "xmm14", "xmm15", "memory");
  }
  const __m256 acc[kConvGroup][3] = {
      {a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}, {a30, a31, a32}};
  for (int j = 0; j < kConvGroup; ++j) {
    for (int v = 0; v < 3; ++v) _mm256_storeu_ps(m[j] + 8 * v, acc[j][v]);
  }
}

// Output transform, bias and clamp of `count` tiles from the scratch to the phase-split output.
void finish_tiles(const F32WinogradConvArgs& args, int tile, int count, const float* scratch) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 upper = _mm256_set1_ps(args.clamp_max);
  for (int o = 0; o < args.out_channels; ++o) {
    float* phase = args.out + o * kWinogradTile * args.tile_stride + tile;
    const __m256 bias = _mm256_broadcast_ss(args.bias + o);
    for (int i = 0; i < count; i += kWinogradTileBlock) {
      __m256 m[kWinogradPoints];
      for (int k = 0; k < kWinogradPoints; ++k) {
        m[k] = _mm256_loadu_ps(scratch + (k * args.out_channels + o) * kWinogradChunkTiles + i);
      }
      __m256 y[kWinogradTile];
      winograd_f43::transform_output(m, y);
      for (int j = 0; j < kWinogradTile; ++j) {
        __m256 r = _mm256_add_ps(y[j], bias);
        if (args.clamp) r = _mm256_min_ps(_mm256_max_ps(r, zero), upper);
        _mm256_storeu_ps(phase + j * args.tile_stride + i, r);
      }
    }
  }
}

// Chunks of 24 tiles (96 pixels): per point, every output group reuses the chunk's input planes
// of that point from L1, and the chunk's products (6 x out_channels x 24 floats) stay in L1 for
// the output transform.
void f32_winograd_f43_conv_ukernel_4x24_avx2_fma(const F32WinogradConvArgs& args) {
  const int groups = args.out_channels / kConvGroup;
  const int tile_end = args.tile_begin + args.tile_count;
  for (int tile = args.tile_begin; tile < tile_end; tile += kWinogradChunkTiles) {
    const int count = std::min(kWinogradChunkTiles, tile_end - tile);
    for (int k = 0; k < kWinogradPoints; ++k) {
      const std::size_t offset = static_cast<std::size_t>(k) * args.in_channels * args.tile_stride +
                                 static_cast<std::size_t>(tile);
      for (int group = 0; group < groups; ++group) {
        const float* weights = args.weights + static_cast<std::size_t>(k * groups + group) *
                                                  args.in_channels * 3 * kConvGroup;
        float* const m[kConvGroup] = {
            args.scratch + (k * args.out_channels + group * kConvGroup + 0) * kWinogradChunkTiles,
            args.scratch + (k * args.out_channels + group * kConvGroup + 1) * kWinogradChunkTiles,
            args.scratch + (k * args.out_channels + group * kConvGroup + 2) * kWinogradChunkTiles,
            args.scratch + (k * args.out_channels + group * kConvGroup + 3) * kWinogradChunkTiles};
        if (count == 24) {
          multiply_tiles_24(args, weights, offset, m);
        } else if (count == 16) {
          multiply_tiles<2>(args, weights, offset, m);
        } else {
          multiply_tiles<1>(args, weights, offset, m);
        }
      }
    }
    finish_tiles(args, tile, count, args.scratch);
  }
}

}  // namespace

const F32WinogradConfig f32_winograd_f43_4x24_avx2_fma_config{
    "f32-winograd-f43-conv/4x24-avx2-fma",
    "f32-winograd-f43-input/8-avx2-fma",
    Isa::kAvx2Fma,
    kConvGroup,
    kWinogradTileBlock,
    kWinogradChunkTiles,
    f32_winograd_f43_conv_ukernel_4x24_avx2_fma,
    f32_winograd_f43_input_ukernel_8_avx2_fma,
    pack_winograd_f43_goi};

}  // namespace quicksr::engine
