// The encoding search (quant::search_encodings) against losses whose minimum is known by
// construction, and on a small net against the integer runtime's output error computed here.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "quant/int8_error.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quantsim.hpp"

namespace quicksr {
namespace {

using test_support::int8_error;
using test_support::s8_weights;

float range_max(const ActivationEncoding& encoding) { return encoding.scale * 255.0f; }

// An identity-initialised Small x2 with every activation encoding [0, max_0] for feature 0 and
// [0, 1] for the others and the output.
QuantizedQuickSRNet small_int8(float max_0) {
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small({2, 1}), 3);
  ActivationEncodings encodings;
  encodings.features.assign(net.body.size() + 1, quant::encoding_from_range(0.0f, 1.0f));
  encodings.features[0] = quant::encoding_from_range(0.0f, max_0);
  encodings.output = quant::encoding_from_range(0.0f, 1.0f);
  return quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
}

// Squared distance of each range's upper end from a target: the minimum is known.
double distance_to(const QuantizedQuickSRNet& net, const std::vector<float>& feature_targets,
                   float output_target) {
  double sum = 0.0;
  for (std::size_t i = 0; i < net.features.size(); ++i) {
    sum += std::pow(range_max(net.features[i]) - feature_targets[i], 2.0);
  }
  return sum + std::pow(range_max(net.output) - output_target, 2.0);
}

TEST(EncodingSearchTest, DescendsToAKnownMinimumWithinOneStepAndStopsAtTheReluOneCap) {
  const QuantizedQuickSRNet start = small_int8(1.0f);
  const std::vector<float> targets{0.9f, 1.3f, 1.0f};  // 1.3: beyond what ReLU1 reaches
  quant::EncodingSearchOptions options;
  options.step = 0.01;
  options.max_sweeps = 20;
  int sweeps = 0;
  const QuantizedQuickSRNet found = quant::search_encodings(
      start, [&](const QuantizedQuickSRNet& net) { return distance_to(net, targets, 0.95f); },
      options, [&](int sweep, double) { sweeps = sweep; });
  EXPECT_NEAR(range_max(found.features[0]), 0.9f, 0.01f * 0.9f);
  EXPECT_FLOAT_EQ(range_max(found.features[1]), 1.0f);
  EXPECT_FLOAT_EQ(range_max(found.features[2]), 1.0f);
  EXPECT_NEAR(range_max(found.output), 0.95f, 0.01f * 0.95f);
  EXPECT_LT(sweeps, options.max_sweeps);  // it stopped because nothing moved
  for (const ActivationEncoding& encoding : found.features) EXPECT_EQ(encoding.zero_point, 0);
  EXPECT_EQ(s8_weights(found), s8_weights(start));
}

TEST(EncodingSearchTest, KeepsTheRealBiasesWithinHalfAStepOfTheNewInputScale) {
  const QuantizedQuickSRNet start = small_int8(1.0f);
  ActivationEncodings encodings = quant::encodings_of(start);
  encodings.features[0] = quant::encoding_from_range(0.0f, 0.8f);
  const QuantizedQuickSRNet moved =
      quant::with_encodings(quant::dequantize_weights(start), start, encodings);
  EXPECT_EQ(moved.features[0], encodings.features[0]);
  EXPECT_EQ(moved.body[0].weight, start.body[0].weight);
  // body.0 reads feature 0: its bias in units of 0.8 / 255 * weight_scale now.
  for (std::size_t o = 0; o < start.body[0].bias.size(); ++o) {
    const double weight_scale = start.body[0].weight_scale[o];
    const double real = start.body[0].bias[o] * double{start.features[0].scale} * weight_scale;
    const double unit = static_cast<double>(encodings.features[0].scale) * weight_scale;
    EXPECT_LE(std::abs(moved.body[0].bias[o] * unit - real), 0.5 * unit + 1e-12) << o;
  }
}

// A smooth 8-bit image whose values reach 1, so that an encoding [0, 0.5] clips.
Tensor bright_image() {
  Tensor x(3, 8, 10);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < x.height; ++y) {
      for (int i = 0; i < x.width; ++i) {
        const double v = 0.5 + 0.5 * std::sin(0.5 * i + 0.4 * y + c);
        x.at(c, y, i) = static_cast<float>(std::round(v * 255.0) / 255.0);
      }
    }
  }
  return x;
}

TEST(EncodingSearchTest, WidensAClippingRangeAndLowersTheIntegerRuntimeError) {
  const QuantizedQuickSRNet start = small_int8(0.5f);
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small({2, 1}), 3);
  const std::vector<Tensor> images{bright_image()};
  quant::EncodingSearchOptions options;  // feature 0: 0.5 -> 0.75 -> 0.9375 at best
  options.step = 0.25;
  options.steps = 2;
  options.max_sweeps = 2;
  const auto error = [&](const QuantizedQuickSRNet& q) { return int8_error(q, net, images); };
  const QuantizedQuickSRNet found = quant::search_encodings(start, error, options);
  EXPECT_GT(range_max(found.features[0]), 0.8f);
  // The identity channels copy the image through feature 0, so clipping at 0.5 dominates.
  EXPECT_LT(error(found), 0.25 * error(start));
}

TEST(EncodingSearchTest, RefusesANonPositiveStep) {
  quant::EncodingSearchOptions options;
  options.step = 0.0;
  EXPECT_THROW(quant::search_encodings(
                   small_int8(1.0f), [](const QuantizedQuickSRNet&) { return 0.0; }, options),
               Error);
}

}  // namespace
}  // namespace quicksr
