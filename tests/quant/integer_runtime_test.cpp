// The integer reference runtime against values computed by hand from docs/quantization.md: the
// scalar rules (rounding ties, clamp bounds, the anchor sum), a 1-channel conv, zero-point padding,
// and whole nets whose u8 output is known in closed form (nearest-neighbour upscaling).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr {
namespace {

using quant::ClampBounds;

TEST(RequantizeTest, RoundsHalfToEven) {
  const ClampBounds all{0, 255};
  // t = acc * 0.5 is exact, so every odd acc is a tie.
  EXPECT_EQ(quant::requantize(5, 0.5f, 10, all), 12);  // 2.5 -> 2
  EXPECT_EQ(quant::requantize(7, 0.5f, 10, all), 14);  // 3.5 -> 4
  EXPECT_EQ(quant::requantize(-5, 0.5f, 10, all), 8);  // -2.5 -> -2
  EXPECT_EQ(quant::requantize(-7, 0.5f, 10, all), 6);  // -3.5 -> -4
  EXPECT_EQ(quant::requantize(9, 0.25f, 0, all), 2);   // 2.25 -> 2
  EXPECT_EQ(quant::requantize(11, 0.25f, 0, all), 3);  // 2.75 -> 3
}

TEST(RequantizeTest, ClampsToTheBounds) {
  const ClampBounds bounds{20, 120};
  EXPECT_EQ(quant::requantize(1000000, 0.5f, 20, bounds), 120);
  EXPECT_EQ(quant::requantize(-1000000, 0.5f, 20, bounds), 20);
  EXPECT_EQ(quant::requantize(2147483647, 1e30f, 20, bounds), 120);  // t far outside int range
  EXPECT_EQ(quant::requantize(-2147483647, 1e30f, 20, bounds), 20);
  EXPECT_EQ(quant::requantize(200, 0.5f, 20, bounds), 120);  // exactly hi
  EXPECT_EQ(quant::requantize(-1, 0.5f, 20, bounds), 20);    // -0.5 -> 0 -> lo
}

TEST(RequantizeTest, InfiniteMultipliersClampAndNanGivesTheLowerBound) {
  // Encodings may overflow a multiplier to infinity (huge input scale, tiny output scale): a
  // non-zero accumulator clamps, a zero one makes t = 0 * inf = NaN, which gives lo.
  const float infinity = std::numeric_limits<float>::infinity();
  const ClampBounds bounds{20, 120};
  EXPECT_EQ(quant::requantize(3, infinity, 50, bounds), 120);
  EXPECT_EQ(quant::requantize(-3, infinity, 50, bounds), 20);
  EXPECT_EQ(quant::requantize(0, infinity, 50, bounds), 20);
  EXPECT_EQ(quant::quantize(std::numeric_limits<float>::quiet_NaN(), {0.5f, 7}), 0);
}

TEST(RequantizeTest, AccumulatorIsRoundedToFloat32First) {
  const float m = 1.0f / (1 << 25);
  // 2^24 + 1 is no float32: it rounds (to even) to 2^24, so t = 0.5 -> 0; exact arithmetic would
  // give 0.5 + 2^-25 -> 1.
  EXPECT_EQ(quant::requantize((1 << 24) + 1, m, 0, {0, 255}), 0);
  // 2^24 + 3 rounds to 2^24 + 4: t = 0.5 + 2^-23 -> 1.
  EXPECT_EQ(quant::requantize((1 << 24) + 3, m, 0, {0, 255}), 1);
}

TEST(RequantizeTest, AnchorSumRoundsOnce) {
  // 1.5 + 1.0 = 2.5 -> 2 (one rounding of the sum), not round(1.5) + round(1.0) = 3.
  EXPECT_EQ(quant::requantize_sum(3, 0.5f, 2, 0.5f, 0, {0, 255}), 2);
  EXPECT_EQ(quant::requantize_sum(3, 0.5f, 4, 0.5f, 0, {0, 255}), 4);  // 3.5 -> 4
  EXPECT_EQ(quant::requantize_sum(1000, 1.0f, 1000, 1.0f, 7, {7, 200}), 200);
}

TEST(Relu1BoundsTest, AreTheU8ValuesOfZeroAndOne) {
  EXPECT_EQ(quant::relu1_bounds({1.0f / 255.0f, 0}).lo, 0);
  EXPECT_EQ(quant::relu1_bounds({1.0f / 255.0f, 0}).hi, 255);
  EXPECT_EQ(quant::relu1_bounds({0.01f, 0}).hi, 100);
  EXPECT_EQ(quant::relu1_bounds({0.01f, 20}).lo, 20);
  EXPECT_EQ(quant::relu1_bounds({0.01f, 20}).hi, 120);
  EXPECT_EQ(quant::relu1_bounds({0.001f, 0}).hi, 255);  // 1.0 is outside the range
  EXPECT_EQ(quant::relu1_bounds({0.5f, 3}).hi, 5);
}

TEST(ActivationBoundsTest, ReluClampsOnlyToTheU8Range) {
  const ActivationEncoding wide{0.01f, 0};  // [0, 2.55]: ReLU features above 1
  EXPECT_EQ(quant::activation_bounds(wide, Activation::kReLU1).hi, 100);
  EXPECT_EQ(quant::activation_bounds(wide, Activation::kReLU).lo, 0);
  EXPECT_EQ(quant::activation_bounds(wide, Activation::kReLU).hi, 255);
  EXPECT_EQ(quant::activation_bounds({0.01f, 20}, Activation::kReLU).lo, 20);
  EXPECT_EQ(quant::activation_bounds({0.01f, 20}, Activation::kReLU).hi, 255);
  EXPECT_EQ(quant::activation_bounds({0.01f, 20}, Activation::kReLU1).hi, 120);
}

TEST(EncodingTest, FromRangeContainsZero) {
  const ActivationEncoding unit = quant::encoding_from_range(0.0f, 1.0f);
  EXPECT_FLOAT_EQ(unit.scale, 1.0f / 255.0f);
  EXPECT_EQ(unit.zero_point, 0);
  const ActivationEncoding positive = quant::encoding_from_range(0.5f, 2.55f);  // widened to 0
  EXPECT_FLOAT_EQ(positive.scale, 0.01f);
  EXPECT_EQ(positive.zero_point, 0);
  const ActivationEncoding signed_range = quant::encoding_from_range(-0.51f, 2.04f);
  EXPECT_FLOAT_EQ(signed_range.scale, 0.01f);
  EXPECT_EQ(signed_range.zero_point, 51);
  EXPECT_GT(quant::encoding_from_range(0.0f, 0.0f).scale, 0.0f);
}

TEST(EncodingTest, QuantizeRoundsHalfToEvenAndClamps) {
  const ActivationEncoding e{0.5f, 10};
  EXPECT_EQ(quant::quantize(1.25f, e), 12);  // 2.5 -> 2
  EXPECT_EQ(quant::quantize(1.75f, e), 14);  // 3.5 -> 4
  EXPECT_EQ(quant::quantize(-100.0f, e), 0);
  EXPECT_EQ(quant::quantize(1000.0f, e), 255);
  EXPECT_FLOAT_EQ(quant::dequantize(14, e), 2.0f);
}

QConv2d conv_3x3(int in, int out, std::vector<std::int8_t> weight, std::vector<std::int32_t> bias) {
  QConv2d conv;
  conv.in_channels = in;
  conv.out_channels = out;
  conv.weight = std::move(weight);
  conv.bias = std::move(bias);
  conv.weight_scale = {1.0f};
  return conv;
}

U8Tensor plane_3x3(std::vector<std::uint8_t> values) {
  U8Tensor x(1, 3, 3);
  x.data = std::move(values);
  return x;
}

TEST(AccumulateTest, OneChannelByHand) {
  const QConv2d conv = conv_3x3(1, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {100});
  // x - zero point = [[0, 10, 20], [30, 40, 50], [60, 70, 80]].
  const S32Tensor acc =
      quant::accumulate(plane_3x3({10, 20, 30, 40, 50, 60, 70, 80, 90}), 10, conv);
  ASSERT_EQ(acc.height, 3);
  ASSERT_EQ(acc.width, 3);
  // Centre: 1*0 + 2*10 + 3*20 + 4*30 + 5*40 + 6*50 + 7*60 + 8*70 + 9*80 + 100.
  EXPECT_EQ(acc.at(0, 1, 1), 2500);
  // Top-left corner: only taps (1,1), (1,2), (2,1), (2,2) are inside: 5*0 + 6*10 + 8*30 + 9*40.
  EXPECT_EQ(acc.at(0, 0, 0), 760);
  // Bottom-right corner: taps (0,0), (0,1), (1,0), (1,1) on x - zp 40, 50, 70, 80.
  EXPECT_EQ(acc.at(0, 2, 2), 1 * 40 + 2 * 50 + 4 * 70 + 5 * 80 + 100);
}

TEST(AccumulateTest, PaddingIsTheZeroPoint) {
  // Padding with real 0 = padding the u8 input with its zero point and convolving without padding.
  std::mt19937 engine(7);
  std::uniform_int_distribution<int> byte(0, 255), weight(-127, 127);
  const int zero_point = 37;
  U8Tensor x(2, 5, 4);
  for (auto& v : x.data) v = static_cast<std::uint8_t>(byte(engine));
  QConv2d conv;
  conv.in_channels = 2;
  conv.out_channels = 3;
  for (int i = 0; i < 3 * 2 * 9; ++i)
    conv.weight.push_back(static_cast<std::int8_t>(weight(engine)));
  conv.bias = {5, -6, 7};
  conv.weight_scale = {1.0f};
  U8Tensor padded(2, 7, 6, static_cast<std::uint8_t>(zero_point));
  for (int c = 0; c < 2; ++c) {
    for (int y = 0; y < 5; ++y) {
      for (int xx = 0; xx < 4; ++xx) padded.at(c, y + 1, xx + 1) = x.at(c, y, xx);
    }
  }
  QConv2d unpadded = conv;
  unpadded.pad_top = unpadded.pad_left = unpadded.pad_bottom = unpadded.pad_right = 0;
  for (const int stride : {1, 2}) {
    conv.stride = unpadded.stride = stride;
    const S32Tensor a = quant::accumulate(x, zero_point, conv);
    const S32Tensor b = quant::accumulate(padded, zero_point, unpadded);
    ASSERT_EQ(a.height, b.height);
    ASSERT_EQ(a.width, b.width);
    EXPECT_EQ(a.data, b.data) << "stride " << stride;
  }
}

TEST(AccumulateTest, TransposedConvScattersEachInputPixelByHand) {
  // 2 -> 2 channels, kernel 3, stride 2, padding 1 / 1, output padding 1 (FSRCNN's geometry:
  // output exactly 2x the input). Weights IOHW; only w[in 0][out 1] and w[in 1][out 0] are
  // non-zero, so swapping the I and O axes would change the result.
  QConv2d conv;
  conv.transposed = true;
  conv.in_channels = conv.out_channels = 2;
  conv.stride = 2;
  conv.output_padding = 1;
  conv.weight.assign(2 * 2 * 9, 0);
  const auto w = [&](int i, int o, int ky, int kx) -> std::int8_t& {
    return conv.weight[static_cast<std::size_t>(((i * 2 + o) * 3 + ky) * 3 + kx)];
  };
  w(0, 1, 1, 1) = 1;
  w(0, 1, 1, 2) = 2;
  w(0, 1, 1, 0) = 3;
  w(0, 1, 2, 1) = -1;
  w(1, 0, 1, 1) = 4;
  conv.bias = {5, -7};
  conv.weight_scale = {1.0f};
  U8Tensor x(2, 1, 2);
  x.data = {12, 20, 10, 7};  // minus the zero point 10: channel 0 [2, 10], channel 1 [0, -3]
  const S32Tensor acc = quant::accumulate(x, 10, conv);
  ASSERT_EQ(acc.channels, 2);
  ASSERT_EQ(acc.height, 2);
  ASSERT_EQ(acc.width, 4);
  // Input (iy, ix) tap (ky, kx) lands on (2 iy + ky - 1, 2 ix + kx - 1); row -1 / column -1 drop.
  // Out 0 = 5 + 4 * channel 1 at (0, 2 ix): (0, 0) 5 + 0, (0, 2) 5 - 12; elsewhere 5.
  // Out 1 = -7 + channel 0 (2, 10) through taps (1,1)=1 at x = 2 ix, (1,2)=2 at 2 ix + 1,
  //   (1,0)=3 at 2 ix - 1, (2,1)=-1 at row 1, x = 2 ix:
  //   row 0: -7 + 2, -7 + 4 + 30 (ix 0 tap 2 and ix 1 tap 0 overlap), -7 + 10, -7 + 20;
  //   row 1: -7 - 2, -7, -7 - 10, -7.
  EXPECT_EQ(acc.data, (std::vector<std::int32_t>{5, 5, -7, 5, 5, 5, 5, 5,  //
                                                 -5, 27, 3, 13, -9, -7, -17, -7}));
}

TEST(AccumulateTest, WorstCaseIsExact) {
  // 9 taps of 127 * (255 - 0) plus a bias: exact in int32, no saturation anywhere.
  QConv2d conv = conv_3x3(1, 1, std::vector<std::int8_t>(9, 127), {1000000});
  const S32Tensor acc = quant::accumulate(plane_3x3(std::vector<std::uint8_t>(9, 255)), 0, conv);
  EXPECT_EQ(acc.at(0, 1, 1), 1000000 + 9 * 127 * 255);
  conv.weight.assign(9, -127);
  const S32Tensor low = quant::accumulate(plane_3x3(std::vector<std::uint8_t>(9, 255)), 0, conv);
  EXPECT_EQ(low.at(0, 1, 1), 1000000 - 9 * 127 * 255);
}

// Nearest neighbour for any scale s: output pixel Y samples input floor((Y + 0.5) / s).
U8Tensor nearest_upscale(const U8Tensor& x, double s) {
  const int h = static_cast<int>(std::floor(x.height * s));
  const int w = static_cast<int>(std::floor(x.width * s));
  U8Tensor y(x.channels, h, w);
  for (int c = 0; c < x.channels; ++c) {
    for (int row = 0; row < h; ++row) {
      for (int col = 0; col < w; ++col) {
        y.at(c, row, col) = x.at(c, static_cast<int>(std::floor((row + 0.5) / s)),
                                 static_cast<int>(std::floor((col + 0.5) / s)));
      }
    }
  }
  return y;
}

U8Tensor random_image(int h, int w, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  U8Tensor x(3, h, w);
  for (auto& v : x.data) v = static_cast<std::uint8_t>(byte(engine));
  return x;
}

ActivationEncodings unit_encodings(const QuickSRNetConfig& config) {
  return ActivationEncodings{{}, std::vector<ActivationEncoding>(config.blocks + 1), {}};
}

struct ScaleCase {
  const char* preset;
  Scale scale;
};

class IdentityNetTest : public ::testing::TestWithParam<ScaleCase> {};

// The identity-initialised net (random part zero) upscales by nearest neighbour; quantized with
// [0, 1] encodings every weight is 127 * (1/127) and every requantisation t = x (1 + e) with
// |e| < 2^-23, so the u8 output is exactly the nearest-neighbour upscale of the u8 input.
TEST_P(IdentityNetTest, IsNearestNeighbourInU8) {
  const QuickSRNetConfig config = QuickSRNetConfig::preset(GetParam().preset, GetParam().scale);
  QuickSRNet net = QuickSRNet::zeros(config);
  add_identity_init(net);
  for (const auto granularity : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
    const QuantizedQuickSRNet q = quant::quantize_weights(net, unit_encodings(config), granularity);
    for (const auto& [h, w] : {std::pair{4, 6}, std::pair{5, 3}}) {
      const U8Tensor x = random_image(h, w, static_cast<unsigned>(h * 10 + w));
      const U8Tensor y = quant::forward(q, x);
      const U8Tensor expected = nearest_upscale(x, config.scale.value());
      ASSERT_EQ(y.height, expected.height);
      ASSERT_EQ(y.width, expected.width);
      EXPECT_EQ(y.data, expected.data) << h << "x" << w;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Presets, IdentityNetTest,
                         ::testing::Values(ScaleCase{"small", {2, 1}}, ScaleCase{"small", {3, 1}},
                                           ScaleCase{"small", {4, 1}}, ScaleCase{"small", {3, 2}},
                                           ScaleCase{"large", {2, 1}}, ScaleCase{"large", {3, 2}}),
                         [](const auto& info) {
                           return std::string(info.param.preset) + "_x" +
                                  std::to_string(info.param.scale.numerator) + "_" +
                                  std::to_string(info.param.scale.denominator);
                         });

// An anchor net built by hand: the anchor copies the input (weight 1, scale 1: multiplier exactly
// 1), the last conv adds half an output step (bias 1, weight scale 0.5, features scale 1/255:
// multiplier 0.5). The sum x + 0.5 rounds half to even in one rounding: odd x -> x + 1, even x
// -> x, and 255 + 1 clamps to 255.
TEST(AnchorSumTest, RoundsTheSumOnceAndClamps) {
  QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  config.anchor = true;
  config.blocks = 0;
  config.features = 3;
  QuickSRNet zeros = QuickSRNet::zeros(config);
  QuantizedQuickSRNet q =
      quant::quantize_weights(zeros, unit_encodings(config), WeightGranularity::kPerChannel);
  for (int o = 0; o < 12; ++o) {
    q.anchor[0].weight[static_cast<std::size_t>(o * 3 + o / 4)] = 1;  // CRD: channel c * 4 + k
    q.anchor[0].weight_scale[static_cast<std::size_t>(o)] = 1.0f;
    q.last.weight_scale[static_cast<std::size_t>(o)] = 0.5f;
    q.last.bias[static_cast<std::size_t>(o)] = 1;
  }
  U8Tensor x(3, 2, 128);
  for (std::size_t i = 0; i < x.data.size(); ++i) x.data[i] = static_cast<std::uint8_t>(i % 256);
  const U8Tensor y = quant::forward(q, x);
  U8Tensor expected = nearest_upscale(x, 2.0);
  for (auto& v : expected.data)
    v = static_cast<std::uint8_t>(v % 2 == 0 ? v : std::min(v + 1, 255));
  EXPECT_EQ(y.data, expected.data);
}

// A net built by hand where ReLU and ReLU1 differ: the first conv copies the image and adds 0.5
// (features x + 0.5 in [0.5, 1.5], encoded on [0, 2]), the last conv halves them into every
// sub-pixel. ReLU keeps 0.5 (x + 0.5); ReLU1 clips the features at 1 first. Each u8 output is
// within 1 LSB of the real value (feature step 2/255 halved, plus the output rounding).
TEST(IntegerForwardTest, ReluKeepsFeaturesAboveOne) {
  for (const Activation activation : {Activation::kReLU, Activation::kReLU1}) {
    QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
    config.features = 3;
    config.blocks = 0;
    config.activation = activation;
    QuickSRNet net = QuickSRNet::zeros(config);
    for (int c = 0; c < 3; ++c) {
      net.first.w(c, c, 1, 1) = 1.0f;
      net.first.bias[static_cast<std::size_t>(c)] = 0.5f;
    }
    for (int o = 0; o < 12; ++o) net.last.w(o, o / 4, 1, 1) = 0.5f;  // CRD: channel c * 4 + k
    ActivationEncodings encodings;
    encodings.features = {ActivationEncoding{2.0f / 255.0f, 0}};
    const QuantizedQuickSRNet q =
        quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
    const U8Tensor x = random_image(5, 7, 3);
    const U8Tensor y = quant::forward(q, x);
    const U8Tensor upscaled = nearest_upscale(x, 2.0);
    ASSERT_EQ(y.data.size(), upscaled.data.size());
    for (std::size_t i = 0; i < y.data.size(); ++i) {
      const double feature = upscaled.data[i] / 255.0 + 0.5;
      const double kept = activation == Activation::kReLU ? feature : std::min(feature, 1.0);
      ASSERT_NEAR(y.data[i], 255.0 * 0.5 * kept, 1.0)
          << activation_name(activation) << " input " << int{upscaled.data[i]};
    }
  }
}

TEST(IntegerForwardTest, RejectsBadInputAndBadNets) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  QuickSRNet net = QuickSRNet::zeros(config);
  const QuantizedQuickSRNet q =
      quant::quantize_weights(net, unit_encodings(config), WeightGranularity::kPerChannel);
  EXPECT_THROW(quant::forward(q, U8Tensor(1, 4, 4)), Error);
  EXPECT_THROW(quant::forward(q, U8Tensor(3, 0, 4)), Error);
  QuantizedQuickSRNet bad = q;
  bad.body[1].weight[5] = -128;
  EXPECT_THROW(quant::forward(bad, U8Tensor(3, 4, 4)), Error);
}

TEST(IntegerForwardTest, FloatEntryRoundsTheImageAndDequantizes) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  QuickSRNet net = QuickSRNet::zeros(config);
  add_identity_init(net);
  const QuantizedQuickSRNet q =
      quant::quantize_weights(net, unit_encodings(config), WeightGranularity::kPerChannel);
  Tensor rgb(3, 1, 3);
  rgb.data = {0.0f, 0.5f, 1.0f, 2.0f, -1.0f, 0.2f, 0.999f, 0.001f, 0.3f};
  const Tensor y = quant::forward(q, rgb);
  ASSERT_EQ(y.width, 6);
  for (int c = 0; c < 3; ++c) {
    for (int x = 0; x < 3; ++x) {
      const float v = std::clamp(rgb.at(c, 0, x), 0.0f, 1.0f);
      EXPECT_FLOAT_EQ(y.at(c, 1, 2 * x + 1), std::nearbyint(v * 255.0f) / 255.0f);
    }
  }
}

}  // namespace
}  // namespace quicksr
