// INT8 3x3 row kernel for AVX2 without VNNI, exact with oneDNN's three-instruction step:
// `vpmaddubsw` (u8 x s8 pairs summed into s16), `vpmaddwd` by ones (pairs of those into s32),
// `vpaddd`. The packing (pack_qu8_conv3x3_s8x4_split) splits the weights so that no pair sum can
// saturate; the main pass runs the clamped weights, a residual pass the few weight words that
// kept a residual. 4 output channels x 2 ymm of 8 pixels; the full 3x3 main tile is inline
// assembly (8 accumulators, 2 inputs, 1 weight, 1 product, the ones: 13 ymm), as in 4x16-avx2.cpp.
#include "engine/kernels/qu8_asm_tile.hpp"
#include "engine/kernels/qu8_avx256_ops.hpp"
#include "engine/kernels/qu8_conv3x3_tile.hpp"

namespace quicksr::engine {

namespace {

// The assembly text, one instruction per line:
// clang-format off
// Inputs of one tap: pixels [x - 1 + kx, + 16) of a row as u8 bytes in ymm8, ymm9.
#define QU8_LOADS(row, kx)                         \
  "vmovdqu " kx "*4(" row "), %%ymm8\n\t"          \
  "vmovdqu " kx "*4+32(" row "), %%ymm9\n\t"
// Accumulator a += the 4-channel dot products of the inputs `in` with the weights in ymm12
// (ymm15 holds s16 ones).
#define QU8_PIXELS(in, a)                              \
  "vpmaddubsw %%ymm12, %%ymm" in ", %%ymm14\n\t"       \
  "vpmaddwd %%ymm15, %%ymm14, %%ymm14\n\t"             \
  "vpaddd %%ymm14, %" #a ", %" #a "\n\t"
// Output channel o of a tap: broadcast its weight word (weights at r9), then accumulators a0, a1.
#define QU8_CHANNEL(tap, o, a0, a1)                      \
  "vpbroadcastd " tap "*16+" #o "*4(%%r9), %%ymm12\n\t"  \
  QU8_PIXELS("8", a0)                                    \
  QU8_PIXELS("9", a1)
// clang-format on

// The byte inputs and the stores of the 256-bit ops; the dot product is the split kernel's own.
struct SplitOps : qu8::Avx256Ops<true> {
  static Vec dot(Vec acc, const Input& in, const std::int32_t* w) {
    const __m256i pairs = _mm256_maddubs_epi16(in.bytes, _mm256_set1_epi32(*w));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }

  // The 4 x 16 tile of a 3x3 conv: accumulator acc[p][o] is output channel o of pixels
  // [x + 8p, + 8). Pointers and loop as in qu8_asm_tile.hpp.
  static void main_pass(const QU8Conv3x3Args& a, int group, int x, Vec (&acc)[2][kQu8Group],
                        qu8::KernelSize<3>) {
    const auto params = qu8::asm_tile_params(a, group, x, kWeightWords);
    // clang-format off
    asm(QU8_ASM_4X2_YMM_BEGIN("0x00010001")
        QU8_ASM_TILE_LOOP(QU8_ASM_4X2_YMM_TAP, "144")
        : QU8_ASM_4X2_YMM_OUTPUTS(acc)
        : [p] "r"(params.data())
        : QU8_ASM_TILE_CLOBBERS, "xmm8", "xmm9", "xmm12", "xmm14", "xmm15");
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

#undef QU8_CHANNEL
#undef QU8_PIXELS
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
                                                          pack_qu8_conv3x3_s8x4_split};

}  // namespace quicksr::engine
