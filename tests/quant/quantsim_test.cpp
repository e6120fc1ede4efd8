// Calibration encodings against hand-made statistics, cross-layer
// equalisation against its defining property (equal weight ranges) and bias correction against
// means computed here with the float reference runtime. (QuantSim against the integer reference
// runtime on real images: shipped_model_test.cpp.)
#include "quicksr/quantsim.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "quicksr/error.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

quant::Calibrator::Statistics statistics_of(const std::vector<float>& values) {
  Tensor t(1, 1, static_cast<int>(values.size()));
  t.data = values;
  quant::Calibrator::Statistics statistics;
  statistics.add(t);
  return statistics;
}

TEST(EncodingSchemeTest, TfIsTheRangeAndTfEnhancedClipsARareOutlier) {
  // 10000 values spread over [0, 0.1] and one at 1.0.
  std::vector<float> values;
  for (int i = 0; i < 10000; ++i) values.push_back(0.1f * static_cast<float>(i) / 9999.0f);
  values.push_back(1.0f);
  const auto statistics = statistics_of(values);
  const ActivationEncoding tf = quant::encoding_of(statistics, quant::EncodingScheme::kTf);
  EXPECT_FLOAT_EQ(tf.scale, 1.0f / 255.0f);
  EXPECT_EQ(tf.zero_point, 0);
  const ActivationEncoding enhanced =
      quant::encoding_of(statistics, quant::EncodingScheme::kTfEnhanced);
  // Keeping the outlier costs 10000 * (1/255)^2 / 12 = 0.0128 of rounding noise; clipping at 0.1
  // costs about 3 * 0.9^2 = 2.4 -- so the search keeps (almost all of) the outlier here...
  EXPECT_GT(enhanced.scale, 0.98f * tf.scale);
  EXPECT_LE(enhanced.scale, tf.scale);
  // ...but with 10^7 values in [0, 0.1] the rounding noise of the wide range dominates.
  auto many = statistics;
  for (double& count : many.histogram) count *= 1000.0;
  many.histogram.back() /= 1000.0;  // still one outlier
  const ActivationEncoding clipped = quant::encoding_of(many, quant::EncodingScheme::kTfEnhanced);
  EXPECT_LT(clipped.scale, 0.5f * tf.scale);
  EXPECT_GE(clipped.scale * 255.0f, 0.1f);
}

// ReLU outputs above 1 widen the histogram by doubling its range (bins merge in pairs), so a value
// v lands in bin floor(v / range * 2048); ReLU1 / clip values keep the range [0, 1).
TEST(CalibrationStatisticsTest, ReluValuesAboveOneDoubleTheRange) {
  const auto unit = statistics_of({0.25f, 1.0f});
  EXPECT_EQ(unit.range, 1.0f);
  EXPECT_EQ(unit.histogram[512], 1.0);
  EXPECT_EQ(unit.histogram[2047], 1.0);  // 1.0 itself goes to the last bin
  const auto wide = statistics_of({0.25f, 1.5f, 3.0f});
  EXPECT_EQ(wide.range, 4.0f);
  EXPECT_EQ(wide.max, 3.0f);
  EXPECT_EQ(wide.histogram[128], 1.0);   // 0.25 / 4 * 2048, counted at range 1 and merged twice
  EXPECT_EQ(wide.histogram[768], 1.0);   // 1.5 / 4 * 2048, counted at range 2, merged once
  EXPECT_EQ(wide.histogram[1536], 1.0);  // 3 / 4 * 2048
  double total = 0.0;
  for (double count : wide.histogram) total += count;
  EXPECT_EQ(total, 3.0);
  // tf-enhanced on values spread evenly over [0, 3]: nothing worth clipping, max stays near 3.
  std::vector<float> spread;
  for (int i = 0; i <= 3000; ++i) spread.push_back(static_cast<float>(i) / 1000.0f);
  const ActivationEncoding enhanced =
      quant::encoding_of(statistics_of(spread), quant::EncodingScheme::kTfEnhanced);
  EXPECT_GT(enhanced.scale * 255.0f, 2.9f);
  EXPECT_LE(enhanced.scale * 255.0f, 3.0f + 1e-5f);
}

TEST(EncodingSchemeTest, ParsesNames) {
  EXPECT_EQ(quant::parse_scheme("tf"), quant::EncodingScheme::kTf);
  EXPECT_EQ(quant::parse_scheme("tf-enhanced"), quant::EncodingScheme::kTfEnhanced);
  EXPECT_THROW(quant::parse_scheme("minmax"), Error);
}

QuickSRNet random_net(const QuickSRNetConfig& config, unsigned seed) {
  QuickSRNet net = QuickSRNet::initialized(config, seed);
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> gain(0.2f, 3.0f);
  // Uneven output channel ranges in `first`, so that equalisation has something to do.
  for (int o = 0; o < net.first.out_channels; ++o) {
    const float g = gain(engine);
    for (int i = 0; i < 27; ++i) net.first.weight[static_cast<std::size_t>(o * 27 + i)] *= g;
  }
  return net;
}

float max_abs_output(const Conv2d& conv, int o) {
  const std::size_t n = conv.weight.size() / static_cast<std::size_t>(conv.out_channels);
  float m = 0.0f;
  for (std::size_t k = 0; k < n; ++k) m = std::max(m, std::abs(conv.weight[o * n + k]));
  return m;
}

float max_abs_input(const Conv2d& conv, int i) {
  float m = 0.0f;
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int ky = 0; ky < conv.kernel_h; ++ky) {
      for (int kx = 0; kx < conv.kernel_w; ++kx) m = std::max(m, std::abs(conv.w(o, i, ky, kx)));
    }
  }
  return m;
}

// A ReLU net (the paper's ablation) through PTQ: the feature encodings come from calibration and
// reach above 1, and QuantSim still agrees with the integer runtime (whose ReLU clamp is the u8
// range) to <= 1 LSB on >= 99.9 % of the output values. Smooth synthetic images.
TEST(QuantSimTest, ReluNetAgreesWithTheIntegerRuntime) {
  QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  config.activation = Activation::kReLU;
  const QuickSRNet net = random_net(config, 7);
  std::mt19937 engine(11);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const auto image = [&] {
    Tensor x(3, 20, 24);
    const float fx = 0.1f + 0.5f * unit(engine), fy = 0.1f + 0.5f * unit(engine);
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < x.height; ++y) {
        for (int i = 0; i < x.width; ++i) {
          x.at(c, y, i) = 0.5f + 0.45f * std::sin(fx * i + c) * std::cos(fy * y);
        }
      }
    }
    return x;
  };
  std::vector<Tensor> calibration;
  for (int n = 0; n < 4; ++n) calibration.push_back(image());
  for (const auto granularity : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
    quant::PtqOptions options;
    options.granularity = granularity;
    const QuantizedQuickSRNet q = quant::post_training_quantize(net, calibration, options);
    ASSERT_EQ(q.config.activation, Activation::kReLU);
    float widest = 0.0f;
    for (const ActivationEncoding& e : q.features) widest = std::max(widest, e.scale * 255.0f);
    EXPECT_GT(widest, 1.5f) << "the gains of random_net push ReLU features well above 1";
    std::size_t pixels = 0, within_one = 0;
    for (int n = 0; n < 3; ++n) {
      const Tensor lr = image();
      const U8Tensor integer = quant::forward(q, quant::to_u8(lr));
      const Tensor simulated = quant::simulate(q, lr);
      ASSERT_EQ(simulated.data.size(), integer.data.size());
      for (std::size_t i = 0; i < integer.data.size(); ++i) {
        const long sim = std::lround(simulated.data[i] / q.output.scale) + q.output.zero_point;
        within_one += std::labs(sim - integer.data[i]) <= 1;
        ++pixels;
      }
    }
    EXPECT_GE(static_cast<double>(within_one), 0.999 * static_cast<double>(pixels));
  }
}

TEST(CrossLayerEqualizationTest, EqualisesTheRangesOfEachPair) {
  const QuickSRNet net = random_net(QuickSRNetConfig::small({2, 1}), 3);
  const QuickSRNet equalized = quant::equalize_cross_layer(net);
  const std::vector<std::pair<const Conv2d*, const Conv2d*>> pairs{
      {&equalized.first, &equalized.body[0]},
      {&equalized.body[0], &equalized.body[1]},
      {&equalized.body[1], &equalized.last}};
  for (const auto& [conv, next] : pairs) {
    for (int c = 0; c < conv->out_channels; ++c) {
      EXPECT_NEAR(max_abs_output(*conv, c), max_abs_input(*next, c),
                  1e-3f * max_abs_output(*conv, c));
    }
  }
  // The uneven gains of `first` are evened out: its output ranges spread less than before.
  const auto spread = [](const Conv2d& conv) {
    float lo = max_abs_output(conv, 0), hi = lo;
    for (int c = 1; c < conv.out_channels; ++c) {
      lo = std::min(lo, max_abs_output(conv, c));
      hi = std::max(hi, max_abs_output(conv, c));
    }
    return hi / lo;
  };
  EXPECT_LT(spread(equalized.first), spread(net.first));
}

// Two small random 8-bit images.
std::vector<Tensor> random_images() {
  std::mt19937 engine(9);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<Tensor> images;
  for (int n = 0; n < 2; ++n) {
    Tensor x(3, 12, 10);
    for (float& v : x.data) v = std::round(unit(engine) * 255.0f) / 255.0f;
    images.push_back(x);
  }
  return images;
}

// Layer 0 reads the image itself in both nets: a bias-corrected quantized conv has the float
// conv's per-channel mean, up to the s32 rounding of the bias.
void expect_first_layer_mean(const QuickSRNet& net, const QuantizedQuickSRNet& q,
                             const std::vector<Tensor>& images) {
  const Conv2d corrected = quant::dequantize_conv(q.first, q.input.scale);
  for (int c = 0; c < net.first.out_channels; ++c) {
    double float_mean = 0.0, quantized_mean = 0.0;
    for (const Tensor& image : images) {
      const Tensor a = reference::conv2d(image, net.first);
      const Tensor b = reference::conv2d(image, corrected);
      for (int i = 0; i < a.height * a.width; ++i) {
        float_mean += a.plane(c)[i];
        quantized_mean += b.plane(c)[i];
      }
    }
    EXPECT_NEAR(float_mean, quantized_mean, 1e-3 * 240) << "channel " << c;
  }
}

TEST(BiasCorrectionTest, FirstLayerMeanMatchesTheFloatNet) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  const QuickSRNet net = random_net(config, 5);
  const std::vector<Tensor> images = random_images();
  quant::PtqOptions options;
  options.granularity = WeightGranularity::kPerTensor;
  options.bias_correction = true;
  const QuantizedQuickSRNet q = quant::post_training_quantize(net, images, options);
  expect_first_layer_mean(net, q, images);
}

// correct_biases of a net whose rounding is chosen (here: round to nearest, per tensor) keeps every
// s8 weight and gives the first conv the float conv's per-channel mean.
TEST(BiasCorrectionTest, OfChosenWeightsKeepsThemAndMatchesTheFirstLayerMean) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  const QuickSRNet net = random_net(config, 5);
  const std::vector<Tensor> images = random_images();
  ActivationEncodings encodings;
  encodings.features.assign(config.blocks + 1, quant::encoding_from_range(0.0f, 1.0f));
  encodings.output = quant::encoding_from_range(0.0f, 1.0f);
  const QuantizedQuickSRNet rounded =
      quant::quantize_weights(net, encodings, WeightGranularity::kPerTensor);
  const QuantizedQuickSRNet q =
      quant::correct_biases(net, rounded, images, quant::EncodingScheme::kTf);
  EXPECT_EQ(q.first.weight, rounded.first.weight);
  EXPECT_EQ(q.first.weight_scale, rounded.first.weight_scale);
  for (std::size_t i = 0; i < q.body.size(); ++i)
    EXPECT_EQ(q.body[i].weight, rounded.body[i].weight);
  EXPECT_EQ(q.last.weight, rounded.last.weight);
  EXPECT_NE(q.first.bias, rounded.first.bias);
  expect_first_layer_mean(net, q, images);
}

}  // namespace
}  // namespace quicksr
