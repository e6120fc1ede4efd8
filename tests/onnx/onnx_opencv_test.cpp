// OpenCV DNN as the independent ONNX runtime: exported files compute what quicksr's reference
// runtime computes, and quicksr's reading of the official files computes what OpenCV computes.
#include <gtest/gtest.h>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

class OnnxOpenCv : public testing::TestWithParam<ExportCase> {};

TEST_P(OnnxOpenCv, ExportedModelMatchesReferenceRuntime) {
  const std::optional<Tensor> image = butterfly_crop(96, 80, 24, 32);
  if (!image) GTEST_SKIP() << "Set5 butterfly.png is absent";
  const auto& [config, dcr] = GetParam();
  Model model;
  model.net = QuickSRNet::initialized(config, 11);
  TempDir dir;
  export_onnx(model, dir / "model.onnx", {.dcr = dcr});
  const Tensor expected = reference::forward(model, *image);
  const Tensor actual = run_opencv(dir / "model.onnx", *image);
  EXPECT_LE(max_abs_difference(actual, expected), kRuntimeTolerance);
}

// The --opencv export loads in OpenCV 4.6 as written (no fix-ups), at any size and batch.
TEST_P(OnnxOpenCv, OpenCvExportRunsUnmodifiedAtAnySizeAndBatch) {
  const std::optional<Tensor> image = butterfly_crop(96, 80, 24, 32);
  const std::optional<Tensor> other = butterfly_crop(10, 20, 18, 26);
  const std::optional<Tensor> third = butterfly_crop(50, 60, 24, 32);
  if (!image || !other || !third) GTEST_SKIP() << "Set5 butterfly.png is absent";
  const auto& [config, dcr] = GetParam();
  Model model;
  model.net = QuickSRNet::initialized(config, 11);
  TempDir dir;
  OnnxExportOptions options = opencv_export_options();
  options.dcr = dcr;
  export_onnx(model, dir / "model.onnx", options);
  const std::vector<Tensor> batch = run_opencv_unmodified(dir / "model.onnx", {*image, *third});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_LE(max_abs_difference(batch[0], reference::forward(model, *image)), kRuntimeTolerance);
  EXPECT_LE(max_abs_difference(batch[1], reference::forward(model, *third)), kRuntimeTolerance);
  const std::vector<Tensor> single = run_opencv_unmodified(dir / "model.onnx", {*other});
  EXPECT_LE(max_abs_difference(single.at(0), reference::forward(model, *other)), kRuntimeTolerance);
}

INSTANTIATE_TEST_SUITE_P(Configs, OnnxOpenCv, testing::ValuesIn(comparison_cases()),
                         export_case_test_name);

// General graphs export too: XLSR (grouped convs, concat) and SESR (adds, convs without bias).
TEST(OnnxOpenCvGraph, ExportedGraphMatchesReferenceRuntime) {
  const std::optional<Tensor> image = butterfly_crop(96, 80, 24, 32);
  if (!image) GTEST_SKIP() << "Set5 butterfly.png is absent";
  for (const char* name : {"xlsr-2x-360p.onnx", "sesr_m5-4x-180p.onnx"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path official = reference_model(name);
    if (!std::filesystem::exists(official)) GTEST_SKIP() << official << " is absent";
    const Model model = import_onnx(official);
    TempDir dir;
    export_onnx(model, dir / "graph.onnx");
    const Tensor expected = reference::forward(model, *image);
    EXPECT_LE(max_abs_difference(run_opencv(dir / "graph.onnx", *image), expected),
              kRuntimeTolerance);
    export_onnx(model, dir / "opencv.onnx", opencv_export_options());
    EXPECT_LE(
        max_abs_difference(run_opencv_unmodified(dir / "opencv.onnx", {*image}).at(0), expected),
        kRuntimeTolerance);
  }
}

class OfficialModelOpenCv : public testing::TestWithParam<const char*> {};

TEST_P(OfficialModelOpenCv, ImportedModelMatchesOpenCvOnTheOriginalFile) {
  const std::filesystem::path file = reference_model(GetParam());
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " is absent";
  // A real-image crop instead of the declared 360x640 / 180x320 keeps the reference runtime fast.
  const std::optional<Tensor> input = butterfly_crop(96, 80, 24, 32);
  if (!input) GTEST_SKIP() << "Set5 butterfly.png is absent";
  const Tensor expected = run_opencv(file, *input);
  const Tensor actual = reference::forward(import_onnx(file), *input);
  EXPECT_LE(max_abs_difference(actual, expected), kRuntimeTolerance);
}

INSTANTIATE_TEST_SUITE_P(Files, OfficialModelOpenCv,
                         testing::Values("quicksrnetsmall-2x-360p.onnx",
                                         "quicksrnetsmall-4x-180p.onnx", "xlsr-2x-360p.onnx",
                                         "xlsr-4x-180p.onnx", "sesr_m5-2x-360p.onnx",
                                         "sesr_m5-4x-180p.onnx"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace quicksr
