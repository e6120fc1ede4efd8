// AdaRound: every weight is rounded down or up (never further), scales, biases and encodings are
// kept, and the INT8 network (run by the integer reference) reconstructs the fp32 network better
// on held-out real images than with round-to-nearest.
#include "train/adaround.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::train {
namespace {

namespace fs = std::filesystem;

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

TEST(AdaRound, RoundsUpOrDownAndReconstructsBetterThanNearest) {
  const fs::path model = fs::path(QUICKSR_SOURCE_DIR) / "models/quicksrnet-small-x2.safetensors";
  const fs::path train = fs::path(QUICKSR_SHARED_DIR) / "data/train/BSDS200";
  const fs::path held_out = fs::path(QUICKSR_SHARED_DIR) / "data/benchmarks/Set5/HR";
  if (!fs::exists(train) || !fs::exists(held_out)) GTEST_SKIP() << "shared data sets are absent";
  const QuickSRNet net = std::get<QuickSRNet>(load_model(model).net);
  ActivationEncodings encodings;
  encodings.features.assign(net.config.blocks + 1, quant::encoding_from_range(0.0f, 1.0f));
  encodings.output = quant::encoding_from_range(0.0f, 1.0f);
  // Per tensor: round-to-nearest leaves the most to recover.
  const QuantizedQuickSRNet rounded =
      quant::quantize_weights(net, encodings, WeightGranularity::kPerTensor);
  AdaRoundOptions options;
  options.iterations = 400;
  options.patches = 32;
  options.batch = 4;
  options.patch = 32;
  const QuantizedQuickSRNet ada = adaround(net, rounded, lr_images(train, 4), options);

  EXPECT_EQ(ada.features, rounded.features);
  EXPECT_EQ(ada.output, rounded.output);
  int changed = 0;
  expect_floor_or_ceil(net.first, rounded.first, ada.first, changed);
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    expect_floor_or_ceil(net.body[i], rounded.body[i], ada.body[i], changed);
  }
  expect_floor_or_ceil(net.last, rounded.last, ada.last, changed);
  EXPECT_GT(changed, 100) << "AdaRound should move some weights away from the nearest level";

  const std::vector<Tensor> test_images = lr_images(held_out, 2);
  const double nearest = reconstruction_error(rounded, net, test_images);
  const double optimised = reconstruction_error(ada, net, test_images);
  EXPECT_LT(optimised, nearest);
  std::cout << "mean squared error vs fp32 on 2 Set5 images: nearest " << nearest << ", AdaRound "
            << optimised << " (" << changed << " weights re-rounded)\n";
}

}  // namespace
}  // namespace quicksr::train
