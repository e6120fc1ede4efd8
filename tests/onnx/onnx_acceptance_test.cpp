// Acceptance: the official weights, imported from ONNX, reach their published scores under the
// reference protocol (README of /work/shared: the QuickSRNet authors' evaluation code).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

constexpr double kTolerance = 0.01;

struct PublishedScore {
  const char* model;
  const char* dataset;
  double psnr;
  double ssim;  // 0: not published
};

std::string case_name(const testing::TestParamInfo<PublishedScore>& info) {
  std::string name = std::string(info.param.model) + "_" + info.param.dataset;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// QuickSRNets run on the fast engine (itself tested against the reference runtime), general
// graphs on the reference runtime.
UpscaleFn upscaler_for(const Model& model) {
  if (const auto* net = std::get_if<QuickSRNet>(&model.net)) {
    auto engine = std::make_shared<Engine>(Engine::create(*net));
    return [engine](const Tensor& lr) { return engine->run(lr); };
  }
  return [&model](const Tensor& lr) { return reference::forward(model, lr); };
}

class OfficialScores : public testing::TestWithParam<PublishedScore> {};

TEST_P(OfficialScores, ImportedModelReachesThePublishedScore) {
  const PublishedScore& expected = GetParam();
  const std::filesystem::path file = reference_model(expected.model);
  const std::filesystem::path hr =
      shared_path(std::string("data/benchmarks/") + expected.dataset + "/HR");
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " is absent";
  if (!std::filesystem::exists(hr)) GTEST_SKIP() << hr << " is absent";
  const auto start = std::chrono::steady_clock::now();
  const Model model = import_onnx(file);
  const EvalResult result = evaluate(upscaler_for(model), hr, model.scale());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("seconds", std::to_string(seconds));
  std::cout << expected.model << " " << expected.dataset << ": PSNR " << result.mean_psnr
            << " SSIM " << result.mean_ssim << " in " << seconds << " s\n";
  EXPECT_NEAR(result.mean_psnr, expected.psnr, kTolerance);
  if (expected.ssim > 0) {
    EXPECT_NEAR(result.mean_ssim, expected.ssim, kTolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Published, OfficialScores,
    testing::Values(PublishedScore{"quicksrnetsmall-2x-360p.onnx", "Set5", 37.03, 0.9575},
                    PublishedScore{"quicksrnetsmall-2x-360p.onnx", "Set14", 32.52, 0.9107},
                    PublishedScore{"quicksrnetsmall-2x-360p.onnx", "BSD100", 31.58, 0.8927},
                    PublishedScore{"quicksrnetsmall-4x-180p.onnx", "Set5", 30.80, 0},
                    PublishedScore{"quicksrnetsmall-4x-180p.onnx", "Set14", 27.54, 0},
                    PublishedScore{"quicksrnetsmall-4x-180p.onnx", "BSD100", 27.06, 0.7196},
                    PublishedScore{"xlsr-2x-360p.onnx", "Set5", 37.05, 0.9571},
                    PublishedScore{"xlsr-2x-360p.onnx", "Set14", 32.61, 0.9112},
                    PublishedScore{"sesr_m5-2x-360p.onnx", "Set5", 37.19, 0.9580},
                    PublishedScore{"sesr_m5-2x-360p.onnx", "Set14", 32.60, 0.9113}),
    case_name);

}  // namespace
}  // namespace quicksr
