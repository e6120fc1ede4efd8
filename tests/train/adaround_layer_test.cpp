// AdaRound's rules one by one against the paper (Nagel et al., ICML 2020), and its optimisation on
// tiny 1x1 convs against an exhaustive search over every floor/ceil rounding (plain loops).
#include "train/adaround_layer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "quicksr/quant.hpp"
#include "train/fake_quant.hpp"
#include "train/torch_net.hpp"

namespace quicksr::train {
namespace {

constexpr float kInputScale = 1.0f / 255;

TEST(AdaRoundRules, RectifiedSigmoidHasThePapersStretchAndClamp) {
  // h = sigmoid(V) * 1.2 - 0.1: h(0) = 0.5; sigmoid = 1/12 and 11/12 give exactly 0 and 1.
  const torch::Tensor v = torch::tensor({0.0, -std::log(11.0), std::log(11.0), -8.0, 8.0});
  const torch::Tensor h = rectified_sigmoid(v);
  const std::vector<double> expected{0.5, 0.0, 1.0, 0.0, 1.0};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(h[i].item<double>(), expected[i], 1e-6) << i;
  const torch::Tensor fractions = torch::tensor({0.01, 0.25, 0.5, 0.8, 0.99});
  EXPECT_TRUE(
      torch::allclose(rectified_sigmoid(rectified_sigmoid_inverse(fractions)), fractions, 0, 1e-6));
}

TEST(AdaRoundRules, RegulariserIsZeroOnlyAtZeroOrOne) {
  // 1 - |2h - 1|^2 for h = 0, 1, 0.5, 0.75: 0 + 0 + 1 + 0.75.
  EXPECT_NEAR(rounding_regulariser(torch::tensor({0.0, 1.0, 0.5, 0.75}), 2).item<double>(), 1.75,
              1e-6);
  // beta 20 leaves h = 0.75 almost free: 1 - 0.5^20.
  EXPECT_NEAR(rounding_regulariser(torch::tensor({0.75}), 20).item<double>(), 1 - std::pow(0.5, 20),
              1e-6);
}

TEST(AdaRoundRules, BetaIsAnnealedFrom20To2AfterAWarmStartOfAFifth) {
  AdaRoundOptions options;
  options.iterations = 1000;
  EXPECT_FALSE(rounding_beta(options, 0).has_value());
  EXPECT_FALSE(rounding_beta(options, 199).has_value());
  EXPECT_DOUBLE_EQ(*rounding_beta(options, 200), 20);
  EXPECT_NEAR(*rounding_beta(options, 599), 11.0 + 9.0 / 799, 1e-9);
  EXPECT_DOUBLE_EQ(*rounding_beta(options, 999), 2);
  // lr 1e-3 at the paper's 10 000 steps, the same travel of V over fewer.
  options.iterations = 10000;
  EXPECT_DOUBLE_EQ(rounding_lr(options), 1e-3);
  options.iterations = 1000;
  EXPECT_DOUBLE_EQ(rounding_lr(options), 1e-2);
  options.lr = 5e-4;
  EXPECT_DOUBLE_EQ(rounding_lr(options), 5e-4);
}

// A 1x1 conv with one output channel, per-tensor scale `scale`, rounded to nearest.
struct TinyLayer {
  Conv2d fp32;
  QConv2d rounded;
};

TinyLayer tiny_layer(const std::vector<float>& levels, float scale, float bias) {
  TinyLayer layer;
  layer.fp32 = Conv2d::zeros(static_cast<int>(levels.size()), 1, 1);
  for (std::size_t i = 0; i < levels.size(); ++i) layer.fp32.weight[i] = levels[i] * scale;
  layer.fp32.bias = {bias};
  layer.rounded = quant::quantize_conv(layer.fp32, kInputScale, std::vector<float>{scale});
  return layer;
}

TEST(AdaRoundRules, SoftWeightsStartAtTheUnroundedWeights) {
  TinyLayer layer = tiny_layer({10.4f, -3.25f, 0.9f, 127.0f}, 0.02f, 0.1f);
  RoundedConv rounded(layer.fp32, layer.rounded, kInputScale, AdaRoundOptions{});
  const torch::Tensor expected = conv_weight(layer.fp32);
  EXPECT_TRUE(torch::allclose(rounded.weight(), expected, 0, 1e-6)) << rounded.weight() << expected;
  // Hard: floor + (h >= 0.5), i.e. round to nearest at the start; the weight at 127 pinned.
  EXPECT_TRUE(
      torch::equal(rounded.hard_levels().flatten(), torch::tensor({10.0f, -3.0f, 1.0f, 127.0f})));
  EXPECT_TRUE(rounded.pinned.flatten()[3].item<bool>());
}

// Inputs on the u8 grid: N samples of `channels` values, each a shared signal plus its own noise
// (correlated channels make the best rounding differ from the nearest).
torch::Tensor correlated_inputs(int samples, int channels, double noise, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  torch::Tensor x = torch::empty({samples, channels, 1, 1});
  for (int n = 0; n < samples; ++n) {
    const double shared = uniform(random);
    for (int c = 0; c < channels; ++c) {
      const double value = std::clamp(shared + noise * (uniform(random) - 0.5), 0.0, 1.0);
      x[n][c][0][0] = static_cast<float>(std::round(value * 255) / 255);
    }
  }
  return x;
}

// Mean squared error of clamp(sum_i q_i * scale * x_i + b, 0, 1) against the fp32 layer's output,
// in plain loops (the independent reference).
double plain_error(const TinyLayer& layer, const std::vector<int>& levels, const torch::Tensor& x) {
  const float scale = layer.rounded.weight_scale[0];
  const double bias =
      static_cast<double>(layer.rounded.bias[0]) * static_cast<double>(kInputScale) * scale;
  const torch::Tensor flat = x.contiguous();
  const float* values = flat.data_ptr<float>();
  double sum = 0;
  for (std::int64_t n = 0; n < x.size(0); ++n) {
    double exact = layer.fp32.bias[0], quantized = bias;
    for (std::size_t i = 0; i < levels.size(); ++i) {
      const double value = values[static_cast<std::size_t>(n) * levels.size() + i];
      exact += layer.fp32.weight[i] * value;
      quantized += levels[i] * static_cast<double>(scale) * value;
    }
    sum += std::pow(std::clamp(quantized, 0.0, 1.0) - std::clamp(exact, 0.0, 1.0), 2);
  }
  return sum / static_cast<double>(x.size(0));
}

// The best floor/ceil rounding by trying all 2^n.
std::vector<int> exhaustive_best(const TinyLayer& layer, const torch::Tensor& x) {
  const int n = layer.fp32.in_channels;
  std::vector<int> best;
  double best_error = std::numeric_limits<double>::infinity();
  for (int mask = 0; mask < (1 << n); ++mask) {
    std::vector<int> levels(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      levels[static_cast<std::size_t>(i)] =
          static_cast<int>(std::floor(layer.fp32.weight[static_cast<std::size_t>(i)] /
                                      layer.rounded.weight_scale[0])) +
          ((mask >> i) & 1);
    }
    const double error = plain_error(layer, levels, x);
    if (error < best_error) best_error = error, best = levels;
  }
  return best;
}

std::vector<int> nearest(const TinyLayer& layer) {
  return {layer.rounded.weight.begin(), layer.rounded.weight.end()};
}

// AdaRound of the tiny layer on all of x; the chosen levels.
std::vector<int> adaround_tiny(TinyLayer& layer, const torch::Tensor& x,
                               const AdaRoundOptions& options, RoundingReport* report = nullptr) {
  const torch::Tensor target =
      relu1(conv(x, conv_weight(layer.fp32), conv_bias(layer.fp32), layer.fp32));
  RoundedConv rounded(layer.fp32, layer.rounded, kInputScale, options);
  const RoundingReport result = optimise_rounding(
      {&rounded}, x.size(0), options, 1,
      [&](const torch::Tensor& index) {
        return std::pair{
            relu1(conv(x.index_select(0, index), rounded.weight(), rounded.bias, *rounded.shape)),
            target.index_select(0, index)};
      },
      {});
  if (report) *report = result;
  return {layer.rounded.weight.begin(), layer.rounded.weight.end()};
}

AdaRoundOptions tiny_options() {
  AdaRoundOptions options;
  options.iterations = 1000;
  options.batch = 32;
  return options;
}

// Two identical inputs with weights of 10.35 and 10.45 steps: nearest rounds both down (output
// 0.8 steps low on every sample), rounding one of them up leaves 0.2 steps: provably better.
TEST(AdaRoundLayer, RoundsOneOfTwoCorrelatedWeightsUp) {
  const torch::Tensor x = correlated_inputs(256, 2, 0.1, 3);
  for (const bool warm : {false, true}) {
    SCOPED_TRACE(warm ? "warm start from nearest" : "from the fractional part");
    TinyLayer layer = tiny_layer({10.35f, 10.45f}, 0.02f, 0.1f);
    AdaRoundOptions options = tiny_options();
    options.start_from_rounded = warm;
    ASSERT_EQ(nearest(layer), (std::vector<int>{10, 10}));
    RoundingReport report;
    const std::vector<int> levels = adaround_tiny(layer, x, options, &report);
    EXPECT_EQ(levels[0] + levels[1], 21) << levels[0] << " " << levels[1];
    EXPECT_LT(plain_error(layer, levels, x), 0.1 * plain_error(layer, {10, 10}, x));
    EXPECT_EQ(report.undecided, 0);
    EXPECT_FALSE(report.kept_start);
  }
}

// Eight correlated inputs, fractional parts spread over (0, 1), a bias that makes some outputs
// clip. AdaRound (from the fractional parts, as the paper) is a heuristic, not an exact search:
// measured at 1000 steps, three of the four trials land within 6 % of the best of the 256
// roundings and the fourth at 4.3x it (3.3x below nearest; 3000 steps find its optimum too).
// Checked: every h decided, at least 3x below nearest wherever nearest is not the optimum, and
// three trials within 10 % of the optimum.
TEST(AdaRoundLayer, GetsCloseToTheExhaustiveOptimumOfATinyLayer) {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<float> uniform(-20, 20);
  int near_optimum = 0;
  for (int trial = 0; trial < 4; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::vector<float> levels(8);
    for (float& level : levels) level = uniform(random);
    TinyLayer layer = tiny_layer(levels, 0.01f, 0.3f);
    const torch::Tensor x = correlated_inputs(512, 8, 0.3, 10 + static_cast<std::uint64_t>(trial));
    const double nearest_error = plain_error(layer, nearest(layer), x);
    const double best_error = plain_error(layer, exhaustive_best(layer, x), x);
    RoundingReport report;
    const std::vector<int> chosen = adaround_tiny(layer, x, tiny_options(), &report);
    const double error = plain_error(layer, chosen, x);
    EXPECT_EQ(report.undecided, 0);
    EXPECT_LE(error, nearest_error == best_error ? nearest_error : nearest_error / 3)
        << "best " << best_error;
    near_optimum += error <= 1.1 * best_error;
  }
  EXPECT_GE(near_optimum, 3);
}

}  // namespace
}  // namespace quicksr::train
