// Acceptance of issue #3: the official weights, converted with `quicksr convert` and scored with
// `quicksr eval --json`, reach their published scores under the reference protocol (the QuickSRNet
// authors' evaluation code; shared/README.md). Through the CLI, so that the file conversion, the
// model file round trip, the backend choice (engine for QuickSRNet, reference runtime for general
// graphs) and the JSON report are all part of what is checked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "onnx/onnx_test_support.hpp"
#include "support/run_quicksr.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;
using test_support::quoted;
using test_support::run_quicksr;
using test_support::RunResult;

// PSNR: the tolerance. SSIM: published to 4 decimals; 0.001 leaves room for that rounding
// and is tighter than the 0.01, which would be loose for SSIM.
constexpr double kPsnrTolerance = 0.01;
constexpr double kSsimTolerance = 0.001;

struct PublishedScore {
  const char* model;  // in shared/models/reference/
  const char* dataset;
  double psnr;
  double ssim;  // 0: not published
};

void PrintTo(const PublishedScore& score, std::ostream* out) {
  *out << score.model << " on " << score.dataset << ": " << score.psnr << " dB";
}

std::string case_name(const testing::TestParamInfo<PublishedScore>& info) {
  return test_name(std::string(info.param.model) + "_" + info.param.dataset);
}

class OfficialScores : public testing::TestWithParam<PublishedScore> {};

TEST_P(OfficialScores, ConvertThenEvalReachesThePublishedScore) {
  const PublishedScore& published = GetParam();
  const std::filesystem::path onnx_file = reference_model(published.model);
  const std::filesystem::path hr =
      shared_path(std::string("data/benchmarks/") + published.dataset + "/HR");
  if (!std::filesystem::exists(onnx_file)) GTEST_SKIP() << onnx_file << " is absent";
  if (!std::filesystem::is_directory(hr)) GTEST_SKIP() << hr << " is absent";
  TempDir dir;
  const std::filesystem::path model = dir / "model.safetensors";
  const std::filesystem::path scores = dir / "scores.json";

  const RunResult convert = run_quicksr("convert " + quoted(onnx_file) + " " + quoted(model));
  ASSERT_EQ(convert.exit_code, 0) << convert.output;
  const RunResult eval = run_quicksr("eval --model " + quoted(model) + " --data " + quoted(hr) +
                                     " --json " + quoted(scores));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;

  const nlohmann::json json = nlohmann::json::parse(std::ifstream(scores));
  const double psnr = json["mean"]["psnr"].get<double>();
  const double ssim = json["mean"]["ssim"].get<double>();
  std::cout << published.model << " " << published.dataset << ": PSNR " << psnr << " SSIM " << ssim
            << " over " << json["images"].size() << " images\n";
  EXPECT_NEAR(psnr, published.psnr, kPsnrTolerance);
  if (published.ssim > 0) {
    EXPECT_NEAR(ssim, published.ssim, kSsimTolerance);
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
