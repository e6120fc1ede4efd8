// INT8 3x3 row kernel for AVX-512 without VNNI, exact (s16 widening + `vpmaddwd` zmm, see
// qu8_avx512_ops.hpp): 4 output channels x 4 zmm of 16 pixels (16 accumulators, 8 widened
// inputs), twice the lanes of the AVX2 kernel. The full 3x3 tile is inline assembly (16
// accumulators, 8 widened inputs, 2 weights, 2 products and the mask: 29 zmm), as in
// 4x96-avx512vnni.cpp: GCC's code for the intrinsics kept the tile partly on the stack.
#include "engine/kernels/qu8_asm_tile.hpp"
#include "engine/kernels/qu8_avx512_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

// The assembly text, one instruction per line:
// clang-format off
// Inputs of one tap: pixels [x - 1 + kx, + 64) of a row, 4 zmm, widened to channels 0,2 as s16
// (zmm19..zmm22) and channels 1,3 (zmm23..zmm26); zmm31 holds the mask 0x00ff00ff.
#define QU8_LOADS(row, kx)                         \
  "vmovdqu64 " kx "*4(" row "), %%zmm19\n\t"       \
  "vmovdqu64 " kx "*4+64(" row "), %%zmm20\n\t"    \
  "vmovdqu64 " kx "*4+128(" row "), %%zmm21\n\t"   \
  "vmovdqu64 " kx "*4+192(" row "), %%zmm22\n\t"   \
  "vpsrld $8, %%zmm19, %%zmm23\n\t"                \
  "vpsrld $8, %%zmm20, %%zmm24\n\t"                \
  "vpsrld $8, %%zmm21, %%zmm25\n\t"                \
  "vpsrld $8, %%zmm22, %%zmm26\n\t"                \
  "vpandd %%zmm31, %%zmm19, %%zmm19\n\t"           \
  "vpandd %%zmm31, %%zmm20, %%zmm20\n\t"           \
  "vpandd %%zmm31, %%zmm21, %%zmm21\n\t"           \
  "vpandd %%zmm31, %%zmm22, %%zmm22\n\t"           \
  "vpandd %%zmm31, %%zmm23, %%zmm23\n\t"           \
  "vpandd %%zmm31, %%zmm24, %%zmm24\n\t"           \
  "vpandd %%zmm31, %%zmm25, %%zmm25\n\t"           \
  "vpandd %%zmm31, %%zmm26, %%zmm26\n\t"
// Accumulator a += the s16 pair sums of inputs (even, odd) with the weights in zmm27, zmm28.
#define QU8_PIXELS(even, odd, a)                         \
  "vpmaddwd %%zmm27, %%zmm" even ", %%zmm29\n\t"         \
  "vpmaddwd %%zmm28, %%zmm" odd ", %%zmm30\n\t"          \
  "vpaddd %%zmm29, %" #a ", %" #a "\n\t"                 \
  "vpaddd %%zmm30, %" #a ", %" #a "\n\t"
// Output channel o of a tap: broadcast its two weight words (weights at r9), then accumulators
// a0..a3 of channel o.
#define QU8_CHANNEL(tap, o, a0, a1, a2, a3)                  \
  "vpbroadcastd " tap "*32+" #o "*8(%%r9), %%zmm27\n\t"      \
  "vpbroadcastd " tap "*32+" #o "*8+4(%%r9), %%zmm28\n\t"    \
  QU8_PIXELS("19", "23", a0)                                 \
  QU8_PIXELS("20", "24", a1)                                 \
  QU8_PIXELS("21", "25", a2)                                 \
  QU8_PIXELS("22", "26", a3)
#define QU8_TAP(tap, row, kx)                  \
  QU8_LOADS(row, kx)                           \
  QU8_CHANNEL(tap, 0, 0, 4, 8, 12)             \
  QU8_CHANNEL(tap, 1, 1, 5, 9, 13)             \
  QU8_CHANNEL(tap, 2, 2, 6, 10, 14)            \
  QU8_CHANNEL(tap, 3, 3, 7, 11, 15)
// Accumulators o, o + 4, ... = the bias of channel o (biases at r8).
#define QU8_BIAS(o, a0, a1, a2, a3)                 \
  "vpbroadcastd " #o "*4(%%r8), %" #a0 "\n\t"       \
  "vmovdqa64 %" #a0 ", %" #a1 "\n\t"                \
  "vmovdqa64 %" #a0 ", %" #a2 "\n\t"                \
  "vmovdqa64 %" #a0 ", %" #a3 "\n\t"
// clang-format on

struct Avx512BwOps : qu8::Avx512Ops<false> {
  // The 4 x 64 tile of a 3x3 conv: accumulator acc[p][o] is output channel o of pixels
  // [x + 16p, + 16). Pointers and loop as in qu8_asm_tile.hpp.
  static void sum_tile(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[4][kQu8Group],
                       qu8::KernelSize<3>) {
    const auto params = qu8::asm_tile_params(a, group, x, kWeightWords);
    // clang-format off
    asm(QU8_ASM_TILE_BEGIN
        "mov $0x00ff00ff, %%r10d\n\t"
        "vpbroadcastd %%r10d, %%zmm31\n\t"
        QU8_BIAS(0, 0, 4, 8, 12)
        QU8_BIAS(1, 1, 5, 9, 13)
        QU8_BIAS(2, 2, 6, 10, 14)
        QU8_BIAS(3, 3, 7, 11, 15)
        QU8_ASM_TILE_LOOP(QU8_TAP, "288")
        : "=&v"(acc[0][0]), "=&v"(acc[0][1]), "=&v"(acc[0][2]), "=&v"(acc[0][3]),
          "=&v"(acc[1][0]), "=&v"(acc[1][1]), "=&v"(acc[1][2]), "=&v"(acc[1][3]),
          "=&v"(acc[2][0]), "=&v"(acc[2][1]), "=&v"(acc[2][2]), "=&v"(acc[2][3]),
          "=&v"(acc[3][0]), "=&v"(acc[3][1]), "=&v"(acc[3][2]), "=&v"(acc[3][3])
        : [p] "r"(params.data())
        : QU8_ASM_TILE_CLOBBERS,
          "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27",
          "xmm28", "xmm29", "xmm30", "xmm31");
    // clang-format on
  }
};

#undef QU8_BIAS
#undef QU8_TAP
#undef QU8_CHANNEL
#undef QU8_PIXELS
#undef QU8_LOADS

void qu8_conv3x3_ukernel_4x64_avx512bw(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx512BwOps, 4>(args);
}

void qu8_conv1x1_ukernel_4x64_avx512bw(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx512BwOps, 4, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x64_avx512bw_config{"qu8-conv3x3/4x64-avx512bw",
                                                        Isa::kAvx512,
                                                        16,
                                                        64,
                                                        qu8_conv3x3_ukernel_4x64_avx512bw,
                                                        qu8_conv1x1_ukernel_4x64_avx512bw,
                                                        pack_qu8_conv3x3_s16x2,
                                                        false};

}  // namespace quicksr::engine
