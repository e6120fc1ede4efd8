// Every f32 micro-kernel config in the registry against plain loops: the direct 3x3 kernels
// against a convolution over the same row-planar buffers, the Winograd F(4,3) input transform
// against B^T d in double, and the Winograd conv (fed by the input transform) against a
// convolution of the same pixels (the tails are covered end to end in engine_test). Configs whose
// ISA this CPU lacks are skipped with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/kernels/kernels.hpp"
#include "engine/plan.hpp"
#include "kernel_test_name.hpp"

namespace quicksr::engine {
namespace {

constexpr float kNoUpperClamp = std::numeric_limits<float>::infinity();  // ReLU

#define SKIP_UNLESS_CPU_SUPPORTS(config)                                            \
  if (!cpu_supports((config).isa)) {                                                \
    GTEST_SKIP() << (config).name << ": this CPU lacks " << isa_name((config).isa); \
  }

// Rounds a count up to a whole number of the kernel's blocks.
int whole_blocks(int count, int block) { return (count + block - 1) / block * block; }

struct ConvCase {
  int in_channels;
  int out_channels;
  int kernel_h;
  int kernel_w;
  int col_begin;
  int col_count;
  bool clamp;
  float clamp_max = 1.0f;  // ReLU1; +infinity for ReLU
};

// A conv row kernel against plain loops over the same planar rows: each of the kernel_h input rows
// holds the channels at in_stride apart; output column col, tap kx reads column col + kx.
void check_conv_kernel(const F32ConvConfig& kernel, const ConvCase& c) {
  std::mt19937 rng(c.in_channels * 131 + c.out_channels * 7 + c.kernel_h + c.col_count);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const std::size_t stride = c.col_begin + c.col_count + c.kernel_w + 16;
  std::vector<float> input(static_cast<std::size_t>(c.kernel_h) * c.in_channels * stride);
  for (float& v : input) v = uniform(rng);
  Conv2d conv = Conv2d::zeros(c.in_channels, c.out_channels, 1);
  conv.kernel_h = c.kernel_h;
  conv.kernel_w = c.kernel_w;
  conv.weight.resize(static_cast<std::size_t>(c.out_channels) * c.in_channels * c.kernel_h *
                     c.kernel_w);
  for (float& w : conv.weight) w = uniform(rng);
  for (float& b : conv.bias) b = uniform(rng);
  const int padded = whole_blocks(c.out_channels, kernel.channel_group);
  const std::vector<float> weights = kernel.pack(conv, kernel.channel_group);
  std::vector<float> bias(padded, 0.0f);
  std::copy(conv.bias.begin(), conv.bias.end(), bias.begin());
  std::vector<float> out(padded * stride, -7.0f);
  std::vector<const float*> rows;
  for (int ky = 0; ky < c.kernel_h; ++ky)
    rows.push_back(input.data() + ky * c.in_channels * stride);

  F32ConvArgs args{};
  args.rows = rows.data();
  args.in_stride = stride;
  args.in_channels = c.in_channels;
  args.kernel_h = c.kernel_h;
  args.kernel_w = c.kernel_w;
  args.weights = weights.data();
  args.bias = bias.data();
  args.out_channels = padded;
  args.out = out.data();
  args.out_stride = stride;
  args.col_begin = c.col_begin;
  args.col_count = c.col_count;
  args.clamp = c.clamp;
  args.clamp_max = c.clamp_max;
  kernel.run(args);

  for (int o = 0; o < c.out_channels; ++o) {
    for (std::size_t col = 0; col < stride; ++col) {
      const float actual = out[o * stride + col];
      if (col < static_cast<std::size_t>(c.col_begin) ||
          col >= static_cast<std::size_t>(c.col_begin + c.col_count)) {
        ASSERT_EQ(actual, -7.0f) << "wrote outside the range at " << col;
        continue;
      }
      double expected = conv.bias[o];
      for (int i = 0; i < c.in_channels; ++i) {
        for (int ky = 0; ky < c.kernel_h; ++ky) {
          for (int kx = 0; kx < c.kernel_w; ++kx) {
            expected += static_cast<double>(conv.w(o, i, ky, kx)) *
                        input[(ky * c.in_channels + i) * stride + col + kx];
          }
        }
      }
      if (c.clamp) expected = std::fmin(std::fmax(expected, 0.0), c.clamp_max);
      ASSERT_NEAR(actual, expected, 1e-4)
          << kernel.name << " out channel " << o << " column " << col;
    }
  }
}

// Runs each case with its column count rounded up to the kernel's pixel block, so every case also
// covers the row ends (narrower tiles) of the wider register tiles.
void check_conv_cases(const F32ConvConfig& config, std::span<const ConvCase> cases) {
  for (ConvCase c : cases) {
    c.col_count = whole_blocks(c.col_count, config.pixel_block);
    SCOPED_TRACE("in " + std::to_string(c.in_channels) + " out " + std::to_string(c.out_channels) +
                 " kernel " + std::to_string(c.kernel_h) + "x" + std::to_string(c.kernel_w) +
                 " cols " + std::to_string(c.col_begin) + "+" + std::to_string(c.col_count));
    check_conv_kernel(config, c);
  }
}

class F32Conv3x3ConfigTest : public testing::TestWithParam<const F32ConvConfig*> {};

TEST_P(F32Conv3x3ConfigTest, MatchesPlainLoopsForEveryShape) {
  const F32ConvConfig& config = *GetParam();
  SKIP_UNLESS_CPU_SUPPORTS(config);
  const ConvCase cases[] = {{3, 32, 3, 3, 7, 640, true},
                            {32, 32, 3, 3, 7, 24, true},
                            {32, 12, 3, 3, 15, 40, false},
                            {5, 8, 3, 3, 0, 8, true},
                            {32, 32, 3, 3, 7, 16, true},
                            {7, 4, 3, 3, 2, 72, false},
                            {64, 64, 3, 3, 7, 48, true},
                            {16, 28, 3, 3, 7, 8, false},
                            {32, 32, 3, 3, 7, 96, true},
                            {32, 12, 3, 3, 7, 112, true},
                            {32, 32, 3, 3, 7, 24, true, kNoUpperClamp},
                            {3, 32, 3, 3, 7, 40, true, kNoUpperClamp}};
  check_conv_cases(config, cases);
}

INSTANTIATE_TEST_SUITE_P(Registry, F32Conv3x3ConfigTest, testing::ValuesIn(f32_conv3x3_configs()),
                         config_name<F32ConvConfig>);

class F32ConvConfigTest : public testing::TestWithParam<const F32ConvConfig*> {};

// 1x1 (XLSR's pointwise convs, SESR's anchor), 5x5 (SESR, ESPCN), 3x3 and non-square kernels;
// channel counts that are 4 mod 8 (12, 28) cover the narrower last tile of the 8-channel kernels.
TEST_P(F32ConvConfigTest, MatchesPlainLoopsForEveryShape) {
  const F32ConvConfig& config = *GetParam();
  SKIP_UNLESS_CPU_SUPPORTS(config);
  const ConvCase cases[] = {{32, 32, 1, 1, 5, 640, false},
                            {48, 32, 1, 1, 5, 40, true, kNoUpperClamp},
                            {3, 12, 1, 1, 5, 24, false},
                            {3, 16, 5, 5, 5, 200, true},
                            {16, 12, 5, 5, 5, 56, false},
                            {8, 8, 3, 3, 5, 16, true},
                            {5, 28, 3, 5, 5, 72, true, kNoUpperClamp},
                            {7, 4, 1, 3, 5, 8, false},
                            {64, 64, 3, 3, 5, 48, true}};
  check_conv_cases(config, cases);
}

INSTANTIATE_TEST_SUITE_P(Registry, F32ConvConfigTest, testing::ValuesIn(f32_conv_configs()),
                         config_name<F32ConvConfig>);

// Per ISA level the engine takes, per operation, the first registered config that level can run;
// names follow the kernel files.
TEST(F32Kernels, EachLevelTakesTheBestConfigItCanRun) {
  EXPECT_STREQ(f32_kernels(Isa::kScalar).direct->name, "f32-conv3x3/scalar");
  EXPECT_STREQ(f32_kernels(Isa::kScalar).winograd->name, "f32-winograd-f43-conv/scalar");
  EXPECT_STREQ(f32_kernels(Isa::kScalar).winograd->input_name, "f32-winograd-f43-input/scalar");
  EXPECT_STREQ(f32_kernels(Isa::kScalar).tail->name, "f32-tail/scalar");
  EXPECT_STREQ(f32_kernels(Isa::kScalar).conv->name, "f32-conv/scalar");
#if defined(__x86_64__)
  EXPECT_STREQ(f32_kernels(Isa::kAvx2Fma).direct->name, "f32-conv3x3/4x24-avx2-fma");
  EXPECT_STREQ(f32_kernels(Isa::kAvxVnni).winograd->name, "f32-winograd-f43-conv/4x24-avx2-fma");
  EXPECT_STREQ(f32_kernels(Isa::kAvx512).direct->name, "f32-conv3x3/8x48-avx512f");
  EXPECT_STREQ(f32_kernels(Isa::kAvxVnni).conv->name, "f32-conv/4x24-avx2-fma");
  EXPECT_STREQ(f32_kernels(Isa::kAvx512Vnni).conv->name, "f32-conv/8x48-avx512f");
  EXPECT_STREQ(f32_kernels(Isa::kAvxVnni).tanh->name, "f32-vtanh/8-avx2-fma");
  EXPECT_STREQ(f32_kernels(Isa::kAvx512).tanh->name, "f32-vtanh/16-avx512f");
  EXPECT_STREQ(f32_kernels(Isa::kAvx512Vnni).winograd->name, "f32-winograd-f43-conv/8x48-avx512f");
  EXPECT_STREQ(f32_kernels(Isa::kAvx512Vnni).winograd->input_name,
               "f32-winograd-f43-input/16-avx512f");
#endif
  for (Isa level : kAllIsas) {
    const F32Kernels kernels = f32_kernels(level);
    EXPECT_TRUE(isa_includes(level, kernels.direct->isa)) << isa_name(level);
    EXPECT_TRUE(isa_includes(level, kernels.winograd->isa)) << isa_name(level);
    EXPECT_TRUE(isa_includes(level, kernels.tail->isa)) << isa_name(level);
    EXPECT_TRUE(isa_includes(level, kernels.conv->isa)) << isa_name(level);
    EXPECT_TRUE(isa_includes(level, kernels.tanh->isa)) << isa_name(level);
  }
  EXPECT_TRUE(isa_includes(Isa::kAvx512Vnni, Isa::kAvx2Fma));
  EXPECT_FALSE(isa_includes(Isa::kAvx512, Isa::kAvxVnni));
  EXPECT_FALSE(isa_includes(Isa::kAvx2Fma, Isa::kAvx512));
}

// Pixel x of channel c in a phase-split row.
float phase_split_pixel(const float* row, std::size_t tile_stride, int c, int x) {
  return row[(c * kWinogradTile + x % kWinogradTile) * tile_stride + x / kWinogradTile];
}

std::vector<float> random_values(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(rng);
  return values;
}

struct WinogradInputCase {
  int channels;
  int tile_begin;
  int tile_count;
};

void check_winograd_input_kernel(const F32WinogradConfig& config, const WinogradInputCase& c) {
  // B^T of F(4,3), as printed in Lavin & Gray (2016).
  constexpr double kInputTransform[kWinogradPoints][kWinogradPoints] = {
      {4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
      {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  const std::size_t tile_stride = c.tile_begin + c.tile_count + 8;
  const std::vector<float> in =
      random_values(c.channels * kWinogradTile * tile_stride, c.channels + c.tile_count);
  std::vector<float> out(kWinogradPoints * c.channels * tile_stride, -7.0f);
  F32WinogradInputArgs args{};
  args.in = in.data();
  args.out = out.data();
  args.tile_stride = tile_stride;
  args.channels = c.channels;
  args.tile_begin = c.tile_begin;
  args.tile_count = c.tile_count;
  config.input(args);

  for (int k = 0; k < kWinogradPoints; ++k) {
    for (int ch = 0; ch < c.channels; ++ch) {
      for (std::size_t t = 0; t < tile_stride; ++t) {
        const float actual = out[(k * c.channels + ch) * tile_stride + t];
        if (t < static_cast<std::size_t>(c.tile_begin) ||
            t >= static_cast<std::size_t>(c.tile_begin + c.tile_count)) {
          ASSERT_EQ(actual, -7.0f) << "wrote outside the range at tile " << t;
          continue;
        }
        double expected = 0.0;
        for (int i = 0; i < kWinogradPoints; ++i) {
          const int x = static_cast<int>(kWinogradTile * t) - 1 + i;
          expected += kInputTransform[k][i] * phase_split_pixel(in.data(), tile_stride, ch, x);
        }
        ASSERT_NEAR(actual, expected, 1e-5)
            << config.input_name << " point " << k << " channel " << ch << " tile " << t;
      }
    }
  }
}

class F32WinogradConfigTest : public testing::TestWithParam<const F32WinogradConfig*> {};

TEST_P(F32WinogradConfigTest, InputTransformMatchesTheTransformForEveryShape) {
  const F32WinogradConfig& config = *GetParam();
  SKIP_UNLESS_CPU_SUPPORTS(config);
  const WinogradInputCase cases[] = {{1, 1, 8}, {3, 5, 16}, {32, 2, 160}, {13, 1, 24}};
  for (WinogradInputCase c : cases) {
    c.tile_count = whole_blocks(c.tile_count, config.tile_block);
    SCOPED_TRACE("channels " + std::to_string(c.channels) + " tiles " +
                 std::to_string(c.tile_count));
    check_winograd_input_kernel(config, c);
  }
}

struct WinogradConvCase {
  int in_channels;
  int out_channels;
  int tile_begin;
  int tile_count;
  bool clamp;
  float clamp_max = 1.0f;  // ReLU1; +infinity for ReLU
};

// Three random phase-split rows, transformed by the (separately tested) portable input kernel,
// through the conv kernel; the phase-split output against a plain 3x3 convolution of the pixels.
void check_winograd_conv_kernel(const F32WinogradConfig& config, const WinogradConvCase& c) {
  const std::size_t tile_stride = c.tile_begin + c.tile_count + 8;
  const std::size_t phase_row = c.in_channels * kWinogradTile * tile_stride;
  const std::size_t transformed_row = c.in_channels * kWinogradPoints * tile_stride;
  const std::vector<float> pixels =
      random_values(3 * phase_row, c.in_channels * 131 + c.out_channels * 7 + c.tile_count);
  std::vector<float> transformed(3 * transformed_row);
  for (int ky = 0; ky < 3; ++ky) {
    F32WinogradInputArgs input{};
    input.in = pixels.data() + ky * phase_row;
    input.out = transformed.data() + ky * transformed_row;
    input.tile_stride = tile_stride;
    input.channels = c.in_channels;
    input.tile_begin = c.tile_begin;
    input.tile_count = c.tile_count;
    f32_winograd_f43_input_ukernel_scalar(input);
  }
  Conv2d conv = Conv2d::zeros(c.in_channels, c.out_channels, 3);
  conv.weight = random_values(conv.weight.size(), 5);
  conv.bias = random_values(conv.bias.size(), 6);
  const PackedConv3x3 packed = pack_conv3x3(conv, c.clamp, config);
  std::vector<float> out(packed.padded_out_channels * kWinogradTile * tile_stride, -7.0f);
  std::vector<float> scratch(kWinogradPoints * packed.padded_out_channels * config.chunk_tiles);

  F32WinogradConvArgs args{};
  for (int ky = 0; ky < 3; ++ky) args.rows[ky] = transformed.data() + ky * transformed_row;
  args.tile_stride = tile_stride;
  args.in_channels = c.in_channels;
  args.weights = packed.weights.data();
  args.bias = packed.bias.data();
  args.out_channels = packed.padded_out_channels;
  args.out = out.data();
  args.tile_begin = c.tile_begin;
  args.tile_count = c.tile_count;
  args.clamp = c.clamp;
  args.clamp_max = c.clamp_max;
  args.scratch = scratch.data();
  config.conv(args);

  for (int o = 0; o < c.out_channels; ++o) {
    for (int x = 0; x < static_cast<int>(kWinogradTile * tile_stride); ++x) {
      const float actual = phase_split_pixel(out.data(), tile_stride, o, x);
      const int tile = x / kWinogradTile;
      if (tile < c.tile_begin || tile >= c.tile_begin + c.tile_count) {
        ASSERT_EQ(actual, -7.0f) << "wrote outside the range at column " << x;
        continue;
      }
      double expected = conv.bias[o];
      for (int i = 0; i < c.in_channels; ++i) {
        for (int ky = 0; ky < 3; ++ky) {
          for (int kx = 0; kx < 3; ++kx) {
            expected +=
                static_cast<double>(conv.w(o, i, ky, kx)) *
                phase_split_pixel(pixels.data() + ky * phase_row, tile_stride, i, x - 1 + kx);
          }
        }
      }
      if (c.clamp) expected = std::fmin(std::fmax(expected, 0.0), c.clamp_max);
      ASSERT_NEAR(actual, expected, 1e-4) << config.name << " out channel " << o << " column " << x;
    }
  }
}

// Tile counts are rounded up to the kernel's tile block; the cases cover whole chunks, row ends
// of 1 and 2 vectors and channel counts that are not multiples of the register tile.
TEST_P(F32WinogradConfigTest, ConvMatchesPlainLoopsForEveryShape) {
  const F32WinogradConfig& config = *GetParam();
  SKIP_UNLESS_CPU_SUPPORTS(config);
  const WinogradConvCase cases[] = {{32, 32, 1, 24, true},
                                    {32, 32, 2, 160, true},
                                    {32, 12, 3, 8, false},
                                    {3, 8, 1, 16, true},
                                    {13, 16, 1, 40, false},
                                    {64, 64, 1, 48, true},
                                    {16, 28, 8, 8, false},
                                    {5, 4, 1, 72, true},
                                    {32, 12, 1, 96, false},
                                    {32, 32, 1, 112, true},
                                    {32, 32, 1, 24, true, kNoUpperClamp},
                                    {13, 16, 1, 40, true, kNoUpperClamp}};
  for (WinogradConvCase c : cases) {
    c.tile_count = whole_blocks(c.tile_count, config.tile_block);
    SCOPED_TRACE("in " + std::to_string(c.in_channels) + " out " + std::to_string(c.out_channels) +
                 " tiles " + std::to_string(c.tile_count));
    check_winograd_conv_kernel(config, c);
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, F32WinogradConfigTest, testing::ValuesIn(f32_winograd_configs()),
                         config_name<F32WinogradConfig>);

class F32VTanhConfigTest : public testing::TestWithParam<const F32VUnaryConfig*> {};

// Every tanh kernel against std::tanh in double on a dense sweep of [-12, 12] (both branches of
// the approximation, the cap at 9, and a length that ends on a partial vector), run in place, plus
// the values where it must be exact or propagate: +-0, +-infinity, NaN. 1.2e-7 is the stated
// bound of kernels/f32_vtanh.hpp (measured 8.9e-8 on AVX2 and AVX-512; std::tanh in float
// 9.3e-8).
TEST_P(F32VTanhConfigTest, MatchesStdTanhWithinTheStatedError) {
  const F32VUnaryConfig& config = *GetParam();
  SKIP_UNLESS_CPU_SUPPORTS(config);
  std::vector<float> x;
  for (int i = -240001; i <= 240001; ++i) x.push_back(static_cast<float>(i) * 5e-5f);
  for (float tiny = 1e-30f; tiny < 0.2f; tiny *= 1.7f) x.insert(x.end(), {tiny, -tiny});
  std::vector<float> y = x;
  config.run(y.data(), y.data(), y.size());
  double max_error = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    max_error = std::max(max_error, std::abs(y[i] - std::tanh(static_cast<double>(x[i]))));
    if (std::abs(x[i]) < 0.125f && x[i] != 0.0f) {
      ASSERT_NEAR(y[i] / x[i], std::tanh(static_cast<double>(x[i])) / x[i], 2e-7) << x[i];
    }
  }
  EXPECT_LE(max_error, 1.2e-7) << config.name;
  std::printf("%s: max abs error vs std::tanh %.3g\n", config.name, max_error);
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> special = {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN()};
  config.run(special.data(), special.data(), special.size());
  EXPECT_EQ(special[0], 0.0f);
  EXPECT_TRUE(std::signbit(special[1]));
  EXPECT_EQ(special[2], 1.0f);
  EXPECT_EQ(special[3], -1.0f);
  EXPECT_TRUE(std::isnan(special[4]));
}

INSTANTIATE_TEST_SUITE_P(Registry, F32VTanhConfigTest, testing::ValuesIn(f32_vtanh_configs()),
                         config_name<F32VUnaryConfig>);

}  // namespace
}  // namespace quicksr::engine
