// The LibTorch network against the reference runtime (an independent implementation of the same
// architecture) on the same weights.
#include "train/torch_net.hpp"

#include <gtest/gtest.h>

#include <random>

#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/reference.hpp"
#include "support/data_paths.hpp"
#include "train/fake_quant.hpp"

namespace quicksr::train {
namespace {

Tensor random_image(int height, int width, std::uint64_t seed) {
  Tensor image(3, height, width);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& v : image.data) v = uniform(rng);
  return image;
}

// Trained-looking weights: the identity init plus noise large enough to leave the identity.
QuickSRNet perturbed(const QuickSRNetConfig& config) {
  QuickSRNet net = QuickSRNet::initialized(config, 7);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  auto perturb = [&](Conv2d& conv) {
    for (float& w : conv.weight) w += noise(rng);
    for (float& b : conv.bias) b += noise(rng);
  };
  perturb(net.first);
  for (Conv2d& conv : net.body) perturb(conv);
  perturb(net.last);
  for (Conv2d& conv : net.anchor) perturb(conv);
  return net;
}

Tensor torch_forward(TorchQuickSRNet& net, const Tensor& input) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::from_blob(const_cast<float*>(input.data.data()),
                                           {1, input.channels, input.height, input.width});
  const torch::Tensor y = net->forward(x).contiguous();
  Tensor out(static_cast<int>(y.size(1)), static_cast<int>(y.size(2)), static_cast<int>(y.size(3)));
  std::copy(y.data_ptr<float>(), y.data_ptr<float>() + y.numel(), out.data.begin());
  return out;
}

void expect_same_output(const QuickSRNetConfig& config) {
  const QuickSRNet net = perturbed(config);
  TorchQuickSRNet torch_net(net);
  const Tensor input = random_image(12, 10, 5);
  const Tensor expected = reference::forward(net, input);
  const Tensor actual = torch_forward(torch_net, input);
  ASSERT_EQ(actual.channels, expected.channels);
  ASSERT_EQ(actual.height, expected.height);
  ASSERT_EQ(actual.width, expected.width);
  for (std::size_t i = 0; i < expected.data.size(); ++i) {
    ASSERT_NEAR(actual.data[i], expected.data[i], 1e-5f) << config.name() << " at " << i;
  }
}

TEST(TorchQuickSRNet, MatchesReferenceRuntimeSmallX2) {
  expect_same_output(QuickSRNetConfig::small(Scale{2, 1}));
}

TEST(TorchQuickSRNet, MatchesReferenceRuntimeMediumX3) {
  expect_same_output(QuickSRNetConfig::medium(Scale{3, 1}));
}

TEST(TorchQuickSRNet, MatchesReferenceRuntimeSmallX1_5) {
  expect_same_output(QuickSRNetConfig::small(Scale{3, 2}));
}

TEST(TorchQuickSRNet, MatchesReferenceRuntimeLargeWithAnchor) {
  QuickSRNetConfig config = QuickSRNetConfig::large(Scale{4, 1});
  config.blocks = 2;  // the anchor path matters here, not the depth
  expect_same_output(config);
  QuickSRNetConfig fractional = QuickSRNetConfig::large(Scale{3, 2});
  fractional.blocks = 1;
  expect_same_output(fractional);
}

// ReLU: the first conv's weights are doubled so that many features exceed 1 (where ReLU and ReLU1
// differ); the reference runtime with ReLU1 on the same weights must then disagree.
TEST(TorchQuickSRNet, MatchesReferenceRuntimeWithRelu) {
  for (Scale scale : {Scale{2, 1}, Scale{3, 2}}) {
    QuickSRNetConfig config = QuickSRNetConfig::small(scale);
    config.activation = Activation::kReLU;
    QuickSRNet net = perturbed(config);
    for (float& w : net.first.weight) w *= 2.0f;
    TorchQuickSRNet torch_net(net);
    const Tensor input = random_image(12, 10, 5);
    const Tensor expected = reference::forward(net, input);
    const Tensor actual = torch_forward(torch_net, input);
    ASSERT_EQ(actual.data.size(), expected.data.size());
    QuickSRNet relu1 = net;
    relu1.config.activation = Activation::kReLU1;
    const Tensor clipped = reference::forward(relu1, input);
    float worst = 0.0f, relu1_difference = 0.0f;
    for (std::size_t i = 0; i < expected.data.size(); ++i) {
      worst = std::max(worst, std::abs(actual.data[i] - expected.data[i]));
      relu1_difference = std::max(relu1_difference, std::abs(clipped.data[i] - expected.data[i]));
    }
    EXPECT_LE(worst, 1e-5f) << config.name();
    EXPECT_GT(relu1_difference, 0.05f) << config.name();
  }
}

// --init default against PyTorch itself: a torch::nn::Conv2d with PyTorch's default init has the
// same weight statistics (bound 1 / sqrt(fan_in), variance bound^2 / 3) as QuickSRNet's body
// convs without the identity terms; with them, the centre diagonal sits near 1, far outside.
TEST(TorchQuickSRNet, DefaultInitHasPyTorchsDefaultInitStatistics) {
  torch::manual_seed(3);
  const torch::nn::Conv2d pytorch(torch::nn::Conv2dOptions(32, 32, 3));
  const torch::Tensor reference = pytorch->weight.detach().flatten();
  const double reference_max = reference.abs().max().item<double>();
  const double reference_var = reference.var().item<double>();
  const QuickSRNetConfig config = QuickSRNetConfig::small(Scale{2, 1});
  const auto statistics = [](const Conv2d& conv) {
    const torch::Tensor w = to_tensor(conv.weight, {static_cast<std::int64_t>(conv.weight.size())});
    return std::pair{w.abs().max().item<double>(), w.var().item<double>()};
  };
  const QuickSRNet without =
      QuickSRNet::initialized(config, 1, QuickSRNet::Initialization::kDefault);
  for (const Conv2d& conv : without.body) {
    const auto [max, var] = statistics(conv);
    EXPECT_LE(max, reference_max * 1.01);
    EXPECT_GE(max, reference_max * 0.95);
    EXPECT_NEAR(var, reference_var, 0.05 * reference_var);
  }
  const QuickSRNet with_identity = QuickSRNet::initialized(config, 1);
  EXPECT_GT(statistics(with_identity.body[0]).first, 0.9);  // centre diagonal 1 + U(-b, b)
}

TEST(TorchQuickSRNet, ExportsTheWeightsItWasGiven) {
  const QuickSRNet net = perturbed(QuickSRNetConfig::small(Scale{4, 1}));
  TorchQuickSRNet torch_net(net);
  const QuickSRNet exported = torch_net->to_quicksrnet();
  EXPECT_EQ(exported.config, net.config);
  EXPECT_EQ(exported.first.weight, net.first.weight);
  EXPECT_EQ(exported.first.bias, net.first.bias);
  ASSERT_EQ(exported.body.size(), net.body.size());
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    EXPECT_EQ(exported.body[i].weight, net.body[i].weight);
  }
  EXPECT_EQ(exported.last.weight, net.last.weight);
  EXPECT_EQ(exported.last.bias, net.last.bias);
}

// QAT's fake-quantized forward against the INT8 model it stands for (quantize_weights of the same
// weights and encodings, run by the integer reference runtime), on the shipped Small x2's weights:
// the float biases of the fake quantization and rounding ties allow 1 LSB of the output encoding
// on nearly every value (measured: all but 3-4 of 2688).
void expect_within_one_lsb_mostly(const Tensor& fake, const Tensor& integer,
                                  const ActivationEncoding& output) {
  ASSERT_EQ(fake.data.size(), integer.data.size());
  std::size_t within_one = 0;
  for (std::size_t i = 0; i < fake.data.size(); ++i) {
    within_one += std::abs(fake.data[i] - integer.data[i]) <= output.scale * 1.001f;
  }
  std::printf("%zu of %zu output values within 1 LSB\n", within_one, fake.data.size());
  EXPECT_GE(static_cast<double>(within_one), 0.99 * static_cast<double>(fake.data.size()));
}

void expect_fake_quantization_matches_integer_runtime(WeightGranularity granularity) {
  const QuickSRNet net = std::get<QuickSRNet>(load_model(test_support::kSmallX2).net);
  TorchQuickSRNet torch_net(net);
  const Tensor input = random_image(16, 14, 9);  // both sides round it to 8 bits
  const ActivationEncodings encodings = torch_net->calibrate_encodings(
      torch::from_blob(const_cast<float*>(input.data.data()), {1, 3, input.height, input.width}));
  torch_net->enable_fake_quantization(encodings, granularity);
  const Tensor fake = torch_forward(torch_net, input);
  const QuantizedQuickSRNet q = quant::quantize_weights(net, encodings, granularity);
  expect_within_one_lsb_mostly(fake, quant::forward(q, input), q.output);
}

void expect_same_conv(const QConv2d& actual, const QConv2d& expected, const std::string& name) {
  EXPECT_EQ(actual.weight, expected.weight) << name;
  EXPECT_EQ(actual.weight_scale, expected.weight_scale) << name;
  EXPECT_EQ(actual.bias, expected.bias) << name;
}

// QAT started from an INT8 model (the shipped Small x2 INT8, optimised rounding) stands for that
// model before any step: its export is the file bit for bit (s8 weights, scales, s32 biases,
// encodings), and its fake-quantized forward is within 1 LSB of the integer runtime's output.
TEST(TorchQuickSRNet, StartedFromAnInt8ModelItIsThatModel) {
  const QuantizedQuickSRNet q =
      std::get<QuantizedQuickSRNet>(load_model(test_support::kSmallX2Int8).net);
  TorchQuickSRNet torch_net(q);
  ASSERT_TRUE(torch_net->starts_from_int8());
  const QuantizedQuickSRNet exported = torch_net->to_quantized(WeightGranularity::kPerTensor);
  EXPECT_EQ(exported.config, q.config);
  EXPECT_EQ(quant::encodings_of(exported), quant::encodings_of(q));
  expect_same_conv(exported.first, q.first, "first");
  ASSERT_EQ(exported.body.size(), q.body.size());
  for (std::size_t i = 0; i < q.body.size(); ++i) {
    expect_same_conv(exported.body[i], q.body[i], "body " + std::to_string(i));
  }
  expect_same_conv(exported.last, q.last, "last");

  const Tensor input = random_image(16, 14, 9);
  expect_within_one_lsb_mostly(torch_forward(torch_net, input), quant::forward(q, input), q.output);
}

// LSQ's gradient, computed by hand for scale 0.02 (range top 0.02 * 245 = 4.9), zero point 10
// (range [-0.2, 4.9]) and the loss sum(w * y): x = 0.013 and 0.031 are inside (x/s = 0.65 and
// 1.55 round to 1 and 2: round(x/s) - x/s = 0.35 and 0.45), -0.5 below (0 - 10), 6 above
// (255 - 10). d loss / d scale = 1 * 0.35 + 2 * -10 + 3 * 245 - 1 * 0.45 = 714.9, and the range
// top's is that / 245.
TEST(FakeQuantizeLearned, GradientIsLsqs) {
  const torch::Tensor x = torch::tensor({0.013f, -0.5f, 6.0f, 0.031f}).requires_grad_();
  const torch::Tensor range_top = torch::tensor({0.02f * 245}).requires_grad_();
  const torch::Tensor w = torch::tensor({1.0f, 2.0f, 3.0f, -1.0f});
  const torch::Tensor y = fake_quantize_learned(x, range_top, 10);
  (y * w).sum().backward();
  const std::vector<float> expected_y = {0.02f, -0.2f, 4.9f, 0.04f};
  const std::vector<float> expected_dx = {1, 0, 0, -1};  // straight through inside, 0 outside
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(y[i].item<float>(), expected_y[i], 1e-6) << i;
    EXPECT_EQ(x.grad()[i].item<float>(), expected_dx[i]) << i;
  }
  EXPECT_NEAR(range_top.grad().item<float>(), 714.9 / 245, 1e-4);
}

// Learned ranges (here moved by hand to where training might take them, the output's beyond
// ReLU1's 1 and clamped back) are what the exported INT8 model uses: its encodings are the
// ranges' scales, and the integer runtime reproduces the fake-quantized forward within 1 LSB.
TEST(TorchQuickSRNet, LearnedRangesAreTheExportedEncodings) {
  const QuantizedQuickSRNet q =
      std::get<QuantizedQuickSRNet>(load_model(test_support::kSmallX2Int8).net);
  TorchQuickSRNet torch_net(q);
  const torch::Tensor ranges = torch_net->learn_activation_ranges();
  ASSERT_EQ(ranges.size(0), static_cast<std::int64_t>(q.features.size()) + 1);
  EXPECT_FLOAT_EQ(ranges[0].item<float>(), q.features[0].scale * (255 - q.features[0].zero_point));
  {
    torch::NoGradGuard no_grad;
    ranges.mul_(torch::linspace(0.9, 1.1, ranges.size(0)));  // the output's: beyond 1
  }
  torch_net->clamp_activation_ranges();
  EXPECT_FLOAT_EQ(ranges[-1].item<float>(), 1.0f);
  const QuantizedQuickSRNet exported = torch_net->to_quantized(WeightGranularity::kPerTensor);
  EXPECT_FLOAT_EQ(exported.output.scale, 1.0f / 255);
  EXPECT_NEAR(exported.features[0].scale, q.features[0].scale * 0.9f, 1e-9);
  for (std::size_t i = 0; i < exported.features.size(); ++i) {
    EXPECT_EQ(exported.features[i].zero_point, q.features[i].zero_point);
    EXPECT_FLOAT_EQ(exported.features[i].scale * (255 - exported.features[i].zero_point),
                    ranges[static_cast<std::int64_t>(i)].item<float>());
  }
  EXPECT_EQ(exported.first.weight_scale, q.first.weight_scale);  // the INT8 start's grid
  const Tensor input = random_image(16, 14, 9);
  expect_within_one_lsb_mostly(torch_forward(torch_net, input), quant::forward(exported, input),
                               exported.output);
}

TEST(TorchQuickSRNet, FakeQuantizationMatchesTheIntegerRuntimePerChannel) {
  expect_fake_quantization_matches_integer_runtime(WeightGranularity::kPerChannel);
}

TEST(TorchQuickSRNet, FakeQuantizationMatchesTheIntegerRuntimePerTensor) {
  expect_fake_quantization_matches_integer_runtime(WeightGranularity::kPerTensor);
}

}  // namespace
}  // namespace quicksr::train
