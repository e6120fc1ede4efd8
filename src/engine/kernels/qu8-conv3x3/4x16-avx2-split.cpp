// INT8 3x3 row kernel for AVX2 without VNNI, exact with oneDNN's three-instruction step:
// `vpmaddubsw` (u8 x s8 pairs summed into s16), `vpmaddwd` by ones (pairs of those into s32),
// `vpaddd`. The packing (pack_qu8_conv3x3_s8x4_split) splits the weights so that no pair sum can
// saturate; the main pass runs the reduced weights, a residual pass the few weight words that
// kept a residual. 4 output channels x 2 ymm of 8 pixels; the full 3x3 main tile is inline
// assembly that runs two input groups per step and adds their s16 pair sums before widening them
// (3 instead of 4 multiply-port instructions per 64 multiply-adds; 8 accumulators, 4 inputs, 2
// weights, 2 products: 16 ymm, the ones from memory).
#include "engine/kernels/qu8_asm_tile.hpp"
#include "engine/kernels/qu8_avx256_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

// The assembly text, one instruction per line:
// clang-format off
// Inputs of one tap: pixels [x - 1 + kx, + 16) of a row as u8 bytes in ymm8, ymm9, and of the next
// input group (rsi bytes on) in ymm10, ymm11.
#define QU8_LOADS(row, kx)                               \
  "vmovdqu " kx "*4(" row "), %%ymm8\n\t"                \
  "vmovdqu " kx "*4+32(" row "), %%ymm9\n\t"
#define QU8_LOADS_PAIR(row, kx)                          \
  QU8_LOADS(row, kx)                                     \
  "vmovdqu " kx "*4(" row ",%%rsi), %%ymm10\n\t"         \
  "vmovdqu " kx "*4+32(" row ",%%rsi), %%ymm11\n\t"
// Accumulator a += the s16 pair sums in ymm14 widened to s32 (r10 points to s16 ones).
#define QU8_WIDEN_ADD(a)                                 \
  "vpmaddwd (%%r10), %%ymm14, %%ymm14\n\t"               \
  "vpaddd %%ymm14, %" #a ", %" #a "\n\t"
// Output channel o of a tap of one input group: broadcast its weight word (weights at r9), then
// a0 += the dot products with ymm8, a1 with ymm9.
#define QU8_CHANNEL(tap, o, a0, a1)                      \
  "vpbroadcastd " tap "*16+" #o "*4(%%r9), %%ymm12\n\t"  \
  "vpmaddubsw %%ymm12, %%ymm8, %%ymm14\n\t"              \
  QU8_WIDEN_ADD(a0)                                      \
  "vpmaddubsw %%ymm12, %%ymm9, %%ymm14\n\t"              \
  QU8_WIDEN_ADD(a1)
// The same for two input groups at once: the two groups' s16 pair sums are added (`vpaddw`,
// exact on the packing's quads) before one widening.
#define QU8_CHANNEL_PAIR(tap, o, a0, a1)                      \
  "vpbroadcastd " tap "*16+" #o "*4(%%r9), %%ymm12\n\t"       \
  "vpbroadcastd " tap "*16+" #o "*4+144(%%r9), %%ymm13\n\t"   \
  "vpmaddubsw %%ymm12, %%ymm8, %%ymm14\n\t"                   \
  "vpmaddubsw %%ymm13, %%ymm10, %%ymm15\n\t"                  \
  "vpaddw %%ymm15, %%ymm14, %%ymm14\n\t"                      \
  QU8_WIDEN_ADD(a0)                                           \
  "vpmaddubsw %%ymm12, %%ymm9, %%ymm14\n\t"                   \
  "vpmaddubsw %%ymm13, %%ymm11, %%ymm15\n\t"                  \
  "vpaddw %%ymm15, %%ymm14, %%ymm14\n\t"                      \
  QU8_WIDEN_ADD(a1)
#define QU8_TAP_PAIR(tap, row, kx)                       \
  QU8_ASM_4X2_YMM_TAP_OF(QU8_LOADS_PAIR, QU8_CHANNEL_PAIR, tap, row, kx)
// clang-format on

// s16 ones, the `vpmaddwd` operand that widens pair sums.
alignas(32) constexpr std::int16_t kOnes[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

// The byte inputs and the stores of the 256-bit ops; the dot product is the split kernel's own.
struct SplitOps : qu8::Avx256Ops<true> {
  static Vec dot(Vec acc, const Input& in, const std::int32_t* w) {
    const __m256i pairs = _mm256_maddubs_epi16(in.bytes, _mm256_set1_epi32(*w));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }

  // The 4 x 16 tile of a 3x3 conv: accumulator acc[p][o] is output channel o of pixels
  // [x + 8p, + 8). Pointers as in qu8_asm_tile.hpp, but rdi counts pairs of input groups (one
  // loop step runs both groups' 9 taps, 288 weight bytes), then a last odd group runs alone.
  static void main_pass(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[2][kQu8Group],
                        qu8::KernelSize<3>) {
    auto params = qu8::asm_tile_params(a, group, x, kWeightWords);
    params[4] = reinterpret_cast<const void*>(static_cast<std::size_t>(a.in_groups / 2));
    const std::size_t odd_group = a.in_groups % 2;
    // clang-format off
    asm(QU8_ASM_TILE_BEGIN
        "mov %[ones], %%r10\n\t"
        QU8_ASM_4X2_YMM_BIASES
        "test %%rdi, %%rdi\n\t"
        "jz 2f\n\t"
        QU8_ASM_TILE_LOOP_STEP(QU8_TAP_PAIR, "288", "lea (%%rax,%%rsi,2), %%rax\n\t"
                               "lea (%%rcx,%%rsi,2), %%rcx\n\t" "lea (%%rdx,%%rsi,2), %%rdx\n\t")
        "2:\n\t"
        "test %[odd], %[odd]\n\t"
        "jz 3f\n\t"
        QU8_ASM_TILE_TAPS(QU8_ASM_4X2_YMM_TAP)
        "3:\n\t"
        : QU8_ASM_4X2_YMM_OUTPUTS(acc)
        : [p] "r"(params.data()), [ones] "r"(kOnes), [odd] "r"(odd_group)
        : QU8_ASM_TILE_CLOBBERS, "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
          "xmm15");
    // clang-format on
  }

  // Row ends and the 1x1: the tile loop with the dot product above.
  template <int kTile, int kKernel>
  static void main_pass(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[kTile][kQu8Group],
                        qu8::KernelSize<kKernel>) {
    qu8::sum_tile<SplitOps, kTile, kKernel>(a, group, x, acc);
  }

  // acc += the residual words of output channel group `group` (pack_qu8_conv3x3_s8x4_split).
  template <int kTile, int kKernel>
  static void residual_pass(const QU8Conv3x3Args& a, int group, int x,
                            Vec (&acc)[kTile][kQu8Group]) {
    const std::int32_t* starts =
        a.weights + static_cast<std::size_t>(a.out_channels) * a.in_groups * kKernel * kKernel;
    const std::int32_t* entries = starts + a.out_channels + 1;
    const std::uint8_t* rows[kKernel];
    for (int ky = 0; ky < kKernel; ++ky) rows[ky] = a.rows[ky] + (x - kKernel / 2) * kQu8Group;
    const std::size_t group_bytes = a.in_stride * kQu8Group;
#pragma GCC unroll 4
    for (int o = 0; o < kQu8Group; ++o) {
      const int channel = group * kQu8Group + o;
      for (int e = starts[channel]; e < starts[channel + 1]; ++e) {
        const std::int32_t position = entries[2 * e];
        const std::uint8_t* in =
            rows[(position >> 2) & 3] + (position >> 4) * group_bytes + (position & 3) * kQu8Group;
#pragma GCC unroll 8
        for (int p = 0; p < kTile; ++p) {
          acc[p][o] = dot(acc[p][o], load(in + p * kLanes * kQu8Group), &entries[2 * e + 1]);
        }
      }
    }
  }

  template <int kTile, int kKernel>
  static void sum_tile(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[kTile][kQu8Group],
                       qu8::KernelSize<kKernel> size) {
    main_pass(a, group, x, acc, size);
    residual_pass<kTile, kKernel>(a, group, x, acc);
  }
};

#undef QU8_TAP_PAIR
#undef QU8_CHANNEL_PAIR
#undef QU8_CHANNEL
#undef QU8_WIDEN_ADD
#undef QU8_LOADS_PAIR
#undef QU8_LOADS

void qu8_conv3x3_ukernel_4x16_avx2_split(const QU8Conv3x3Args& args) {
  qu8::conv_row<SplitOps, 2>(args);
}

void qu8_conv1x1_ukernel_4x16_avx2_split(const QU8Conv3x3Args& args) {
  qu8::conv_row<SplitOps, 2, 1>(args);
}

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_4x16_avx2_split_config{"qu8-conv3x3/4x16-avx2-split",
                                                          Isa::kAvx2Fma,
                                                          8,
                                                          16,
                                                          qu8_conv3x3_ukernel_4x16_avx2_split,
                                                          qu8_conv1x1_ukernel_4x16_avx2_split,
                                                          pack_qu8_conv3x3_s8x4_split,
                                                          false};

}  // namespace quicksr::engine
