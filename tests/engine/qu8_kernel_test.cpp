// Every INT8 3x3 (and x1.5-tail 1x1) micro-kernel this CPU can run against plain loops over the
// same grouped u8 rows: exact s32 sums (including the worst case 255 x +-127 that saturates
// vpmaddubsw) and the float32 requantisation with its clamp, for every register-tile remainder;
// and the depth-to-space kernels of the integer-scale tail.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/qu8_kernels.hpp"
#include "kernel_test_name.hpp"
#include "qu8_test_support.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::engine {
namespace {

struct Qu8KernelCase {
  int in_channels;
  int out_channels;
  int col_begin;
  int col_count;
  bool raw;
  bool extreme;    // all inputs 255 and weights +-127: the largest sums
  int kernel = 3;  // 3x3 (config.run) or 1x1 (config.run_1x1, the x1.5 tail)
};

// A conv with the given weights (OIHW) and random biases.
QConv2d conv_with_weights(int in, int out, int kernel, std::vector<std::int8_t> weights,
                          std::mt19937& rng) {
  QConv2d conv;
  conv.in_channels = in;
  conv.out_channels = out;
  conv.kernel_h = conv.kernel_w = kernel;
  conv.weight = std::move(weights);
  std::uniform_int_distribution<int> bias(-100000, 100000);
  for (int o = 0; o < out; ++o) conv.bias.push_back(bias(rng));
  conv.weight_scale.assign(out, 1.0f);
  return conv;
}

// Weights uniform in [lo, hi], or (extreme) only -128, -127 and 127.
QConv2d random_conv(int in, int out, int kernel, bool extreme, std::mt19937& rng, int lo = -127,
                    int hi = 127) {
  std::vector<std::int8_t> weights(static_cast<std::size_t>(out) * in * kernel * kernel);
  std::uniform_int_distribution<int> weight(lo, hi);
  constexpr std::int8_t kExtremes[] = {-128, -127, 127};
  std::uniform_int_distribution<int> extreme_weight(0, 2);
  for (std::int8_t& w : weights) {
    w = extreme ? kExtremes[extreme_weight(rng)] : static_cast<std::int8_t>(weight(rng));
  }
  return conv_with_weights(in, out, kernel, std::move(weights), rng);
}

void check_kernel(const QU8Conv3x3Config& kernel, const Qu8KernelCase& c, const QConv2d& conv) {
  std::mt19937 rng(c.in_channels * 131 + c.out_channels * 7 + c.col_count + c.extreme);
  const int k = conv.kernel_h;
  const int in_groups = (c.in_channels + 3) / 4;
  const int out_groups = (c.out_channels + 3) / 4;
  const std::size_t stride = c.col_begin + c.col_count + 16;
  std::vector<std::uint8_t> input(3 * in_groups * stride * 4);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::uint8_t& v : input) v = static_cast<std::uint8_t>(c.extreme ? 255 : byte(rng));
  std::vector<float> multipliers(out_groups * 4);
  std::uniform_real_distribution<float> log_m(-14.0f, -6.0f);
  for (float& m : multipliers) m = std::exp2(log_m(rng));
  const std::vector<std::int32_t> weights = kernel.pack(conv);
  std::vector<std::int32_t> bias(out_groups * 4, 0);
  for (int o = 0; o < c.out_channels; ++o) bias[o] = conv.bias[o];
  std::vector<std::uint8_t> out(out_groups * stride * 4, 7);
  std::vector<std::int32_t> raw(out_groups * 4 * stride, 7);
  const int zero_point = 3;
  const int lo = 3;
  const int hi = 250;

  QU8Conv3x3Args args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = input.data() + k * in_groups * stride * 4;
  args.in_stride = stride;
  args.in_groups = in_groups;
  args.weights = weights.data();
  args.bias = bias.data();
  args.multipliers = multipliers.data();
  args.out_channels = out_groups * 4;
  args.out = out.data();
  args.raw_out = c.raw ? raw.data() : nullptr;
  args.out_stride = stride;
  args.col_begin = c.col_begin;
  args.col_count = c.col_count;
  args.zero_point = zero_point;
  args.clamp_min = static_cast<float>(lo - zero_point);
  args.clamp_max = static_cast<float>(hi - zero_point);
  (k == 3 ? kernel.run : kernel.run_1x1)(args);

  int mismatches = 0;
  for (int o = 0; o < c.out_channels && mismatches < 5; ++o) {
    for (std::size_t x = 0; x < stride && mismatches < 5; ++x) {
      const bool inside = x >= static_cast<std::size_t>(c.col_begin) &&
                          x < static_cast<std::size_t>(c.col_begin + c.col_count);
      const std::uint8_t got_q = out[(o / 4 * stride + x) * 4 + o % 4];
      const std::int32_t got_raw = raw[o * stride + x];
      if (!inside) {
        EXPECT_EQ(c.raw ? got_raw : got_q, 7) << "wrote outside its columns at " << x;
        continue;
      }
      long long acc = conv.bias[o];
      for (int i = 0; i < c.in_channels; ++i) {
        for (int ky = 0; ky < k; ++ky) {
          for (int kx = 0; kx < k; ++kx) {
            const std::uint8_t v =
                input[((ky * in_groups + i / 4) * stride + x - k / 2 + kx) * 4 + i % 4];
            acc += conv.weight[((o * c.in_channels + i) * k + ky) * k + kx] * v;
          }
        }
      }
      if (c.raw) {
        if (got_raw != acc) ++mismatches;
        EXPECT_EQ(got_raw, acc) << "output " << o << " column " << x;
        continue;
      }
      const float t = static_cast<float>(acc) * multipliers[o];
      const long long q =
          std::clamp(static_cast<long long>(std::nearbyint(t)) + zero_point, 0LL + lo, 0LL + hi);
      if (got_q != q) ++mismatches;
      EXPECT_EQ(got_q, q) << "output " << o << " column " << x << " sum " << acc;
    }
  }
}

class QU8Conv3x3ConfigTest : public testing::TestWithParam<const QU8Conv3x3Config*> {};

// Column counts cover every remainder of the widest register tile.
TEST_P(QU8Conv3x3ConfigTest, MatchesPlainLoopsForEveryShape) {
  const QU8Conv3x3Config& config = *GetParam();
  if (!cpu_supports(config.isa)) {
    GTEST_SKIP() << config.name << ": this CPU lacks " << isa_name(config.isa);
  }
  const Qu8KernelCase cases[] = {
      {3, 32, 16, 96, false, false},
      {32, 32, 16, 208, false, false},
      {32, 12, 17, 112, false, false},
      {32, 28, 16, 16, false, false},
      {5, 8, 1, 48, false, false},
      {12, 8, 16, 48, false, false},  // an odd number of input groups past a pair
      {12, 8, 16, 32, true, true},
      {64, 48, 16, 80, false, false},
      {32, 12, 16, 64, true, false},
      {64, 12, 16, 32, true, true},
      {32, 32, 16, 96, false, true},
      // Raw sums of whole widest tiles (the assembly tiles of 4x96, 4x64 and 4x16), one input
      // group and several.
      {3, 8, 16, 96, true, false},
      {32, 12, 16, 208, true, true},
      // 1x1: the x1.5 tail (4f -> 27, padded to 28), requantised, raw (anchored) and extreme.
      {128, 28, 16, 96, false, false, 1},
      {128, 28, 0, 48, true, false, 1},
      {64, 28, 8, 112, false, true, 1},
      {16, 8, 16, 16, false, false, 1},
      // 1x1: the first conv on im2col rows (7 groups -> 32), whole widest tiles and remainders.
      {28, 32, 16, 96, false, false, 1},
      {28, 32, 16, 208, true, true, 1},
      {28, 32, 32, 112, false, true, 1},
  };
  for (const Qu8KernelCase& c : cases) {
    SCOPED_TRACE(std::string(config.name) + " in " + std::to_string(c.in_channels) + " out " +
                 std::to_string(c.out_channels) + " columns " + std::to_string(c.col_begin) + "+" +
                 std::to_string(c.col_count) + (c.raw ? " raw" : "") +
                 (c.extreme ? " extreme" : "") + (c.kernel == 1 ? " 1x1" : ""));
    std::mt19937 rng(c.in_channels * 17 + c.out_channels + c.kernel);
    check_kernel(config, c, random_conv(c.in_channels, c.out_channels, c.kernel, c.extreme, rng));
  }
}

// The raw sums of `config` on `conv` with every input 255 (the padding too), one per output
// channel: bias + 255 x the sum of its weights, computed by hand by the callers.
std::vector<std::int32_t> sums_of_255(const QU8Conv3x3Config& config, const QConv2d& conv,
                                      const std::vector<std::int32_t>& packed) {
  constexpr int kStride = 80;
  const int in_groups = (conv.in_channels + kQu8Group - 1) / kQu8Group;
  std::vector<std::uint8_t> input(3 * in_groups * kStride * kQu8Group, 255);
  std::vector<std::int32_t> raw(conv.out_channels * kStride, 0);
  const std::vector<float> multipliers(conv.out_channels, 1.0f);
  QU8Conv3x3Args args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = input.data() + k * in_groups * kStride * kQu8Group;
  args.in_stride = kStride;
  args.in_groups = in_groups;
  args.weights = packed.data();
  args.bias = conv.bias.data();
  args.multipliers = multipliers.data();
  args.out_channels = conv.out_channels;
  args.raw_out = raw.data();
  args.out_stride = kStride;
  args.col_begin = 16;
  args.col_count = 48;
  config.run(args);
  std::vector<std::int32_t> sums;
  for (int o = 0; o < conv.out_channels; ++o) sums.push_back(raw[o * kStride + 40]);
  return sums;
}

// The exact vpmaddubsw kernel, on the CPUs that have it.
class QU8Conv3x3Split : public testing::Test {
 protected:
  void SetUp() override {
    split_ = avx2_split_config();
    if (split_ == nullptr) GTEST_SKIP() << "this build has no x86 kernels";
    if (!cpu_supports(split_->isa)) GTEST_SKIP() << split_->name << ": this CPU lacks AVX2";
  }
  const QU8Conv3x3Config* split_ = nullptr;
};

// The exact vpmaddubsw kernel's weight split on one input group, by hand: pairs of weights of one
// sign summing past 128 (127 + 127, -128 + -128, 65 + 64) would saturate plain vpmaddubsw (255 x
// 254 > 32767) and need a residual; 64 + 64, -128 + 0 and pairs of opposite signs (127 - 128:
// the products cancel) do not.
TEST_F(QU8Conv3x3Split, SaturatingWeightPairsAreExact) {
  const QU8Conv3x3Config& config = *split_;
  // Per output channel one pair pattern, repeated over its 4 input channels and 9 taps.
  struct PairPattern {
    std::int8_t a, b;
    bool residual;
  };
  const PairPattern patterns[] = {{127, 127, true},   {-128, -128, true}, {127, -128, false},
                                  {-128, 127, false}, {64, 64, false},    {65, 64, true},
                                  {-128, 0, false},   {-1, -128, true}};
  constexpr int kIn = 4;
  constexpr int kOut = 8;
  std::vector<std::int8_t> weights;
  for (const PairPattern& p : patterns) {
    for (int i = 0; i < kIn * 9; ++i) weights.push_back(i / 9 % 2 == 0 ? p.a : p.b);
  }
  std::mt19937 rng(3);
  const QConv2d conv = conv_with_weights(kIn, kOut, 3, weights, rng);
  const std::vector<std::int32_t> packed = config.pack(conv);
  const std::int32_t* starts = packed.data() + kOut * 9;  // after the 8 x 9 main words
  for (int o = 0; o < kOut; ++o) {
    EXPECT_EQ(starts[o + 1] - starts[o], patterns[o].residual ? 9 : 0) << "channel " << o;
  }
  check_kernel(config, {kIn, kOut, 16, 48, true, true}, conv);
  const std::vector<std::int32_t> sums = sums_of_255(config, conv, packed);
  for (int o = 0; o < kOut; ++o) {
    const int pair_sum = patterns[o].a + patterns[o].b;
    EXPECT_EQ(sums[o], conv.bias[o] + 255 * 2 * 9 * pair_sum) << "channel " << o;
  }
}

// Two input groups: the kernel adds the s16 pair sums of group 0's byte pair j and group 1's
// (a quad) before widening them, so a quad of one sign past 128 (64 + 64 + 64 + 64, 33 + 32 + 32 +
// 32, the positive half of 127 - 128 + 127 - 128) would wrap and needs a residual, though each of
// its pairs is exact; quads within the bound (32 x 4, 64 + 64 - 64 - 64) do not.
TEST_F(QU8Conv3x3Split, SaturatingWeightQuadsAreExact) {
  const QU8Conv3x3Config& config = *split_;
  // Per output channel the weights of channels (0, 1), (2, 3) (group 0) and (4, 5), (6, 7).
  struct QuadPattern {
    std::int8_t a, b, c, d;
    bool residual;
  };
  const QuadPattern patterns[] = {{64, 64, -64, -64, false},    {32, 32, 32, 32, false},
                                  {33, 32, 32, 32, true},       {64, 64, 64, 64, true},
                                  {127, 127, 127, 127, true},   {-128, -128, -128, -128, true},
                                  {127, -128, 127, -128, true}, {-128, 0, 0, 0, false}};
  constexpr int kIn = 8;
  constexpr int kOut = 8;
  std::vector<std::int8_t> weights;
  for (const QuadPattern& p : patterns) {
    const std::int8_t by_channel[kIn] = {p.a, p.b, p.a, p.b, p.c, p.d, p.c, p.d};
    for (const std::int8_t w : by_channel) weights.insert(weights.end(), 9, w);
  }
  std::mt19937 rng(5);
  const QConv2d conv = conv_with_weights(kIn, kOut, 3, weights, rng);
  const std::vector<std::int32_t> packed = config.pack(conv);
  const std::int32_t* starts = packed.data() + kOut * 2 * 9;  // after the 8 x 2 x 9 main words
  for (int o = 0; o < kOut; ++o) {
    EXPECT_EQ(starts[o + 1] > starts[o], patterns[o].residual) << "channel " << o;
  }
  check_kernel(config, {kIn, kOut, 16, 48, true, true}, conv);
  const std::vector<std::int32_t> sums = sums_of_255(config, conv, packed);
  for (int o = 0; o < kOut; ++o) {
    const QuadPattern& p = patterns[o];
    EXPECT_EQ(sums[o], conv.bias[o] + 255 * 2 * 9 * (p.a + p.b + p.c + p.d)) << "channel " << o;
  }
}

// Weights within +-32 leave the split kernel an empty residual list (no quad sums past 128); its
// output is still exact.
TEST_F(QU8Conv3x3Split, SmallWeightsNeedNoResidual) {
  const QU8Conv3x3Config& config = *split_;
  std::mt19937 rng(9);
  const QConv2d conv = random_conv(32, 32, 3, false, rng, -32, 32);
  const std::vector<std::int32_t> packed = config.pack(conv);
  ASSERT_EQ(packed.size(), 32u * 8 * 9 + 33) << "main words and entry starts, no entries";
  for (const bool raw : {false, true}) check_kernel(config, {32, 32, 16, 208, raw, false}, conv);
}

INSTANTIATE_TEST_SUITE_P(Registry, QU8Conv3x3ConfigTest, testing::ValuesIn(qu8_conv3x3_configs()),
                         config_name<QU8Conv3x3Config>);

class QU8DepthToSpaceConfigTest : public testing::TestWithParam<const QU8DepthToSpaceConfig*> {};

// Every scale and channel order, RGB, BGR, RGBA and BGRA pixels, pixel counts around the SIMD
// step; bytes around the output rows, and the fourth byte of 4-byte pixels, stay untouched; the
// last row ends at its last colour byte (ASan: nothing past it is read or written).
TEST_P(QU8DepthToSpaceConfigTest, MatchesPlainLoops) {
  const QU8DepthToSpaceConfig& config = *GetParam();
  if (!cpu_supports(config.isa)) {
    GTEST_SKIP() << config.name << ": this CPU lacks " << isa_name(config.isa);
  }
  std::mt19937 rng(11);
  constexpr std::uint8_t kSentinel = 0xA5;
  for (int scale = 2; scale <= kQu8MaxDepthToSpaceScale; ++scale) {
    for (ChannelOrder order : {ChannelOrder::kDCR, ChannelOrder::kCRD}) {
      for (const int pixel_bytes : {3, 4}) {
        for (const bool blue_first : {false, true}) {
          const std::vector<std::uint8_t> channels =
              d2s_byte_map(order, scale, pixel_bytes, blue_first);
          const int row_bytes = pixel_bytes * scale;  // of one input pixel
          const int groups = (3 * scale * scale + kQu8Group - 1) / kQu8Group;
          for (int pixels : {1, 3, 4, 5, 8, 13, 16, 17, 37}) {
            const std::size_t stride = pixels + 7;
            std::vector<std::uint8_t> in(groups * stride * kQu8Group);
            for (std::uint8_t& v : in) v = static_cast<std::uint8_t>(rng());
            const std::ptrdiff_t row_step = row_bytes * pixels + 40;
            // The last row ends at its last colour byte (kernels never touch a kept byte there).
            std::vector<std::uint8_t> out(
                (scale - 1) * row_step + 8 + row_bytes * pixels - (pixel_bytes - 3), kSentinel);
            QU8DepthToSpaceArgs args{};
            args.in = in.data() + 2 * kQu8Group;  // the first pixel at column 2
            args.in_stride = stride;
            args.pixels = pixels;
            args.scale = scale;
            args.channels = channels.data();
            args.out = out.data() + 8;
            args.out_row_step = row_step;
            args.pixel_bytes = pixel_bytes;
            config.run(args);
            int mismatches = 0;
            for (int dy = 0; dy < scale; ++dy) {
              for (std::ptrdiff_t byte = 0;
                   byte < row_step &&
                   dy * row_step + byte < static_cast<std::ptrdiff_t>(out.size());
                   ++byte) {
                const std::ptrdiff_t offset = byte - 8;  // from the row's first output byte
                std::uint8_t expected = kSentinel;
                if (offset >= 0 && offset < row_bytes * pixels) {
                  const int x = static_cast<int>(offset / row_bytes);
                  const int channel = channels[dy * row_bytes + offset % row_bytes];
                  if (channel != kQu8KeepByte) {
                    expected = in[(channel / kQu8Group * stride + 2 + x) * kQu8Group +
                                  channel % kQu8Group];
                  }
                }
                if (out[dy * row_step + byte] != expected && ++mismatches <= 3) {
                  ADD_FAILURE() << config.name << " scale " << scale << " order "
                                << (order == ChannelOrder::kCRD ? "CRD" : "DCR") << " pixel bytes "
                                << pixel_bytes << (blue_first ? " BGR" : " RGB") << " pixels "
                                << pixels << " row " << dy << " byte " << offset;
                }
              }
            }
          }
        }
      }
    }
  }
}

// The map's bytes by hand: CRD x2, channel (c * 2 + dy) * 2 + dx.
TEST(QU8DepthToSpaceMap, PlacesColoursInPixelOrder) {
  EXPECT_EQ(d2s_byte_map(ChannelOrder::kCRD, 2, 3, false),
            (std::vector<std::uint8_t>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(d2s_byte_map(ChannelOrder::kCRD, 2, 4, true),
            (std::vector<std::uint8_t>{8, 4, 0, kQu8KeepByte, 9, 5, 1, kQu8KeepByte, 10, 6, 2,
                                       kQu8KeepByte, 11, 7, 3, kQu8KeepByte}));
  // DCR x2: channel (dy * 2 + dx) * 3 + c.
  EXPECT_EQ(d2s_byte_map(ChannelOrder::kDCR, 2, 3, true),
            (std::vector<std::uint8_t>{2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9}));
}

INSTANTIATE_TEST_SUITE_P(Registry, QU8DepthToSpaceConfigTest,
                         testing::ValuesIn(qu8_depth_to_space_configs()),
                         config_name<QU8DepthToSpaceConfig>);

class QU8InputRowConfigTest : public testing::TestWithParam<const QU8InputRowConfig*> {};

// Word x holds R, G, B, R of pixel x of an RGB, BGR, RGBA or BGRA row, for pixel counts around
// the SIMD step; no word past the last pixel is written. The row ends at the last colour byte.
TEST_P(QU8InputRowConfigTest, CopiesRgbAndRedAgainPerPixel) {
  const QU8InputRowConfig& config = *GetParam();
  if (!cpu_supports(config.isa)) {
    GTEST_SKIP() << config.name << ": this CPU lacks " << isa_name(config.isa);
  }
  constexpr std::uint8_t kSentinel = 0xA5;
  std::mt19937 rng(8);
  for (const int pixel_bytes : {3, 4}) {
    for (const bool blue_first : {false, true}) {
      // Bytes of red, green, blue within a pixel.
      const int red = blue_first ? 2 : 0, blue = blue_first ? 0 : 2;
      const int word_bytes[kQu8Group] = {red, 1, blue, red};
      for (int pixels : {1, 2, 5, 8, 9, 10, 11, 15, 16, 17, 32, 33, 50}) {
        // Without the last pixel's fourth byte: kernels read colour bytes only.
        std::vector<std::uint8_t> row(pixel_bytes * pixels - (pixel_bytes - 3));
        for (std::uint8_t& v : row) v = static_cast<std::uint8_t>(rng());
        std::vector<std::uint8_t> out(kQu8Group * (pixels + 2), kSentinel);
        config.run({row.data(), pixels, out.data(), pixel_bytes, blue_first});
        for (std::size_t byte = 0; byte < out.size(); ++byte) {
          const std::size_t x = byte / kQu8Group;
          const std::uint8_t expected = x < static_cast<std::size_t>(pixels)
                                            ? row[pixel_bytes * x + word_bytes[byte % kQu8Group]]
                                            : kSentinel;
          ASSERT_EQ(out[byte], expected)
              << config.name << " pixel bytes " << pixel_bytes << (blue_first ? " BGR" : " RGB")
              << " pixels " << pixels << " byte " << byte;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, QU8InputRowConfigTest,
                         testing::ValuesIn(qu8_input_row_configs()),
                         config_name<QU8InputRowConfig>);

// kQu8Im2colBytes names each of the 27 (ky, kx, colour) of a 3x3 window over RGB exactly once.
TEST(QU8Im2colBytes, CoverTheWindowOnce) {
  int seen[3][3][3] = {};
  int unused = 0;
  for (const QU8Im2colByte& b : kQu8Im2colBytes) {
    if (b.colour < 0) {
      ++unused;
    } else {
      ++seen[b.ky][b.kx][b.colour];
    }
  }
  EXPECT_EQ(unused, 1);
  for (const auto& row : seen) {
    for (const auto& pixel : row) {
      for (const int count : pixel) EXPECT_EQ(count, 1);
    }
  }
}

class QU8Im2colConfigTest : public testing::TestWithParam<const QU8Im2colConfig*> {};

// Byte b of column x is colour c of input word x - 1 + kx of row ky (kQu8Im2colBytes), the unused
// byte 0; columns outside [col_begin, + col_count) are not written.
TEST_P(QU8Im2colConfigTest, GathersEachWindowsBytes) {
  const QU8Im2colConfig& config = *GetParam();
  if (!cpu_supports(config.isa)) {
    GTEST_SKIP() << config.name << ": this CPU lacks " << isa_name(config.isa);
  }
  constexpr std::uint8_t kSentinel = 0xA5;
  std::mt19937 rng(10);
  for (const auto& [col_begin, col_count] :
       {std::pair{1, 16}, std::pair{16, 48}, std::pair{5, 96}}) {
    const std::size_t stride = col_begin + col_count + 9;
    std::vector<std::uint8_t> rows(3 * stride * kQu8Group);
    for (std::uint8_t& v : rows) v = static_cast<std::uint8_t>(rng());
    std::vector<std::uint8_t> out(kQu8Im2colGroups * stride * kQu8Group, kSentinel);
    QU8Im2colArgs args{};
    for (int ky = 0; ky < 3; ++ky) args.rows[ky] = rows.data() + ky * stride * kQu8Group;
    args.out = out.data();
    args.stride = stride;
    args.col_begin = col_begin;
    args.col_count = col_count;
    config.run(args);
    int mismatches = 0;
    for (std::size_t byte = 0; byte < out.size(); ++byte) {
      const int group = static_cast<int>(byte / kQu8Group / stride);
      const int x = static_cast<int>(byte / kQu8Group % stride);
      const QU8Im2colByte source = kQu8Im2colBytes[group * kQu8Group + byte % kQu8Group];
      std::uint8_t expected = kSentinel;
      if (x >= col_begin && x < col_begin + col_count) {
        expected = source.colour < 0
                       ? 0
                       : rows[(source.ky * stride + x - 1 + source.kx) * kQu8Group + source.colour];
      }
      if (out[byte] != expected && ++mismatches <= 3) {
        ADD_FAILURE() << config.name << " columns " << col_begin << "+" << col_count << " group "
                      << group << " column " << x << " byte " << byte % kQu8Group;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, QU8Im2colConfigTest, testing::ValuesIn(qu8_im2col_configs()),
                         config_name<QU8Im2colConfig>);

class QU8LutConfigTest : public testing::TestWithParam<const QU8LutConfig*> {};

// out[i] = table[in[i]] for counts around the SIMD step, in place too; no byte past the count is
// written.
TEST_P(QU8LutConfigTest, LooksEveryByteUp) {
  const QU8LutConfig& config = *GetParam();
  if (!cpu_supports(config.isa)) {
    GTEST_SKIP() << config.name << ": this CPU lacks " << isa_name(config.isa);
  }
  constexpr std::uint8_t kSentinel = 0xA5;
  std::mt19937 rng(9);
  std::uint8_t table[256];
  for (std::uint8_t& v : table) v = static_cast<std::uint8_t>(rng());
  for (std::size_t count : {0, 1, 63, 64, 65, 200, 256}) {
    std::vector<std::uint8_t> in(count);
    for (std::size_t i = 0; i < count; ++i) in[i] = static_cast<std::uint8_t>(i < 256 ? i : rng());
    std::shuffle(in.begin(), in.end(), rng);
    std::vector<std::uint8_t> out(count + 8, kSentinel);
    config.run({table, in.data(), out.data(), count});
    std::vector<std::uint8_t> in_place = in;
    config.run({table, in_place.data(), in_place.data(), count});
    for (std::size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i], i < count ? table[in[i]] : kSentinel) << config.name << " byte " << i;
    }
    for (std::size_t i = 0; i < count; ++i) ASSERT_EQ(in_place[i], table[in[i]]) << config.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, QU8LutConfigTest, testing::ValuesIn(qu8_lut_configs()),
                         config_name<QU8LutConfig>);

class QU8AddConfigTest : public testing::TestWithParam<const QU8AddConfig*> {};

// Every pair of levels (all 65536) against quant::requantize_sum, the integer reference's rule:
// zero points 0 and not, multipliers below and above 1, the u8 range and a fused clamp (sums
// rounding at and beyond both bounds), in place too; counts around the SIMD steps, no byte past
// the count written.
TEST_P(QU8AddConfigTest, MatchesTheReferenceRuleForEveryPairOfLevels) {
  const QU8AddConfig& config = *GetParam();
  if (!cpu_supports(config.isa)) {
    GTEST_SKIP() << config.name << ": this CPU lacks " << isa_name(config.isa);
  }
  const QU8AddParams cases[] = {
      {.a_multiplier = 0.5f, .b_multiplier = 0.5f},
      {.a_zero_point = 17,
       .b_zero_point = 201,
       .a_multiplier = 0.73f,
       .b_multiplier = 1.37f,
       .zero_point = 90,
       .lo = 90,
       .hi = 255},
      {.a_zero_point = 128,
       .b_zero_point = 3,
       .a_multiplier = 0.0371f,
       .b_multiplier = 2.9f,
       .zero_point = 5,
       .lo = 12,
       .hi = 200},
  };
  std::vector<std::uint8_t> a(65536);
  std::vector<std::uint8_t> b(65536);
  for (int q = 0; q < 65536; ++q) {
    a[q] = static_cast<std::uint8_t>(q >> 8);
    b[q] = static_cast<std::uint8_t>(q & 255);
  }
  constexpr std::uint8_t kSentinel = 0xA5;
  for (const QU8AddParams& params : cases) {
    const quant::ClampBounds bounds{params.lo, params.hi};
    std::vector<std::uint8_t> expected(65536);
    for (int q = 0; q < 65536; ++q) {
      expected[q] = quant::requantize_sum(a[q] - params.a_zero_point, params.a_multiplier,
                                          b[q] - params.b_zero_point, params.b_multiplier,
                                          params.zero_point, bounds);
    }
    for (std::size_t count : {0, 1, 7, 8, 9, 15, 16, 17, 65535, 65536}) {
      std::vector<std::uint8_t> out(count + 8, kSentinel);
      config.run({a.data(), b.data(), out.data(), count, &params});
      for (std::size_t i = 0; i < out.size(); ++i) {
        ASSERT_EQ(out[i], i < count ? expected[i] : kSentinel)
            << config.name << " levels " << int{a[i % 65536]} << " + " << int{b[i % 65536]}
            << ", zero points " << params.a_zero_point << ", " << params.b_zero_point;
      }
    }
    std::vector<std::uint8_t> in_place = b;
    config.run({a.data(), in_place.data(), in_place.data(), in_place.size(), &params});
    EXPECT_EQ(in_place, expected) << config.name << " in place";
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, QU8AddConfigTest, testing::ValuesIn(qu8_add_configs()),
                         config_name<QU8AddConfig>);

// Per ISA level the engine takes the first registered INT8 kernel that level can run.
TEST(QU8Conv3x3Registry, EachLevelGetsItsOwnKernel) {
  EXPECT_EQ(qu8_conv3x3_config(Isa::kScalar).isa, Isa::kScalar);
#if defined(__x86_64__) || defined(__i386__)
  EXPECT_EQ(qu8_conv3x3_config(Isa::kAvx512Vnni).isa, Isa::kAvx512Vnni);
  EXPECT_EQ(qu8_conv3x3_config(Isa::kAvxVnni).isa, Isa::kAvxVnni);
  EXPECT_EQ(qu8_conv3x3_config(Isa::kAvx512).isa, Isa::kAvx512);  // no VNNI: s16 zmm
  EXPECT_EQ(qu8_conv3x3_config(Isa::kAvx2Fma).isa, Isa::kAvx2Fma);
#else
  for (Isa isa : kAllIsas) EXPECT_EQ(qu8_conv3x3_config(isa).isa, Isa::kScalar);  // no x86 files
#endif
}

}  // namespace
}  // namespace quicksr::engine
