// ONNX Runtime (npm onnxruntime-node) as the second independent runtime: every exported
// QuickSRNet, in every export mode, computes what quicksr's reference runtime computes, at two
// input sizes of the same file (the sizes are dynamic).
#include <gtest/gtest.h>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

struct Mode {
  const char* name;
  OnnxExportOptions options;
};

const Mode kModes[] = {{"opset13", {}}, {"opencv", opencv_export_options()}};

struct OrtCase {
  ExportCase model;
  Mode mode;
};

std::vector<OrtCase> ort_cases() {
  std::vector<OrtCase> cases;
  for (const Mode& mode : kModes) {
    for (const ExportCase& model : comparison_cases()) cases.push_back({model, mode});
  }
  return cases;
}

class OnnxRuntimeExport : public testing::TestWithParam<OrtCase> {};

TEST_P(OnnxRuntimeExport, MatchesReferenceRuntimeAtTwoSizes) {
  if (const std::string missing = onnxruntime_missing(); !missing.empty()) GTEST_SKIP() << missing;
  const std::optional<Tensor> image = butterfly_crop(96, 80, 24, 32);
  const std::optional<Tensor> other = butterfly_crop(10, 20, 18, 26);
  if (!image || !other) GTEST_SKIP() << "Set5 butterfly.png is absent";
  const auto& [export_case, mode] = GetParam();
  Model model;
  model.net = QuickSRNet::initialized(export_case.config, 11);
  TempDir dir;
  OnnxExportOptions options = mode.options;
  options.dcr = export_case.dcr;
  export_onnx(model, dir / "model.onnx", options);
  const std::vector<OnnxRuntimeRun> runs = {{dir / "model.onnx", *image},
                                            {dir / "model.onnx", *other}};
  const std::vector<Tensor> outputs = run_onnxruntime(runs);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Tensor& input = runs[i].input;
    EXPECT_LE(max_abs_difference(outputs[i], reference::forward(model, input)), kRuntimeTolerance)
        << input.width << "x" << input.height;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, OnnxRuntimeExport, testing::ValuesIn(ort_cases()),
                         [](const testing::TestParamInfo<OrtCase>& info) {
                           return std::string(info.param.mode.name) + "_" +
                                  export_case_name(info.param.model);
                         });

// The oldest and newest opsets, and general graphs (XLSR, SESR) in both modes.
TEST(OnnxRuntimeExportOptions, OpsetsAndGraphs) {
  if (const std::string missing = onnxruntime_missing(); !missing.empty()) GTEST_SKIP() << missing;
  const std::optional<Tensor> image = butterfly_crop(96, 80, 24, 32);
  if (!image) GTEST_SKIP() << "Set5 butterfly.png is absent";
  TempDir dir;
  Model small;
  small.net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{3, 1}), 5);
  // Every file, what the reference runtime gives on the image, and what the file is: one batch.
  std::vector<OnnxRuntimeRun> runs;
  std::vector<Tensor> expected;
  std::vector<std::string> labels;
  for (int opset : {kMinOnnxOpset, kMaxOnnxOpset}) {
    const std::string label = "small_opset" + std::to_string(opset);
    export_onnx(small, dir / (label + ".onnx"), {.dcr = true, .opset = opset});
    runs.push_back({dir / (label + ".onnx"), *image});
    expected.push_back(reference::forward(small, *image));
    labels.push_back(label);
  }
  std::string absent;
  for (const char* name : {"xlsr-2x-360p.onnx", "sesr_m5-4x-180p.onnx"}) {
    const std::filesystem::path official = reference_model(name);
    if (!std::filesystem::exists(official)) {
      absent = official.string() + " is absent";
      break;
    }
    const Model graph = import_onnx(official);
    for (const Mode& mode : kModes) {
      const std::string label = std::string(name) + "_" + mode.name;
      export_onnx(graph, dir / (label + ".onnx"), mode.options);
      runs.push_back({dir / (label + ".onnx"), *image});
      expected.push_back(reference::forward(graph, *image));
      labels.push_back(label);
    }
  }
  const std::vector<Tensor> outputs = run_onnxruntime(runs);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_LE(max_abs_difference(outputs[i], expected[i]), kRuntimeTolerance) << labels[i];
  }
  if (!absent.empty()) GTEST_SKIP() << absent;
}

}  // namespace
}  // namespace quicksr
