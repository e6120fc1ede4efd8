// INT8 3x3 row kernel for AVX2 without VNNI, exact (s16 widening + `vpmaddwd`, see
// qu8_avx256_ops.hpp): 4 output channels x 2 ymm of 8 pixels (8 accumulators, 2 widened inputs).
// The full 3x3 tile is inline assembly (8 accumulators, 4 widened inputs, 2 weights, 1 product
// and the mask: all 16 ymm), as in 4x96-avx512vnni.cpp.
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
#define QU8_TAP(tap, row, kx)          \
  QU8_LOADS(row, kx)                   \
  QU8_CHANNEL(tap, 0, 0, 4)            \
  QU8_CHANNEL(tap, 1, 1, 5)            \
  QU8_CHANNEL(tap, 2, 2, 6)            \
  QU8_CHANNEL(tap, 3, 3, 7)
// Accumulators o, o + 4 = the bias of channel o (biases at r8).
#define QU8_BIAS(o, a0, a1)                         \
  "vpbroadcastd " #o "*4(%%r8), %" #a0 "\n\t"       \
  "vmovdqa %" #a0 ", %" #a1 "\n\t"
// clang-format on

struct Avx2Ops : qu8::Avx256Ops<false> {
  // The 4 x 16 tile of a 3x3 conv: accumulator acc[p][o] is output channel o of pixels
  // [x + 8p, + 8). Pointers come in through `params`, as in 4x96-avx512vnni.cpp.
  static void sum_tile(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[2][kQu8Group],
                       qu8::KernelSize<3>) {
    const std::size_t offset = (static_cast<std::size_t>(x) - 1) * kQu8Group;
    const void* const params[] = {
        a.rows[0] + offset,
        a.rows[1] + offset,
        a.rows[2] + offset,
        reinterpret_cast<const void*>(a.in_stride * kQu8Group),
        reinterpret_cast<const void*>(static_cast<std::size_t>(a.in_groups)),
        a.bias + group * kQu8Group,
        a.weights + static_cast<std::size_t>(group) * a.in_groups * 9 * kQu8Group * kWeightWords};
    // clang-format off
    asm("mov (%[p]), %%rax\n\t"
        "mov 8(%[p]), %%rcx\n\t"
        "mov 16(%[p]), %%rdx\n\t"
        "mov 24(%[p]), %%rsi\n\t"
        "mov 32(%[p]), %%rdi\n\t"
        "mov 40(%[p]), %%r8\n\t"
        "mov 48(%[p]), %%r9\n\t"
        "mov $0x00ff00ff, %%r10d\n\t"
        "vmovd %%r10d, %%xmm15\n\t"
        "vpbroadcastd %%xmm15, %%ymm15\n\t"
        QU8_BIAS(0, 0, 4)
        QU8_BIAS(1, 1, 5)
        QU8_BIAS(2, 2, 6)
        QU8_BIAS(3, 3, 7)
        "1:\n\t"
        QU8_TAP("0", "%%rax", "0") QU8_TAP("1", "%%rax", "1") QU8_TAP("2", "%%rax", "2")
        QU8_TAP("3", "%%rcx", "0") QU8_TAP("4", "%%rcx", "1") QU8_TAP("5", "%%rcx", "2")
        QU8_TAP("6", "%%rdx", "0") QU8_TAP("7", "%%rdx", "1") QU8_TAP("8", "%%rdx", "2")
        "add %%rsi, %%rax\n\t"
        "add %%rsi, %%rcx\n\t"
        "add %%rsi, %%rdx\n\t"
        "add $288, %%r9\n\t"
        "dec %%rdi\n\t"
        "jnz 1b\n\t"
        : "=&x"(acc[0][0]), "=&x"(acc[0][1]), "=&x"(acc[0][2]), "=&x"(acc[0][3]),
          "=&x"(acc[1][0]), "=&x"(acc[1][1]), "=&x"(acc[1][2]), "=&x"(acc[1][3])
        : [p] "r"(params)
        : "cc", "memory", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    // clang-format on
  }
};

#undef QU8_BIAS
#undef QU8_TAP
#undef QU8_CHANNEL
#undef QU8_PIXELS
#undef QU8_LOADS

void qu8_conv3x3_ukernel_4x16_avx2(const QU8Conv3x3Args& args) { qu8::conv_row<Avx2Ops, 2>(args); }

void qu8_conv1x1_ukernel_4x16_avx2(const QU8Conv3x3Args& args) {
  qu8::conv_row<Avx2Ops, 2, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x16_avx2_config{
    "qu8-conv3x3/4x16-avx2",       Isa::kAvx2Fma,         8, 16, qu8_conv3x3_ukernel_4x16_avx2,
    qu8_conv1x1_ukernel_4x16_avx2, pack_qu8_conv3x3_s16x2};

}  // namespace quicksr::engine
