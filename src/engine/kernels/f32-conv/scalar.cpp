// Portable f32 row kernel for convs of any kernel size: plain loops over a block of pixels that
// compilers auto-vectorise for whatever the target offers.
#include <algorithm>

#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

constexpr int kGroup = kF32ScalarConvGroup;    // output channels per tile
constexpr int kPixels = kF32ScalarConvPixels;  // pixels per tile

}  // namespace

void f32_conv_ukernel_scalar(const F32ConvArgs& args) {
  const std::size_t taps = static_cast<std::size_t>(args.kernel_h) * args.kernel_w;
  for (int group = 0; group < args.out_channels / kGroup; ++group) {
    const float* weights = args.weights + group * args.in_channels * taps * kGroup;
    for (int col = args.col_begin; col < args.col_begin + args.col_count; col += kPixels) {
      float acc[kGroup][kPixels];
      for (int j = 0; j < kGroup; ++j) {
        for (int p = 0; p < kPixels; ++p) acc[j][p] = args.bias[group * kGroup + j];
      }
      const float* w = weights;
      for (int ci = 0; ci < args.in_channels; ++ci) {
        for (int ky = 0; ky < args.kernel_h; ++ky) {
          const float* in = args.rows[ky] + ci * args.in_stride + col;
          for (int kx = 0; kx < args.kernel_w; ++kx, w += kGroup) {
            for (int j = 0; j < kGroup; ++j) {
              for (int p = 0; p < kPixels; ++p) acc[j][p] += w[j] * in[kx + p];
            }
          }
        }
      }
      for (int j = 0; j < kGroup; ++j) {
        float* out = args.out + (group * kGroup + j) * args.out_stride + col;
        for (int p = 0; p < kPixels; ++p) {
          const float v = acc[j][p];
          out[p] = args.clamp ? std::min(std::max(v, 0.0f), args.clamp_max) : v;
        }
      }
    }
  }
}

const F32ConvConfig f32_conv_scalar_config{"f32-conv/scalar",       Isa::kScalar, kGroup, kPixels,
                                           f32_conv_ukernel_scalar, pack_conv_goi};

}  // namespace quicksr::engine
