// AdaRound: every weight is rounded down or up (never further), scales, biases and encodings are
// kept, and the INT8 network (run by the integer reference) reconstructs the fp32 network better
// on held-out real images than with round-to-nearest; the in-loop bias fit lowers the error.
#include "train/adaround.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/heap.hpp"
#include "quant/int8_error.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::train {
namespace {

namespace fs = std::filesystem;

// As in quicksr-train, whose AdaRound runs here in-process: LibTorch's per-step tensors stay in
// the heap instead of being faulted in again (the bias-fit test: 25 -> 15 s of CPU).
[[maybe_unused]] const bool kHeapKeepsFreedMemory = (keep_freed_memory_in_heap(), true);

std::vector<Tensor> lr_images(const fs::path& folder, int count) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<Tensor> images;
  for (int i = 0; i < count && i < static_cast<int>(files.size()); ++i) {
    const Tensor hr = crop_to_multiple(to_tensor(read_image(files[i])), Scale{2, 1});
    images.push_back(make_lr(hr, Scale{2, 1}));
  }
  return images;
}

// Mean squared difference between the INT8 network's output and the fp32 network's.
double reconstruction_error(const QuantizedQuickSRNet& q, const QuickSRNet& net,
                            const std::vector<Tensor>& images) {
  double sum = 0;
  std::size_t count = 0;
  for (const Tensor& lr : images) {
    const Tensor expected = reference::forward(net, lr);
    const Tensor actual = quant::forward(q, lr);
    for (std::size_t i = 0; i < expected.data.size(); ++i) {
      sum += std::pow(actual.data[i] - expected.data[i], 2);
    }
    count += expected.data.size();
  }
  return sum / static_cast<double>(count);
}

void expect_floor_or_ceil(const Conv2d& fp32, const QConv2d& rounded, const QConv2d& ada,
                          int& changed) {
  ASSERT_EQ(ada.weight_scale, rounded.weight_scale);
  ASSERT_EQ(ada.bias, rounded.bias);
  ASSERT_EQ(ada.weight.size(), fp32.weight.size());
  const std::size_t per_output = fp32.weight.size() / fp32.out_channels;
  for (std::size_t i = 0; i < fp32.weight.size(); ++i) {
    const double ratio = fp32.weight[i] / ada.scale_of(static_cast<int>(i / per_output));
    const int q = ada.weight[i];
    EXPECT_TRUE(q == std::clamp(static_cast<int>(std::floor(ratio)), -127, 127) ||
                q == std::clamp(static_cast<int>(std::ceil(ratio)), -127, 127))
        << "weight " << i << " = " << ratio << " levels rounded to " << q;
    changed += q != rounded.weight[i];
  }
}

// The shipped Small x2 rounded to nearest per tensor (round-to-nearest leaves the most to
// recover), every activation encoding [0, 1].
QuantizedQuickSRNet rounded_per_tensor(const QuickSRNet& net) {
  ActivationEncodings encodings;
  encodings.features.assign(net.config.blocks + 1, quant::encoding_from_range(0.0f, 1.0f));
  encodings.output = quant::encoding_from_range(0.0f, 1.0f);
  return quant::quantize_weights(net, encodings, WeightGranularity::kPerTensor);
}

// Few, small patches: seconds, not minutes.
AdaRoundOptions quick_options() {
  AdaRoundOptions options;
  options.iterations = 400;
  options.patches = 32;
  options.batch = 4;
  options.patch = 32;
  return options;
}

const fs::path kShippedSmallX2 =
    fs::path(QUICKSR_SOURCE_DIR) / "models/quicksrnet-small-x2.safetensors";
const fs::path kTrain = fs::path(QUICKSR_SHARED_DIR) / "data/train/BSDS200";
const fs::path kHeldOut = fs::path(QUICKSR_SHARED_DIR) / "data/benchmarks/Set5/HR";

TEST(AdaRound, RoundsUpOrDownAndReconstructsBetterThanNearest) {
  if (!fs::exists(kTrain) || !fs::exists(kHeldOut)) GTEST_SKIP() << "shared data sets are absent";
  const QuickSRNet net = std::get<QuickSRNet>(load_model(kShippedSmallX2).net);
  const QuantizedQuickSRNet rounded = rounded_per_tensor(net);
  const QuantizedQuickSRNet ada = adaround(net, rounded, lr_images(kTrain, 4), quick_options());

  EXPECT_EQ(ada.features, rounded.features);
  EXPECT_EQ(ada.output, rounded.output);
  int changed = 0;
  expect_floor_or_ceil(net.first, rounded.first, ada.first, changed);
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    expect_floor_or_ceil(net.body[i], rounded.body[i], ada.body[i], changed);
  }
  expect_floor_or_ceil(net.last, rounded.last, ada.last, changed);
  EXPECT_GT(changed, 100) << "AdaRound should move some weights away from the nearest level";

  const std::vector<Tensor> test_images = lr_images(kHeldOut, 2);
  const double nearest = reconstruction_error(rounded, net, test_images);
  const double optimised = reconstruction_error(ada, net, test_images);
  EXPECT_LT(optimised, nearest);
  std::cout << "mean squared error vs fp32 on 2 Set5 images: nearest " << nearest << ", AdaRound "
            << optimised << " (" << changed << " weights re-rounded)\n";
}

// Mean squared difference of the first conv + ReLU1 outputs of the two nets on the 8-bit images,
// computed with the float reference conv (independent of AdaRound's LibTorch code).
double first_layer_error(const QuantizedQuickSRNet& q, const QuickSRNet& net,
                         const std::vector<Tensor>& images) {
  const Conv2d dequantized = quant::dequantize_conv(q.first, q.input.scale);
  double sum = 0;
  std::size_t count = 0;
  for (const Tensor& lr : images) {
    const Tensor input = quant::dequantize(quant::to_u8(lr), q.input);
    const Tensor expected = reference::clip(reference::conv2d(input, net.first), 0, 1);
    const Tensor actual = reference::clip(reference::conv2d(input, dequantized), 0, 1);
    for (std::size_t i = 0; i < expected.data.size(); ++i) {
      sum += std::pow(actual.data[i] - expected.data[i], 2);
    }
    count += expected.data.size();
  }
  return sum / static_cast<double>(count);
}

// The in-loop bias fit: the first conv (same input with and without it) reconstructs its fp32
// output better, and so does the whole INT8 net, on the calibration images and held-out ones.
TEST(AdaRound, FittingEachBiasInTheLoopLowersTheReconstructionError) {
  if (!fs::exists(kTrain) || !fs::exists(kHeldOut)) GTEST_SKIP() << "shared data sets are absent";
  const QuickSRNet net = std::get<QuickSRNet>(load_model(kShippedSmallX2).net);
  const QuantizedQuickSRNet rounded = rounded_per_tensor(net);
  const std::vector<Tensor> calibration = lr_images(kTrain, 4);
  AdaRoundOptions options = quick_options();
  const QuantizedQuickSRNet kept = adaround(net, rounded, calibration, options);
  options.fit_bias = true;
  const QuantizedQuickSRNet fitted = adaround(net, rounded, calibration, options);
  EXPECT_NE(fitted.first.bias, rounded.first.bias);
  EXPECT_EQ(fitted.first.weight_scale, rounded.first.weight_scale);

  const double first_kept = first_layer_error(kept, net, calibration);
  const double first_fitted = first_layer_error(fitted, net, calibration);
  EXPECT_LT(first_fitted, first_kept);
  const std::vector<Tensor> held_out = lr_images(kHeldOut, 2);
  for (const auto* images : {&calibration, &held_out}) {
    EXPECT_LT(reconstruction_error(fitted, net, *images), reconstruction_error(kept, net, *images));
  }
  std::cout << "first conv error on the calibration images: biases kept " << first_kept
            << ", fitted " << first_fitted << "; output error on 2 Set5 images: kept "
            << reconstruction_error(kept, net, held_out) << ", fitted "
            << reconstruction_error(fitted, net, held_out) << "\n";
}

// Each weight of `rounded` moved to floor or ceil of w / s at random (weights at +-127 kept): a
// rounding far from optimal, and one AdaRound's own start (the fractional parts) would not give.
void round_at_random(const Conv2d& fp32, QConv2d& q, std::mt19937& random) {
  const std::size_t per_output = fp32.weight.size() / fp32.out_channels;
  for (std::size_t i = 0; i < fp32.weight.size(); ++i) {
    if (std::abs(q.weight[i]) == 127) continue;
    const double ratio = fp32.weight[i] / q.scale_of(static_cast<int>(i / per_output));
    const int down = static_cast<int>(std::floor(ratio));
    q.weight[i] = static_cast<std::int8_t>(std::clamp(down + (random() % 2 ? 1 : 0), -127, 127));
  }
}

QuantizedQuickSRNet rounded_at_random(const QuickSRNet& net) {
  QuantizedQuickSRNet q = rounded_per_tensor(net);
  std::mt19937 random(7);
  round_at_random(net.first, q.first, random);
  for (std::size_t i = 0; i < net.body.size(); ++i) round_at_random(net.body[i], q.body[i], random);
  round_at_random(net.last, q.last, random);
  return q;
}

// Nothing learnt (learning rate 1e-12; 0 would mean the default): warm-started, AdaRound returns
// the given (random) rounding; from the unrounded weights it returns about round to nearest, which
// differs from the random rounding in about half of the weights: the option is what decides.
// Each conv's steps draw from a seed of their own, so a run resumed from the checkpoint after the
// first conv, or after the last of the chain, gives the uninterrupted run's result exactly.
TEST(AdaRound, ResumedFromACheckpointGivesTheUninterruptedResult) {
  if (!fs::exists(kTrain)) GTEST_SKIP() << "shared data sets are absent";
  const QuickSRNet net = std::get<QuickSRNet>(load_model(kShippedSmallX2).net);
  const std::vector<Tensor> calibration = lr_images(kTrain, 2);
  AdaRoundOptions options = quick_options();
  options.iterations = 40;
  options.fit_bias = true;
  std::vector<std::pair<int, QuantizedQuickSRNet>> checkpoints;
  const QuantizedQuickSRNet whole =
      adaround(net, rounded_per_tensor(net), calibration, options,
               [&](int done, const QuantizedQuickSRNet& q) { checkpoints.emplace_back(done, q); });
  ASSERT_EQ(checkpoints.size(), static_cast<std::size_t>(net.config.blocks + 1));
  EXPECT_EQ(checkpoints.front().first, 1);
  EXPECT_EQ(checkpoints.back().first, net.config.blocks + 1);
  for (const auto& [done, partial] : {checkpoints.front(), checkpoints.back()}) {
    options.resume_at = done;
    const QuantizedQuickSRNet resumed = adaround(net, partial, calibration, options);
    EXPECT_EQ(test_support::s8_weights(resumed), test_support::s8_weights(whole)) << done;
    EXPECT_EQ(test_support::s32_biases(resumed), test_support::s32_biases(whole)) << done;
  }
  EXPECT_NE(test_support::s8_weights(checkpoints.front().second), test_support::s8_weights(whole))
      << "the first checkpoint should still hold round-to-nearest convs";
}

TEST(AdaRound, WarmStartBeginsAtTheGivenRounding) {
  if (!fs::exists(kTrain)) GTEST_SKIP() << "shared data sets are absent";
  const QuickSRNet net = std::get<QuickSRNet>(load_model(kShippedSmallX2).net);
  const QuantizedQuickSRNet given = rounded_at_random(net);
  const std::vector<Tensor> calibration = lr_images(kTrain, 2);
  AdaRoundOptions options = quick_options();
  options.iterations = 1;
  options.lr = 1e-12;
  options.start_from_rounded = true;
  EXPECT_EQ(test_support::s8_weights(adaround(net, given, calibration, options)),
            test_support::s8_weights(given));
  options.start_from_rounded = false;
  const std::vector<std::int8_t> unrounded_start =
      test_support::s8_weights(adaround(net, given, calibration, options));
  const std::vector<std::int8_t> random = test_support::s8_weights(given);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < random.size(); ++i) differ += unrounded_start[i] != random[i];
  EXPECT_GT(differ, random.size() / 4);
}

// Warm-started from a random rounding, AdaRound moves away from it to a rounding that
// reconstructs the fp32 network better on held-out images.
TEST(AdaRound, WarmStartedFromARandomRoundingImprovesIt) {
  if (!fs::exists(kTrain) || !fs::exists(kHeldOut)) GTEST_SKIP() << "shared data sets are absent";
  const QuickSRNet net = std::get<QuickSRNet>(load_model(kShippedSmallX2).net);
  const QuantizedQuickSRNet given = rounded_at_random(net);
  AdaRoundOptions options = quick_options();
  options.start_from_rounded = true;
  options.start_margin = 0.4;
  const QuantizedQuickSRNet ada = adaround(net, given, lr_images(kTrain, 4), options);
  const std::vector<Tensor> held_out = lr_images(kHeldOut, 2);
  const double before = reconstruction_error(given, net, held_out);
  const double after = reconstruction_error(ada, net, held_out);
  EXPECT_LT(after, before);
  std::cout << "output error on 2 Set5 images: random rounding " << before
            << ", AdaRound warm-started from it " << after << "\n";
}

}  // namespace
}  // namespace quicksr::train
