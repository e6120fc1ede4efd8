// The graph ops of format version 2 and every baseline builder, against ONNX Runtime: each graph
// exported to ONNX computes in ONNX Runtime what quicksr's reference runtime computes (random
// weights and inputs, two input sizes of one file), and imports back to a graph that computes the
// same. The builders' XLSR and SESR graphs have the structure of the official files.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "model/graph_check.hpp"
#include "model/layout.hpp"
#include "onnx/onnx_test_support.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/reference.hpp"
#include "support/graph_op_cases.hpp"
#include "support/random_tensor.hpp"
#include "support/sanitizer.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;
using namespace test_support;

// fp32 sums of up to a few thousand products in another order (ORT's kernels): values are O(1).
constexpr float kOpTolerance = 1e-5f;

// Inputs in [-1, 1): negative values reach every activation's negative branch.
Tensor signed_input(int height, int width, unsigned seed) {
  Tensor x = test_support::random_tensor(3, height, width, seed);
  for (float& v : x.data) v = 2.0f * v - 1.0f;
  return x;
}

class OnnxGraphOp : public testing::TestWithParam<OpCase> {};

TEST_P(OnnxGraphOp, OnnxRuntimeAndImportMatchTheReferenceRuntime) {
  Model model{.net = op_graph(GetParam()), .provenance = {}};
  ASSERT_NO_THROW(check_graph(std::get<Graph>(model.net)));
  TempDir dir;
  const std::vector<Tensor> inputs = {signed_input(40, 36, 1), signed_input(31, 45, 2)};
  std::vector<OnnxRuntimeRun> runs;        // run in one batch after the import checks
  for (int opset : {11, kMaxOnnxOpset}) {  // empty roi/scales tensors, and empty names
    SCOPED_TRACE("opset " + std::to_string(opset));
    const std::filesystem::path file = dir / ("op" + std::to_string(opset) + ".onnx");
    export_onnx(model, file, {.opset = opset});
    const Model imported = import_onnx(file);
    for (const Tensor& input : inputs) {
      const Tensor expected = reference::forward(model, input);
      EXPECT_LE(max_abs_difference(reference::forward(imported, input), expected), 0.0f);
      runs.push_back({file, input});
    }
  }
  if (const std::string missing = onnxruntime_missing(); !missing.empty()) GTEST_SKIP() << missing;
  const std::vector<Tensor> outputs = run_onnxruntime(runs);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Tensor& input = runs[i].input;
    EXPECT_LE(max_abs_difference(outputs[i], reference::forward(model, input)), kOpTolerance)
        << runs[i].onnx_file.filename() << " " << input.height << "x" << input.width;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, OnnxGraphOp, testing::ValuesIn(op_cases()),
                         [](const testing::TestParamInfo<OpCase>& info) {
                           return info.param.name;
                         });

TEST(OnnxGraphOps, ResizeNeedsOpset11) {
  OpCase resize = op_cases()[14];
  ASSERT_EQ(resize.name, "resize_nearest");
  TempDir dir;
  try {
    export_onnx({.net = op_graph(resize), .provenance = {}}, dir / "op.onnx", {.opset = 10});
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("Resize needs opset 11"), std::string::npos)
        << error.what();
  }
}

// ---- baselines

struct BaselineCase {
  std::string name;
  int scale;
};

std::vector<BaselineCase> baseline_cases() {
  std::vector<BaselineCase> cases;
  for (const std::string& name : baseline_names()) cases.push_back({name, 2});
  for (const char* name : {"fsrcnn", "espcn", "edsr-baseline", "abpn", "erfdn"}) {
    cases.push_back({name, 3});
    cases.push_back({name, 4});
  }
  return cases;
}

// Deep graphs (EDSR: 37 convs, ERFDN: ESA gates) sum more products: outputs are O(1), the
// tolerance is relative to the output's largest magnitude.
constexpr float kBaselineTolerance = 1e-4f;

class OnnxBaseline : public testing::TestWithParam<BaselineCase> {};

TEST_P(OnnxBaseline, OnnxRuntimeMatchesTheReferenceRuntime) {
  if (const std::string missing = onnxruntime_missing(); !missing.empty()) GTEST_SKIP() << missing;
  const auto& [name, scale] = GetParam();
  const Model model{.net = build_baseline(name, {.scale = {scale, 1}, .seed = 5}),
                    .provenance = {}};
  TempDir dir;
  export_onnx(model, dir / "baseline.onnx");
  // The sanitizers check the export on one small size, even rows and odd columns (the CI's
  // 25-minute budget: the reference runtime, the oracle, was most of the sanitized onnx_test);
  // Release on two. ERFDN's attention needs 15 rows and columns (a 7x7 pool after a stride 2).
#ifdef QUICKSR_TEST_ASAN
  const std::vector<OnnxRuntimeRun> runs = {
      {dir / "baseline.onnx", test_support::random_tensor(3, 16, 15, 3)}};
#else
  const std::vector<OnnxRuntimeRun> runs = {
      {dir / "baseline.onnx", test_support::random_tensor(3, 32, 28, 3)},
      {dir / "baseline.onnx", test_support::random_tensor(3, 23, 37, 4)}};
#endif
  const std::vector<Tensor> outputs = run_onnxruntime(runs);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Tensor& input = runs[i].input;
    const Tensor expected = reference::forward(model, input);
    float largest = 0.0f;
    for (float v : expected.data) largest = std::max(largest, std::abs(v));
    EXPECT_LE(max_abs_difference(outputs[i], expected),
              kBaselineTolerance * std::max(1.0f, largest))
        << input.height << "x" << input.width;
  }
}

INSTANTIATE_TEST_SUITE_P(Builders, OnnxBaseline, testing::ValuesIn(baseline_cases()),
                         [](const testing::TestParamInfo<BaselineCase>& info) {
                           return test_name(info.param.name + "_x" +
                                            std::to_string(info.param.scale));
                         });

// Op sequence, tensor wiring and conv geometry of two graphs, node by node.
void expect_same_structure(const Graph& built, const Graph& official) {
  ASSERT_EQ(built.nodes.size(), official.nodes.size());
  std::map<std::string, std::string> official_name{{built.input, official.input}};
  for (std::size_t i = 0; i < built.nodes.size(); ++i) {
    const GraphNode& a = built.nodes[i];
    const GraphNode& b = official.nodes[i];
    SCOPED_TRACE(a.name + " vs " + b.name);
    ASSERT_EQ(a.op, b.op);
    ASSERT_EQ(a.inputs.size(), b.inputs.size());
    for (std::size_t k = 0; k < a.inputs.size(); ++k) {
      EXPECT_EQ(official_name[a.inputs[k]], b.inputs[k]) << "input " << k;
    }
    official_name[a.output] = b.output;
    EXPECT_EQ(a.block_size, b.block_size);
    if (a.op == OpType::kDepthToSpace) {
      EXPECT_EQ(a.order, b.order);
    }
    if (a.op == OpType::kClip) {
      EXPECT_EQ(a.clip_min, b.clip_min);
      EXPECT_EQ(a.clip_max, b.clip_max);
    }
    if (a.op != OpType::kConv) continue;
    const Conv2d& x = built.convs[a.conv];
    const Conv2d& y = official.convs[b.conv];
    EXPECT_EQ(weight_shape(x), weight_shape(y));
    EXPECT_EQ(x.bias.size(), y.bias.size());
    EXPECT_EQ(std::vector({x.stride, x.pad_top, x.pad_left, x.pad_bottom, x.pad_right}),
              std::vector({y.stride, y.pad_top, y.pad_left, y.pad_bottom, y.pad_right}));
  }
  EXPECT_EQ(official_name[built.output], official.output);
}

// A graph quicksr exported comes back as the architecture it was (the graph name, "sesr-m5-x3"),
// whatever the file is called; other files are named by their file name ("xlsr-2x-360p" -> xlsr).
TEST(OnnxBaselineStructure, ImportTakesTheArchitectureFromTheGraphName) {
  TempDir dir;
  export_onnx(Model{build_baseline("sesr-m5", {.scale = {3, 1}}), {}}, dir / "model.onnx");
  EXPECT_EQ(std::get<Graph>(import_onnx(dir / "model.onnx").net).architecture, "sesr-m5");
  onnx::ModelProto proto = read_model(dir / "model.onnx");
  proto.mutable_graph()->set_name("main_graph");
  write_model(proto, dir / "espcn-3x.onnx");
  EXPECT_EQ(std::get<Graph>(import_onnx(dir / "espcn-3x.onnx").net).architecture, "espcn");
}

TEST(OnnxBaselineStructure, XlsrAndSesrMatchTheOfficialFiles) {
  const std::pair<const char*, BaselineCase> files[] = {
      {"xlsr-2x-360p.onnx", {"xlsr", 2}},
      {"xlsr-4x-180p.onnx", {"xlsr", 4}},
      {"sesr_m5-2x-360p.onnx", {"sesr-m5-expanded", 2}},
      {"sesr_m5-4x-180p.onnx", {"sesr-m5-expanded", 4}}};
  for (const auto& [file, baseline] : files) {
    SCOPED_TRACE(file);
    const std::filesystem::path official = reference_model(file);
    if (!std::filesystem::exists(official)) GTEST_SKIP() << official << " is absent";
    const Model imported = import_onnx(official);
    const Graph built = build_baseline(baseline.name, {.scale = {baseline.scale, 1}});
    expect_same_structure(built, std::get<Graph>(imported.net));
  }
}

// The official SESR-M5 weights collapse into the inference graph without changing the image.
TEST(OnnxBaselineStructure, OfficialSesrCollapsesExactly) {
  const std::filesystem::path official = reference_model("sesr_m5-2x-360p.onnx");
  if (!std::filesystem::exists(official)) GTEST_SKIP() << official << " is absent";
  const Graph expanded = std::get<Graph>(import_onnx(official).net);
  const Graph collapsed = collapse_linear_blocks(expanded);
  const Graph built = build_baseline("sesr-m5", {.scale = {2, 1}});
  EXPECT_EQ(collapsed.nodes.size(), built.nodes.size());
  EXPECT_EQ(collapsed.convs.size(), built.convs.size());
  const Tensor input = test_support::random_tensor(3, 30, 26, 8);
  EXPECT_LE(
      max_abs_difference(reference::forward(collapsed, input), reference::forward(expanded, input)),
      1e-4f);
}

}  // namespace
}  // namespace quicksr
