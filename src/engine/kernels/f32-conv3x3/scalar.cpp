// Portable f32 3x3 row kernel: f32-conv/scalar (plain loops that compilers auto-vectorise) with a
// 3x3 window.
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

// The tile of f32-conv/scalar, which does the work (weights packed for its groups of 4).
constexpr int kGroup = 4;
constexpr int kPixels = 8;

// The general-size scalar kernel with a 3x3 window starting one column to the left (the output
// pointer and first column moved by one, so that no pointer leaves its buffer).
void f32_conv3x3_ukernel_scalar(const F32Conv3x3Args& a) {
  const F32ConvArgs args{a.rows,          a.in_stride, a.in_channels,  3,          3,
                         a.weights,       a.bias,      a.out_channels, a.out + 1,  a.out_stride,
                         a.col_begin - 1, a.col_count, a.clamp,        a.clamp_max};
  f32_conv_scalar_config.run(args);
}

}  // namespace

const F32Conv3x3Config f32_conv3x3_scalar_config{
    "f32-conv3x3/scalar", Isa::kScalar, kGroup, kPixels, f32_conv3x3_ukernel_scalar, pack_conv_goi};

}  // namespace quicksr::engine
