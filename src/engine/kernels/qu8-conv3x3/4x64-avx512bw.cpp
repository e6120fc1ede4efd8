// INT8 3x3 row kernel for AVX-512 without VNNI, exact (s16 widening + `vpmaddwd` zmm, see
// qu8_avx512_ops.hpp): 4 output channels x 4 zmm of 16 pixels (16 accumulators, 8 widened
// inputs), twice the lanes of the AVX2 kernel.
#include "engine/kernels/qu8_avx512_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

void qu8_conv3x3_ukernel_4x64_avx512bw(const QU8Conv3x3Args& args) {
  qu8::conv_row<qu8::Avx512Ops<false>, 4>(args);
}

void qu8_conv1x1_ukernel_4x64_avx512bw(const QU8Conv3x3Args& args) {
  qu8::conv_row<qu8::Avx512Ops<false>, 4, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x64_avx512bw_config{"qu8-conv3x3/4x64-avx512bw",
                                                        Isa::kAvx512,
                                                        16,
                                                        64,
                                                        qu8_conv3x3_ukernel_4x64_avx512bw,
                                                        qu8_conv1x1_ukernel_4x64_avx512bw,
                                                        pack_qu8_conv3x3_s16x2};

}  // namespace quicksr::engine
