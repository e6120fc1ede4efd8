// Weight quantisation and the model checker against values computed by hand from
// docs/quantization.md ("Weights", "Bias", the int32 bound).
#include <gtest/gtest.h>

#include <limits>

#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr {
namespace {

// A 1x1 conv 1 -> 2 with the given weights and biases.
Conv2d pointwise(std::vector<float> weight, std::vector<float> bias) {
  Conv2d conv = Conv2d::zeros(1, 2, 1);
  conv.weight = std::move(weight);
  conv.bias = std::move(bias);
  return conv;
}

TEST(QuantizeConvTest, PerChannelScalesAndRounding) {
  // Channel 0: max|w| = 1.27 -> scale 0.01; channel 1: all zero -> scale 1.
  const Conv2d conv = pointwise({-1.27f, 0.0f}, {0.5f, 0.25f});
  const QConv2d q = quant::quantize_conv(conv, 0.1f, WeightGranularity::kPerChannel);
  ASSERT_EQ(q.weight_scale.size(), 2u);
  EXPECT_FLOAT_EQ(q.weight_scale[0], 0.01f);
  EXPECT_FLOAT_EQ(q.weight_scale[1], 1.0f);
  EXPECT_EQ(q.weight, (std::vector<std::int8_t>{-127, 0}));
  // bias / (input_scale * weight_scale): 0.5 / 0.001 = 500; 0.25 / 0.1 = 2.5 -> 2 (half to even).
  EXPECT_EQ(q.bias, (std::vector<std::int32_t>{500, 2}));
}

TEST(QuantizeConvTest, PerTensorSharesTheLargestScale) {
  const Conv2d conv = pointwise({0.254f, -0.005f}, {0.0f, 0.0f});
  const QConv2d q = quant::quantize_conv(conv, 1.0f / 255.0f, WeightGranularity::kPerTensor);
  ASSERT_EQ(q.weight_scale.size(), 1u);
  EXPECT_FLOAT_EQ(q.weight_scale[0], 0.002f);
  // 0.254 / 0.002 = 127; -0.005 / 0.002 = -2.5 -> -2.
  EXPECT_EQ(q.weight, (std::vector<std::int8_t>{127, -2}));
}

TEST(QuantizeConvTest, WeightsRoundHalfToEvenAndNeverReachMinus128) {
  EXPECT_EQ(quant::quantize_weight(1.5f, 1.0f), 2);
  EXPECT_EQ(quant::quantize_weight(2.5f, 1.0f), 2);
  EXPECT_EQ(quant::quantize_weight(-2.5f, 1.0f), -2);
  EXPECT_EQ(quant::quantize_weight(-1000.0f, 1.0f), -127);
  EXPECT_EQ(quant::quantize_weight(1000.0f, 1.0f), 127);
}

TEST(QuantizeConvTest, LargeBiasOnTinyWeightsStaysInsideTheInt32Bound) {
  // Weight 1e-9 would give scale 7.9e-12 and a bias of 0.5 / (1/255 * 7.9e-12) ~ 1.6e13: the
  // channel's scale is raised so the bias fits and the model passes the checker.
  const Conv2d conv = pointwise({1e-9f, 1.27f}, {0.5f, 0.5f});
  const QConv2d q = quant::quantize_conv(conv, 1.0f / 255.0f, WeightGranularity::kPerChannel);
  const double real_bias = static_cast<double>(q.bias[0]) * (1.0 / 255.0) * q.weight_scale[0];
  EXPECT_NEAR(real_bias, 0.5, 1e-6);
  EXPECT_LT(std::abs(static_cast<std::int64_t>(q.bias[0])) + 255 * 127,
            std::numeric_limits<std::int32_t>::max());
  EXPECT_FLOAT_EQ(q.weight_scale[1], 0.01f);  // a normal channel keeps max|w| / 127
  EXPECT_EQ(q.bias[1], 12750);                // 0.5 / (1/255 * 0.01)
}

TEST(DequantizeConvTest, InvertsQuantizeOnTheGrid) {
  const Conv2d conv = pointwise({-1.27f, 0.37f}, {0.5f, -0.2f});
  const QConv2d q = quant::quantize_conv(conv, 0.1f, WeightGranularity::kPerChannel);
  const Conv2d d = quant::dequantize_conv(q, 0.1f);
  EXPECT_FLOAT_EQ(d.weight[0], -1.27f);
  EXPECT_FLOAT_EQ(d.weight[1], 0.37f);  // its own channel's scale: exact
  EXPECT_NEAR(d.bias[0], 0.5f, 1e-6f);
  EXPECT_NEAR(d.bias[1], -0.2f, 0.37f / 127 * 0.1f);
}

TEST(QuantizeConvTest, TransposedConvScalesEachOutputChannelOfItsIohwWeights) {
  // 1x1 transposed conv 2 -> 2, weights IOHW [in][out]: output 0 owns w[0][0] = 0.5 and
  // w[1][0] = 1.27 (scale 0.01), output 1 owns w[0][1] = -2.54 and w[1][1] = 0.1 (scale 0.02).
  Conv2d conv = Conv2d::zeros(2, 2, 1);
  conv.transposed = true;
  conv.weight = {0.5f, -2.54f, 1.27f, 0.1f};
  conv.bias = {0.0f, 0.0f};
  const QConv2d q = quant::quantize_conv(conv, 1.0f, WeightGranularity::kPerChannel);
  ASSERT_EQ(q.weight_scale.size(), 2u);
  EXPECT_FLOAT_EQ(q.weight_scale[0], 0.01f);
  EXPECT_FLOAT_EQ(q.weight_scale[1], 0.02f);
  EXPECT_TRUE(q.transposed);
  EXPECT_EQ(q.weight, (std::vector<std::int8_t>{50, -127, 127, 5}));
  const Conv2d d = quant::dequantize_conv(q, 1.0f);
  EXPECT_TRUE(d.transposed);
  EXPECT_FLOAT_EQ(d.weight[1], -2.54f);
  EXPECT_FLOAT_EQ(d.weight[3], 0.1f);
}

QuantizedQuickSRNet small_net() {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  QuickSRNet net = QuickSRNet::zeros(config);
  add_identity_init(net);
  const ActivationEncodings encodings{{}, std::vector<ActivationEncoding>(3), {}};
  return quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
}

TEST(CheckTest, AcceptsAQuantizedNetAndRejectsEachBrokenPart) {
  const QuantizedQuickSRNet good = small_net();
  EXPECT_NO_THROW(good.check());
  const auto expect_rejected = [](QuantizedQuickSRNet net, const char* what) {
    EXPECT_THROW(net.check(), Error) << what;
  };
  QuantizedQuickSRNet bad = good;
  bad.first.weight[0] = -128;
  expect_rejected(bad, "weight -128");
  bad = good;
  bad.body[0].bias[3] = std::numeric_limits<std::int32_t>::max() - 32 * 9 * 255 * 127 + 1;
  expect_rejected(bad, "bias past the int32 bound");
  bad = good;
  bad.body[0].bias[3] = std::numeric_limits<std::int32_t>::max() - 32 * 9 * 255 * 127;
  EXPECT_NO_THROW(bad.check()) << "bias exactly at the int32 bound";
  bad = good;
  bad.features.pop_back();
  expect_rejected(bad, "feature encodings");
  bad = good;
  bad.input.scale = 0.5f;
  expect_rejected(bad, "input encoding");
  bad = good;
  bad.output.zero_point = 256;
  expect_rejected(bad, "zero point");
  bad = good;
  bad.features[1].scale = 0.0f;
  expect_rejected(bad, "zero scale");
  bad = good;
  bad.last.weight_scale = {0.5f};
  expect_rejected(bad, "mixed granularity");
  bad = good;
  bad.last.weight_scale.pop_back();
  expect_rejected(bad, "weight scale count");
  bad = good;
  bad.body[1].weight.pop_back();
  expect_rejected(bad, "weight count");
  bad = good;
  bad.body[1].kernel_h = 1;
  expect_rejected(bad, "geometry");
  bad = good;
  bad.first.weight_scale[2] = std::numeric_limits<float>::infinity();
  expect_rejected(bad, "infinite weight scale");
}

}  // namespace
}  // namespace quicksr
