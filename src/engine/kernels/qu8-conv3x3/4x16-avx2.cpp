// INT8 3x3 row kernel for AVX2 without VNNI, exact (s16 widening + `vpmaddwd`, see
// qu8_avx256_ops.hpp): 4 output channels x 2 ymm of 8 pixels (8 accumulators, 2 widened inputs).
#include "engine/kernels/qu8_avx256_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

void qu8_conv3x3_ukernel_4x16_avx2(const QU8Conv3x3Args& args) {
  qu8::conv_row<qu8::Avx256Ops<false>, 2>(args);
}

void qu8_conv1x1_ukernel_4x16_avx2(const QU8Conv3x3Args& args) {
  qu8::conv_row<qu8::Avx256Ops<false>, 2, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x16_avx2_config{
    "qu8-conv3x3/4x16-avx2",       Isa::kAvx2Fma,         8, 16, qu8_conv3x3_ukernel_4x16_avx2,
    qu8_conv1x1_ukernel_4x16_avx2, pack_qu8_conv3x3_s16x2};

}  // namespace quicksr::engine
