#pragma once
// What the hand-written (inline-assembly) 3x3 tiles of the INT8 kernels share: the pointers they
// read, the loop over input groups around the 9 taps, and the registers that loop uses. A tile's
// accumulators are its asm outputs, initialised with the bias inside the block: GCC allows 30 asm
// operands, counting in-out ones twice, so the pointers come in through one array.
//
// Registers inside the block: rax, rcx, rdx = input rows y-1, y, y+1 at column x - 1 of input
// group g; rsi = bytes between input groups; rdi = input groups left; r8 = the tile's biases;
// r9 = the packed weights of group g; r10 is free for the tile.
#include <array>
#include <cstddef>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine::qu8 {

// The `params` array of QU8_ASM_TILE_BEGIN for output channel group `group` and column x;
// `weight_words` packed words per output channel and tap, `taps` taps (9, or 1 for a 1x1).
inline std::array<const void*, 7> asm_tile_params(const QU8Conv3x3Args& a, int group, int x,
                                                  int weight_words, int taps = 9) {
  const std::size_t offset = (static_cast<std::size_t>(x) - 1) * kQu8Group;
  return {
      a.rows[0] + offset,
      a.rows[1] + offset,
      a.rows[2] + offset,
      reinterpret_cast<const void*>(a.in_stride * kQu8Group),
      reinterpret_cast<const void*>(static_cast<std::size_t>(a.in_groups)),
      a.bias + group * kQu8Group,
      a.weights + static_cast<std::size_t>(group) * a.in_groups * taps * kQu8Group * weight_words};
}

}  // namespace quicksr::engine::qu8

// clang-format off
// Loads the pointers (the asm operand [p] is asm_tile_params(...).data()).
#define QU8_ASM_TILE_BEGIN         \
  "mov (%[p]), %%rax\n\t"          \
  "mov 8(%[p]), %%rcx\n\t"         \
  "mov 16(%[p]), %%rdx\n\t"        \
  "mov 24(%[p]), %%rsi\n\t"        \
  "mov 32(%[p]), %%rdi\n\t"        \
  "mov 40(%[p]), %%r8\n\t"         \
  "mov 48(%[p]), %%r9\n\t"
// The 9 taps of one input group (TAP(tap, row, kx) as text).
#define QU8_ASM_TILE_TAPS(TAP)                                                      \
  TAP("0", "%%rax", "0") TAP("1", "%%rax", "1") TAP("2", "%%rax", "2")              \
  TAP("3", "%%rcx", "0") TAP("4", "%%rcx", "1") TAP("5", "%%rcx", "2")              \
  TAP("6", "%%rdx", "0") TAP("7", "%%rdx", "1") TAP("8", "%%rdx", "2")
// The `taps` (text), then `advance_rows` (text) and the weights by `step_weight_bytes`, rdi times.
#define QU8_ASM_TILE_LOOP_OVER(taps, step_weight_bytes, advance_rows)               \
  "1:\n\t"                                                                          \
  taps                                                                              \
  advance_rows                                                                      \
  "add $" step_weight_bytes ", %%r9\n\t"                                            \
  "dec %%rdi\n\t"                                                                   \
  "jnz 1b\n\t"
// The 9 taps, then `advance_rows` and the weights by `step_weight_bytes`, rdi times.
#define QU8_ASM_TILE_LOOP_STEP(TAP, step_weight_bytes, advance_rows)                \
  QU8_ASM_TILE_LOOP_OVER(QU8_ASM_TILE_TAPS(TAP), step_weight_bytes, advance_rows)
// The 9 taps of one input group, then the next group until none is left; `group_weight_bytes`
// is the weights of one input group.
#define QU8_ASM_TILE_LOOP(TAP, group_weight_bytes)                                  \
  QU8_ASM_TILE_LOOP_STEP(TAP, group_weight_bytes,                                   \
                         "add %%rsi, %%rax\n\t"                                     \
                         "add %%rsi, %%rcx\n\t"                                     \
                         "add %%rsi, %%rdx\n\t")
// A 1x1 conv (rows[0] only; its one tap reads column x, kx = 1 from the pointers at x - 1), then
// the next input group until none is left; `group_weight_bytes` is the weights of one input group.
#define QU8_ASM_TILE_LOOP_1X1(TAP, group_weight_bytes)                              \
  QU8_ASM_TILE_LOOP_OVER(TAP("0", "%%rax", "1"), group_weight_bytes, "add %%rsi, %%rax\n\t")
// The 4 x 2-ymm tiles (4x16-avx2, 4x16-avx2-split), whose asm outputs %0-%7 are
// QU8_ASM_4X2_YMM_OUTPUTS: accumulators o, o + 4 = the bias of channel o (r8).
#define QU8_ASM_4X2_YMM_BIAS(o, a1)                                           \
  "vpbroadcastd " #o "*4(%%r8), %" #o "\n\t"                                  \
  "vmovdqa %" #o ", %" #a1 "\n\t"
#define QU8_ASM_4X2_YMM_BIASES                                                \
  QU8_ASM_4X2_YMM_BIAS(0, 4)                                                  \
  QU8_ASM_4X2_YMM_BIAS(1, 5)                                                  \
  QU8_ASM_4X2_YMM_BIAS(2, 6)                                                  \
  QU8_ASM_4X2_YMM_BIAS(3, 7)
// The pointers, the biases and ymm15 = the 32-bit constant `lanes` in every lane.
#define QU8_ASM_4X2_YMM_BEGIN(lanes)                                          \
  QU8_ASM_TILE_BEGIN                                                          \
  "mov $" lanes ", %%r10d\n\t"                                                \
  "vmovd %%r10d, %%xmm15\n\t"                                                 \
  "vpbroadcastd %%xmm15, %%ymm15\n\t"                                         \
  QU8_ASM_4X2_YMM_BIASES
// One tap: LOADS(row, kx), then CHANNEL(tap, o, a0, a1) per output channel o, with accumulators
// o and o + 4; QU8_ASM_4X2_YMM_TAP takes the including file's QU8_LOADS and QU8_CHANNEL.
#define QU8_ASM_4X2_YMM_TAP_OF(LOADS, CHANNEL, tap, row, kx)                  \
  LOADS(row, kx)                                                              \
  CHANNEL(tap, 0, 0, 4)                                                       \
  CHANNEL(tap, 1, 1, 5)                                                       \
  CHANNEL(tap, 2, 2, 6)                                                       \
  CHANNEL(tap, 3, 3, 7)
#define QU8_ASM_4X2_YMM_TAP(tap, row, kx)                                     \
  QU8_ASM_4X2_YMM_TAP_OF(QU8_LOADS, QU8_CHANNEL, tap, row, kx)
// acc[p][o] is output %(4p + o).
#define QU8_ASM_4X2_YMM_OUTPUTS(acc)                                          \
  "=&x"(acc[0][0]), "=&x"(acc[0][1]), "=&x"(acc[0][2]), "=&x"(acc[0][3]),     \
  "=&x"(acc[1][0]), "=&x"(acc[1][1]), "=&x"(acc[1][2]), "=&x"(acc[1][3])
// The general registers the block uses (the vector ones are the tile's own).
#define QU8_ASM_TILE_CLOBBERS "cc", "memory", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10"
// clang-format on
