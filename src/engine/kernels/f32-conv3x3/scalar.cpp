// Portable f32 3x3 row kernel: plain loops over a block of pixels that compilers auto-vectorise
// for whatever the target offers.
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

void f32_conv3x3_ukernel_scalar(const F32Conv3x3Args& args) {
  for (int group = 0; group < args.out_channels / kConvGroup; ++group) {
    const float* weights =
        args.weights + static_cast<std::size_t>(group) * args.in_channels * 9 * kConvGroup;
    for (int col = args.col_begin; col < args.col_begin + args.col_count; col += kColumnBlock) {
      float acc[kConvGroup][kColumnBlock];
      for (int j = 0; j < kConvGroup; ++j) {
        for (int p = 0; p < kColumnBlock; ++p) acc[j][p] = args.bias[group * kConvGroup + j];
      }
      const float* w = weights;
      for (int ci = 0; ci < args.in_channels; ++ci) {
        for (int ky = 0; ky < 3; ++ky) {
          const float* in = args.rows[ky] + ci * args.in_stride + col - 1;
          for (int kx = 0; kx < 3; ++kx, w += kConvGroup) {
            for (int j = 0; j < kConvGroup; ++j) {
              for (int p = 0; p < kColumnBlock; ++p) acc[j][p] += w[j] * in[kx + p];
            }
          }
        }
      }
      for (int j = 0; j < kConvGroup; ++j) {
        float* out = args.out + (group * kConvGroup + j) * args.out_stride + col;
        for (int p = 0; p < kColumnBlock; ++p) {
          const float v = acc[j][p];
          out[p] = args.clamp ? (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v)) : v;
        }
      }
    }
  }
}

}  // namespace quicksr::engine
