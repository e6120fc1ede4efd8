// INT8 3x3 row kernel for AVX2 without VNNI, exact (s16 widening + `vpmaddwd`, see
// qu8_avx256_ops.hpp): 4 output channels x 2 ymm of 8 pixels (8 accumulators, 2 widened inputs).
// The full 3x3 tile is inline assembly (8 accumulators, 4 widened inputs, 2 weights, 1 product
// and the mask: all 16 ymm), as in 4x96-avx512vnni.cpp.
#include "engine/kernels/qu8_asm_tile.hpp"
#include "engine/kernels/qu8_avx256_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

// The assembly text, one instruction per line:
// clang-format off
// Inputs of one tap: pixels [x - 1 + kx, + 16) of a row, 2 ymm, widened to channels 0,2 as s16
// (ymm8, ymm9) and channels 1,3 (ymm10, ymm11); ymm15 holds the mask 0x00ff00ff.
#define QU8_LOADS(row, kx)                         \
  "vmovdqu " kx "*4(" row "), %%ymm8\n\t"          \
  "vmovdqu " kx "*4+32(" row "), %%ymm9\n\t"       \
  "vpsrld $8, %%ymm8, %%ymm10\n\t"                 \
  "vpsrld $8, %%ymm9, %%ymm11\n\t"                 \
  "vpand %%ymm15, %%ymm8, %%ymm8\n\t"              \
  "vpand %%ymm15, %%ymm9, %%ymm9\n\t"              \
  "vpand %%ymm15, %%ymm10, %%ymm10\n\t"            \
  "vpand %%ymm15, %%ymm11, %%ymm11\n\t"
// Accumulator a += the s16 pair sums of inputs (even, odd) with the weights in ymm12, ymm13.
#define QU8_PIXELS(even, odd, a)                         \
  "vpmaddwd %%ymm12, %%ymm" even ", %%ymm14\n\t"         \
  "vpaddd %%ymm14, %" #a ", %" #a "\n\t"                 \
  "vpmaddwd %%ymm13, %%ymm" odd ", %%ymm14\n\t"          \
  "vpaddd %%ymm14, %" #a ", %" #a "\n\t"
// Output channel o of a tap: broadcast its two weight words (weights at r9), then accumulators
// a0, a1 of channel o.
#define QU8_CHANNEL(tap, o, a0, a1)                          \
  "vpbroadcastd " tap "*32+" #o "*8(%%r9), %%ymm12\n\t"      \
  "vpbroadcastd " tap "*32+" #o "*8+4(%%r9), %%ymm13\n\t"    \
  QU8_PIXELS("8", "10", a0)                                  \
  QU8_PIXELS("9", "11", a1)
// clang-format on

struct Avx2Ops : qu8::Avx256Ops<false> {
  // The 4 x 16 tile of a 3x3 conv: accumulator acc[p][o] is output channel o of pixels
  // [x + 8p, + 8). Pointers and loop as in qu8_asm_tile.hpp.
  static void sum_tile(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[2][kQu8Group],
                       qu8::KernelSize<3>) {
    const auto params = qu8::asm_tile_params(a, group, x, kWeightWords);
    // clang-format off
    asm(QU8_ASM_4X2_YMM_BEGIN("0x00ff00ff")
        QU8_ASM_TILE_LOOP(QU8_ASM_4X2_YMM_TAP, "288")
        : QU8_ASM_4X2_YMM_OUTPUTS(acc)
        : [p] "r"(params.data())
        : QU8_ASM_TILE_CLOBBERS,
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    // clang-format on
  }
};

#undef QU8_CHANNEL
#undef QU8_PIXELS
#undef QU8_LOADS

void qu8_conv3x3_ukernel_4x16_avx2(const QU8Conv3x3Args& args) { qu8::conv_row<Avx2Ops, 2>(args); }

void qu8_conv1x1_ukernel_4x16_avx2(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx2Ops, 2, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x16_avx2_config{
    "qu8-conv3x3/4x16-avx2",       Isa::kAvx2Fma,          8,    16, qu8_conv3x3_ukernel_4x16_avx2,
    qu8_conv1x1_ukernel_4x16_avx2, pack_qu8_conv3x3_s16x2, false};

}  // namespace quicksr::engine
