// The engine's general-graph path against the reference runtime: every supported baseline
// (random weights) and the official XLSR / SESR-M5 files, on random odd-sized inputs, for every
// ISA level this CPU has (the others skipped with a message) and 1 and 2 threads; graphs the
// engine cannot run are refused with a reason and fall back to the reference in Upscaler.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "engine/graph_plan.hpp"
#include "engine/plan.hpp"
#include "model/graph_check.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/reference.hpp"
#include "quicksr/upscaler.hpp"
#include "support/data_paths.hpp"
#include "support/random_tensor.hpp"

namespace quicksr {
namespace {

// Max abs difference to the reference, whose sums run in another order (per output plane, tap
// by tap); measured: at most 3.7e-6 over every case here (the official SESR-M5 x4, collapsed).
constexpr float kTolerance = 1e-5f;

float max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.width, b.width);
  float diff = 0.0f;
  for (std::size_t i = 0; i < std::min(a.data.size(), b.data.size()); ++i) {
    diff = std::max(diff, std::abs(a.data[i] - b.data[i]));
  }
  return diff;
}

// Engine output against the reference for every ISA level and 1 and 2 threads.
void expect_engine_matches_reference(const Graph& graph, const Tensor& input,
                                     const std::string& what) {
  const Tensor expected = reference::forward(graph, input);
  for (const Isa isa : kAllIsas) {
    if (!cpu_supports(isa)) {
      std::cout << "[ SKIPPED  ] " << what << ": this CPU lacks " << isa_name(isa) << "\n";
      continue;
    }
    for (const int threads : {1, 2}) {
      const Engine engine = Engine::create(graph, {.threads = threads, .isa = isa});
      const Tensor actual = engine.run(input);
      EXPECT_LE(max_abs_diff(actual, expected), kTolerance)
          << what << " " << isa_name(isa) << " threads " << threads << " (" << engine.kernel_names()
          << ")";
    }
  }
}

// The activations the conv kernels cannot clamp run on each output row after the conv (ESPCN's
// Tanh on the f32-vtanh kernels): ESPCN with its two Tanh swapped for each other such op.
TEST(GraphEngineTest, ActivationsAfterAConvMatchReference) {
  const Tensor input = test_support::random_tensor(3, 11, 29, 3);
  for (const OpType op : {OpType::kPRelu, OpType::kLeakyRelu, OpType::kSigmoid, OpType::kTanh}) {
    Graph graph = build_baseline("espcn", {.scale = {2, 1}, .seed = 9});
    for (GraphNode& node : graph.nodes) {
      if (node.op != OpType::kTanh) continue;
      node.op = op;
      node.alpha = 0.2f;
      if (op != OpType::kPRelu) continue;
      const int channels = node.name == "conv1_tanh" ? 64 : 32;
      PRelu prelu{channels, {}};
      for (int c = 0; c < channels; ++c) prelu.slope.push_back(0.05f * static_cast<float>(c % 7));
      node.prelu = static_cast<int>(graph.prelus.size());
      graph.prelus.push_back(prelu);
    }
    ASSERT_EQ(graph_unsupported_reason(graph), std::nullopt);
    expect_engine_matches_reference(graph, input, "espcn with " + std::string(graph_op_name(op)));
  }
}

// XLSR's four conv (+ ReLU) + 1x1 pairs each run as one step, the 1x1 on each row of the conv
// before it (the outputs are checked against the reference below).
TEST(GraphEngineTest, PointwiseConvsRunOnTheRowsOfTheConvBeforeThem) {
  const Graph graph = build_baseline("xlsr", {.scale = {2, 1}, .seed = 1});
  const engine::GraphPlan plan = engine::make_graph_plan(graph, engine::f32_kernels(Isa::kScalar));
  const auto merged =
      std::count_if(plan.steps.begin(), plan.steps.end(),
                    [](const engine::GraphStep& step) { return step.pointwise >= 0; });
  EXPECT_EQ(merged, 4);
}

class GraphEngineBaselineTest : public testing::TestWithParam<std::string> {};

TEST_P(GraphEngineBaselineTest, MatchesReferenceOnRandomOddSizes) {
  for (const int scale : {2, 3, 4}) {
    const Graph graph = build_baseline(GetParam(), {.scale = {scale, 1}, .seed = 5});
    ASSERT_EQ(graph_unsupported_reason(graph), std::nullopt) << GetParam();
    for (const auto& [height, width] : {std::pair{23, 37}, std::pair{1, 1}, std::pair{9, 70}}) {
      const Tensor input = test_support::random_tensor(3, height, width, height * 7 + scale);
      expect_engine_matches_reference(graph, input,
                                      GetParam() + " x" + std::to_string(scale) + " " +
                                          std::to_string(width) + "x" + std::to_string(height));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Baselines, GraphEngineBaselineTest,
                         testing::Values("xlsr", "sesr-m3", "sesr-m5", "sesr-xl", "abpn",
                                         "abpn-noresidual", "espcn"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// ABPN, with and without its anchor, is a QuickSRNet-like chain: it runs on the band pipeline
// (Winograd kernels, a workspace that does not grow with the image), and inputs wider than a
// strip match the reference too (every ISA, 1 and 2 threads, 3 strips of at most 64 columns).
TEST(GraphEngineTest, AbpnRunsOnTheBandPipeline) {
  float worst = 0.0f;
  for (const char* name : {"abpn", "abpn-noresidual"}) {
    for (const int scale : {2, 3}) {
      const Graph graph = build_baseline(name, {.scale = {scale, 1}, .seed = 7});
      const Engine engine = Engine::create(graph, {.threads = 2});
      EXPECT_NE(engine.kernel_names().find("winograd"), std::string::npos) << name;
      EXPECT_EQ(engine.workspace_bytes(64, 64), engine.workspace_bytes(2048, 1536)) << name;
      const Tensor input = test_support::random_tensor(3, 13, 150, scale);
      const Tensor expected = reference::forward(graph, input);
      for (const Isa isa : kAllIsas) {
        if (!cpu_supports(isa)) continue;
        for (const int threads : {1, 2}) {
          const Engine strips =
              Engine::create(graph, {.threads = threads, .max_strip_width = 64, .isa = isa});
          const float diff = max_abs_diff(strips.run(input), expected);
          EXPECT_LE(diff, kTolerance)
              << name << " x" << scale << " " << isa_name(isa) << " threads " << threads;
          worst = std::max(worst, diff);
        }
      }
    }
  }
  std::cout << "abpn on the band pipeline: max abs difference to the reference " << worst << "\n";
}

// A graph that leaves the chain pattern anywhere (XLSR's branches, no final clip, an activation
// the conv store cannot apply) stays on the general-graph path.
TEST(GraphEngineTest, OnlyChainsRunOnTheBandPipeline) {
  const engine::F32Kernels kernels = engine::f32_kernels(Isa::kScalar);
  const Graph abpn = build_baseline("abpn", {.scale = {2, 1}, .seed = 7});
  EXPECT_TRUE(engine::make_chain_plan(abpn, kernels).has_value());
  EXPECT_FALSE(
      engine::make_chain_plan(build_baseline("xlsr", {.scale = {2, 1}}), kernels).has_value());
  Graph unclipped = abpn;
  unclipped.nodes.pop_back();
  unclipped.output = unclipped.nodes.back().output;
  EXPECT_FALSE(engine::make_chain_plan(unclipped, kernels).has_value());
  Graph tanh = abpn;
  tanh.nodes[1].op = OpType::kTanh;
  EXPECT_FALSE(engine::make_chain_plan(tanh, kernels).has_value());
  for (const Graph& graph : {unclipped, tanh}) {
    const Tensor input = test_support::random_tensor(3, 9, 17, 5);
    const Engine engine = Engine::create(graph, {.threads = 2});
    EXPECT_LE(max_abs_diff(engine.run(input), reference::forward(graph, input)), kTolerance);
  }
}

// The widest supported graph: 64 channels, residual adds and depth-to-space mid-graph.
TEST(GraphEngineTest, EdsrBaselineMatchesReference) {
  const Graph graph = build_baseline("edsr-baseline", {.scale = {4, 1}, .seed = 3});
  expect_engine_matches_reference(graph, test_support::random_tensor(3, 11, 13, 1), "edsr x4");
}

// The official SESR files hold the training form (linear blocks expanded to 256 channels), which
// the engine collapses first: the same function up to fp32 rounding (measured: at most 3.7e-6 from
// the reference on the expanded graph).
TEST(GraphEngineTest, OfficialOnnxModelsMatchReference) {
  for (const char* name :
       {"xlsr-2x-360p.onnx", "xlsr-4x-180p.onnx", "sesr_m5-2x-360p.onnx", "sesr_m5-4x-180p.onnx"}) {
    const std::filesystem::path path = test_support::kReferenceModels / name;
    if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing";
    const Graph imported = std::get<Graph>(import_onnx(path).net);
    const Tensor input = test_support::random_tensor(3, 19, 33, 11);
    expect_engine_matches_reference(imported, input, name);
    expect_engine_matches_reference(collapse_linear_blocks(imported), input,
                                    std::string(name) + " collapsed");
  }
}

// FSRCNN's upscaling transposed conv (9x9, stride = scale) runs as its phase conv (5x5 at x2 and
// x3, 3x3 at x4) and depth-to-space; the reference runs the transposed conv itself.
TEST(GraphEngineTest, FsrcnnTransposedConvMatchesReference) {
  for (int scale : {2, 3, 4}) {
    const Graph graph = build_baseline("fsrcnn", {.scale = {scale, 1}, .seed = 5});
    EXPECT_FALSE(graph_unsupported_reason(graph).has_value()) << scale;
    expect_engine_matches_reference(graph, test_support::random_tensor(3, 13, 10, scale),
                                    "fsrcnn x" + std::to_string(scale));
  }
}

TEST(GraphEngineTest, RefusesUnsupportedGraphsWithTheReason) {
  const Graph erfdn = build_baseline("erfdn", {.scale = {2, 1}});
  const std::optional<std::string> reason = graph_unsupported_reason(erfdn);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("stride 2"), std::string::npos) << *reason;
  EXPECT_THROW(Engine::create(erfdn), Error);
}

// Upscaler runs supported graphs on the engine and the others on the reference runtime.
TEST(GraphEngineTest, UpscalerUsesTheEngineOrFallsBack) {
  const Tensor input = test_support::random_tensor(3, 15, 21, 4);
  for (const char* name : {"xlsr", "erfdn"}) {
    const Graph graph = build_baseline(name, {.scale = {2, 1}, .seed = 9});
    const Upscaler upscaler = Upscaler::from_model(Model{graph, {}}, {.threads = 2});
    EXPECT_LE(max_abs_diff(upscaler.upscale(input), reference::forward(graph, input)), kTolerance)
        << name;
  }
}

// The workspace holds the tensors alive at once, reusing buffers. SESR-M5 x2 at its widest
// point (a body conv) holds the anchor (12 channels), the first conv's output (16, read by the
// last residual add), the block input and the conv output (16 each): at least 60 planes; with
// the input (3) and the x2 output (3 at 4x the area) at most 75, plus the zero margins.
TEST(GraphEngineTest, WorkspaceHoldsOnlyTheLiveTensors) {
  const Engine engine = Engine::create(build_baseline("sesr-m5", {.scale = {2, 1}}));
  EXPECT_EQ(engine.workspace_bytes(), 0u);
  const double plane = 640.0 * 360.0 * sizeof(float);
  const auto bytes = static_cast<double>(engine.workspace_bytes(640, 360));
  EXPECT_GE(bytes, 60 * plane);
  EXPECT_LE(bytes, 75 * plane * 1.25);
  (void)engine.run(test_support::random_tensor(3, 64, 64, 2));
  EXPECT_EQ(engine.workspace_bytes(), engine.workspace_bytes(64, 64));
}

}  // namespace
}  // namespace quicksr
