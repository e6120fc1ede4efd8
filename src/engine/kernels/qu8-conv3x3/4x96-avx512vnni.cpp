// INT8 3x3 row kernel for AVX-512 VNNI: 4 output channels x 6 zmm of 16 pixels (24 accumulators).
// Per tap and input group: 6 input loads, 4 broadcast weights, 24 `vpdpbusd` (u8 pixels x s8
// weights, 4 channels per lane, exact s32 sums).
//
// The full 3x3 tile is inline assembly: 24 accumulators + 6 inputs + 1 weight take 31 of the 32
// zmm registers, and GCC's code for the intrinsics spilled accumulators and kept the 18 input
// offsets on the stack. The loop over input groups is inside the assembly block, so the
// accumulators stay in registers for the whole tile: Small x2 at 960x540 on 2 threads went from
// 20.9-21.4 to 18.0-18.2 ms (min of 30 runs, three alternating runs each, load average 12).
#include "engine/kernels/qu8_asm_tile.hpp"
#include "engine/kernels/qu8_avx512_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

// The assembly text, one instruction per line:
// clang-format off
// Inputs of one tap: pixels [x - 1 + kx, + 96) of a row, 6 zmm (zmm25..zmm30).
#define QU8_LOADS(row, kx)                         \
  "vmovdqu64 " kx "*4(" row "), %%zmm25\n\t"       \
  "vmovdqu64 " kx "*4+64(" row "), %%zmm26\n\t"    \
  "vmovdqu64 " kx "*4+128(" row "), %%zmm27\n\t"   \
  "vmovdqu64 " kx "*4+192(" row "), %%zmm28\n\t"   \
  "vmovdqu64 " kx "*4+256(" row "), %%zmm29\n\t"   \
  "vmovdqu64 " kx "*4+320(" row "), %%zmm30\n\t"
// Output channel o of a tap: broadcast its weight word (weights at r9), 6 vpdpbusd into the
// accumulators a0..a5 of channel o.
#define QU8_CHANNEL(tap, o, a0, a1, a2, a3, a4, a5)       \
  "vpbroadcastd " tap "*16+" #o "*4(%%r9), %%zmm31\n\t"   \
  "vpdpbusd %%zmm31, %%zmm25, %" #a0 "\n\t"               \
  "vpdpbusd %%zmm31, %%zmm26, %" #a1 "\n\t"               \
  "vpdpbusd %%zmm31, %%zmm27, %" #a2 "\n\t"               \
  "vpdpbusd %%zmm31, %%zmm28, %" #a3 "\n\t"               \
  "vpdpbusd %%zmm31, %%zmm29, %" #a4 "\n\t"               \
  "vpdpbusd %%zmm31, %%zmm30, %" #a5 "\n\t"
#define QU8_TAP(tap, row, kx)                  \
  QU8_LOADS(row, kx)                           \
  QU8_CHANNEL(tap, 0, 0, 4, 8, 12, 16, 20)     \
  QU8_CHANNEL(tap, 1, 1, 5, 9, 13, 17, 21)     \
  QU8_CHANNEL(tap, 2, 2, 6, 10, 14, 18, 22)    \
  QU8_CHANNEL(tap, 3, 3, 7, 11, 15, 19, 23)
// Accumulators o, o + 4, ... = the bias of channel o (biases at r8).
#define QU8_BIAS(o, a0, a1, a2, a3, a4, a5)         \
  "vpbroadcastd " #o "*4(%%r8), %" #a0 "\n\t"       \
  "vmovdqa64 %" #a0 ", %" #a1 "\n\t"                \
  "vmovdqa64 %" #a0 ", %" #a2 "\n\t"                \
  "vmovdqa64 %" #a0 ", %" #a3 "\n\t"                \
  "vmovdqa64 %" #a0 ", %" #a4 "\n\t"                \
  "vmovdqa64 %" #a0 ", %" #a5 "\n\t"

// The 24 accumulators as asm outputs (acc[p][o] is %(4p + o)) and their biases.
#define QU8_4X96_OUTPUTS(acc)                                                    \
  "=&v"(acc[0][0]), "=&v"(acc[0][1]), "=&v"(acc[0][2]), "=&v"(acc[0][3]),        \
  "=&v"(acc[1][0]), "=&v"(acc[1][1]), "=&v"(acc[1][2]), "=&v"(acc[1][3]),        \
  "=&v"(acc[2][0]), "=&v"(acc[2][1]), "=&v"(acc[2][2]), "=&v"(acc[2][3]),        \
  "=&v"(acc[3][0]), "=&v"(acc[3][1]), "=&v"(acc[3][2]), "=&v"(acc[3][3]),        \
  "=&v"(acc[4][0]), "=&v"(acc[4][1]), "=&v"(acc[4][2]), "=&v"(acc[4][3]),        \
  "=&v"(acc[5][0]), "=&v"(acc[5][1]), "=&v"(acc[5][2]), "=&v"(acc[5][3])
#define QU8_4X96_BIASES                     \
  QU8_BIAS(0, 0, 4, 8, 12, 16, 20)          \
  QU8_BIAS(1, 1, 5, 9, 13, 17, 21)          \
  QU8_BIAS(2, 2, 6, 10, 14, 18, 22)         \
  QU8_BIAS(3, 3, 7, 11, 15, 19, 23)
#define QU8_4X96_CLOBBERS \
  QU8_ASM_TILE_CLOBBERS, "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31"
// clang-format on

struct Avx512VnniOps : qu8::Avx512Ops<true> {
  // The 4 x 96 tile of a 3x3 conv: accumulator acc[p][o] is output channel o of pixels
  // [x + 16p, + 16). Pointers and loop as in qu8_asm_tile.hpp.
  static void sum_tile(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[6][kQu8Group],
                       qu8::KernelSize<3>) {
    const auto params = qu8::asm_tile_params(a, group, x, kWeightWords);
    asm(QU8_ASM_TILE_BEGIN QU8_4X96_BIASES QU8_ASM_TILE_LOOP(QU8_TAP, "144")
        : QU8_4X96_OUTPUTS(acc)
        : [p] "r"(params.data())
        : QU8_4X96_CLOBBERS);
  }
  // The same tile of a 1x1 conv (the first conv on im2col rows, the x1.5 tail): one tap per input
  // group. The intrinsics' tile ran slower than the 9-tap assembly one on the same work.
  static void sum_tile(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[6][kQu8Group],
                       qu8::KernelSize<1>) {
    const auto params = qu8::asm_tile_params(a, group, x, kWeightWords, 1);
    asm(QU8_ASM_TILE_BEGIN QU8_4X96_BIASES QU8_ASM_TILE_LOOP_1X1(QU8_TAP, "16")
        : QU8_4X96_OUTPUTS(acc)
        : [p] "r"(params.data())
        : QU8_4X96_CLOBBERS);
  }
};

#undef QU8_4X96_CLOBBERS
#undef QU8_4X96_BIASES
#undef QU8_4X96_OUTPUTS
#undef QU8_BIAS
#undef QU8_TAP
#undef QU8_CHANNEL
#undef QU8_LOADS

void qu8_conv3x3_ukernel_4x96_avx512vnni(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx512VnniOps, 6>(args);
}

void qu8_conv1x1_ukernel_4x96_avx512vnni(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx512VnniOps, 6, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x96_avx512vnni_config{"qu8-conv3x3/4x96-avx512vnni",
                                                          Isa::kAvx512Vnni,
                                                          16,
                                                          96,
                                                          qu8_conv3x3_ukernel_4x96_avx512vnni,
                                                          qu8_conv1x1_ukernel_4x96_avx512vnni,
                                                          pack_qu8_conv3x3_s8x4,
                                                          true};

}  // namespace quicksr::engine
