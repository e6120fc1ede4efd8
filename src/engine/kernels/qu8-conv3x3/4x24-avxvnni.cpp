// INT8 3x3 row kernel for AVX-VNNI (VEX-encoded 256-bit `vpdpbusd`, for CPUs without AVX-512):
// 4 output channels x 3 ymm of 8 pixels (12 accumulators, 3 inputs, 1 broadcast weight).
#include "engine/kernels/qu8_avx256_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

void qu8_conv3x3_ukernel_4x24_avxvnni(const QU8Conv3x3Args& args) {
  qu8::conv_row<qu8::Avx256Ops<true>, 3>(args);
}

void qu8_conv1x1_ukernel_4x24_avxvnni(const QU8Conv3x3Args& args) {
  qu8::conv_row<qu8::Avx256Ops<true>, 3, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x24_avxvnni_config{"qu8-conv3x3/4x24-avxvnni",
                                                       Isa::kAvxVnni,
                                                       8,
                                                       24,
                                                       qu8_conv3x3_ukernel_4x24_avxvnni,
                                                       qu8_conv1x1_ukernel_4x24_avxvnni,
                                                       pack_qu8_conv3x3_s8x4,
                                                       false};

}  // namespace quicksr::engine
