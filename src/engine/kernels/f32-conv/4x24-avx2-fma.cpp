// AVX2+FMA f32 row kernel for convs of any kernel size (1x1, 5x5...). Tile: 4 output channels x
// 24 pixels (3 ymm) = 12 accumulators + 3 inputs + 1 broadcast weight. Built with AVX2 flags for
// this file only; called only after the run-time CPU check.
#include "engine/kernels/f32_avx256_ops.hpp"
#include "engine/kernels/f32_conv_tile.hpp"

namespace quicksr::engine {

namespace {

void f32_conv_ukernel_4x24_avx2_fma(const F32ConvArgs& args) {
  f32_conv_row<f32::Avx256Ops, 4, 3, 96>(args);
}

}  // namespace

const F32ConvConfig f32_conv_4x24_avx2_fma_config{
    "f32-conv/4x24-avx2-fma",       Isa::kAvx2Fma, 4, f32::Avx256Ops::kLanes,
    f32_conv_ukernel_4x24_avx2_fma, pack_conv_goi};

}  // namespace quicksr::engine
