// INT8 graphs on real images ("heavy"): the official XLSR and SESR-M5 ONNX files of ../shared,
// quantized on 4 BSDS200 images; QuantSim agrees with the integer reference runtime on Set5
// (<= 1 LSB on >= 99.9 % of output values), per channel and per tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/quantsim.hpp"
#include "support/data_paths.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using test_support::kReferenceModels;
using test_support::kSet5;
using test_support::kTrain;

// The LR the evaluation protocol feeds the network, of the first `count` images of `dir`.
std::vector<Tensor> lr_images(const fs::path& dir, std::size_t count) {
  std::vector<fs::path> files = image_files(dir);
  if (files.size() > count) files.resize(count);
  std::vector<Tensor> images;
  for (const fs::path& file : files) {
    images.push_back(make_lr(crop_to_multiple(to_tensor(read_image(file)), {2, 1}), {2, 1}));
  }
  return images;
}

TEST(GraphInt8RealTest, QuantSimAgreesWithTheIntegerRuntimeOnTheOfficialModels) {
  if (!fs::is_directory(kSet5)) GTEST_SKIP() << kSet5 << " is absent";
  if (!fs::is_directory(kTrain)) GTEST_SKIP() << kTrain << " is absent";
  const std::vector<Tensor> calibration = lr_images(kTrain, 4);
  const std::vector<Tensor> set5 = lr_images(kSet5, 5);
  for (const char* file : {"xlsr-2x-360p.onnx", "sesr_m5-2x-360p.onnx"}) {
    const fs::path path = kReferenceModels / file;
    if (!fs::exists(path)) GTEST_SKIP() << path << " is absent";
    const Graph graph = std::get<Graph>(import_onnx(path).net);
    for (const auto granularity : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
      quant::PtqOptions options;
      options.granularity = granularity;
      const QuantizedGraph q = quant::post_training_quantize(graph, calibration, options);
      const ActivationEncoding& output = quant::output_encoding(q);
      std::size_t values = 0, within_one = 0, exact = 0;
      for (const Tensor& lr : set5) {
        const U8Tensor integer = quant::forward(q, quant::to_u8(lr));
        const Tensor simulated = quant::simulate(q, lr);
        ASSERT_EQ(simulated.data.size(), integer.data.size());
        for (std::size_t i = 0; i < integer.data.size(); ++i) {
          const long sim = std::lround(simulated.data[i] / output.scale) + output.zero_point;
          const long difference = std::labs(sim - integer.data[i]);
          within_one += difference <= 1;
          exact += difference == 0;
          ++values;
        }
      }
      std::printf("%s %s: %zu of %zu output values equal, %zu within 1 LSB\n", file,
                  granularity == WeightGranularity::kPerChannel ? "per-channel" : "per-tensor",
                  exact, values, within_one);
      EXPECT_GE(static_cast<double>(within_one), 0.999 * static_cast<double>(values)) << file;
    }
  }
}

}  // namespace
}  // namespace quicksr
