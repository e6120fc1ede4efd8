// Every f32 3x3 micro-kernel against a plain convolution loop over the same row-planar buffers.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/kernels/kernels.hpp"
#include "engine/plan.hpp"

namespace quicksr::engine {
namespace {

struct KernelCase {
  int in_channels;
  int out_channels;
  int col_begin;
  int col_count;
  bool clamp;
};

std::vector<Isa> available_isas() {
  std::vector<Isa> isas{Isa::kScalar};
  if (cpu_has_avx2_fma()) isas.push_back(Isa::kAvx2Fma);
  return isas;
}

void check_kernel(const F32Conv3x3Kernel& kernel, const KernelCase& c) {
  std::mt19937 rng(c.in_channels * 131 + c.out_channels * 7 + c.col_count);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const std::size_t stride = c.col_begin + c.col_count + 16;
  std::vector<float> input(3 * c.in_channels * stride);
  for (float& v : input) v = uniform(rng);
  Conv2d conv = Conv2d::zeros(c.in_channels, c.out_channels, 3);
  for (float& w : conv.weight) w = uniform(rng);
  for (float& b : conv.bias) b = uniform(rng);
  const PackedConv3x3 packed = pack_conv3x3(conv, c.clamp);
  std::vector<float> out(packed.padded_out_channels * stride, -7.0f);

  F32Conv3x3Args args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = input.data() + k * c.in_channels * stride;
  args.in_stride = stride;
  args.in_channels = c.in_channels;
  args.weights = packed.weights.data();
  args.bias = packed.bias.data();
  args.out_channels = packed.padded_out_channels;
  args.out = out.data();
  args.out_stride = stride;
  args.col_begin = c.col_begin;
  args.col_count = c.col_count;
  args.clamp = c.clamp;
  kernel.run(args);

  for (int o = 0; o < c.out_channels; ++o) {
    for (std::size_t col = 0; col < stride; ++col) {
      const bool inside = col >= static_cast<std::size_t>(c.col_begin) &&
                          col < static_cast<std::size_t>(c.col_begin + c.col_count);
      if (!inside) {
        ASSERT_EQ(out[o * stride + col], -7.0f) << "wrote outside the range at " << col;
        continue;
      }
      double expected = conv.bias[o];
      for (int i = 0; i < c.in_channels; ++i) {
        for (int ky = 0; ky < 3; ++ky) {
          for (int kx = 0; kx < 3; ++kx) {
            expected += static_cast<double>(conv.w(o, i, ky, kx)) *
                        input[(ky * c.in_channels + i) * stride + col - 1 + kx];
          }
        }
      }
      if (c.clamp) expected = std::fmin(std::fmax(expected, 0.0), 1.0);
      ASSERT_NEAR(out[o * stride + col], expected, 1e-4)
          << kernel.name << " out channel " << o << " column " << col;
    }
  }
}

TEST(F32Conv3x3Kernel, MatchesPlainLoopsForEveryIsaAndShape) {
  const KernelCase cases[] = {
      {3, 32, 8, 640, true}, {32, 32, 8, 24, true}, {32, 12, 16, 40, false}, {5, 8, 1, 8, true},
      {32, 32, 8, 16, true}, {7, 4, 3, 72, false},  {64, 64, 8, 48, true},   {16, 28, 8, 8, false},
  };
  for (Isa isa : available_isas()) {
    for (const KernelCase& c : cases) {
      SCOPED_TRACE("in " + std::to_string(c.in_channels) + " out " +
                   std::to_string(c.out_channels) + " cols " + std::to_string(c.col_count));
      check_kernel(f32_conv3x3_kernel(isa), c);
    }
  }
}

TEST(F32Conv3x3Kernel, RegistryNamesFollowTheKernelFiles) {
  EXPECT_STREQ(f32_conv3x3_kernel(Isa::kScalar).name, "f32-conv3x3/scalar");
  EXPECT_STREQ(f32_conv3x3_kernel(Isa::kAvx2Fma).name, "f32-conv3x3/4x24-avx2-fma");
}

}  // namespace
}  // namespace quicksr::engine
