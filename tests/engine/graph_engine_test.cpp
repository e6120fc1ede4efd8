// The engine's general-graph path against the reference runtime: every supported baseline
// (random weights) and the official XLSR / SESR-M5 files, on random odd-sized inputs, for every
// ISA level this CPU has (the others skipped with a message) and 1 and 2 threads; graphs the
// engine cannot run are refused with a reason and fall back to the reference in Upscaler.
// Thread counts, bands and strips run in full on the most capable level, once on each other
// (engine_runs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph_bands.hpp"
#include "engine/graph_plan.hpp"
#include "engine/plan.hpp"
#include "engine_test_support.hpp"
#include "model/graph_check.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/reference.hpp"
#include "quicksr/upscaler.hpp"
#include "support/data_paths.hpp"
#include "support/random_tensor.hpp"
#include "support/sanitizer.hpp"

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

// Engine output against the reference on every ISA level and 1 and 2 threads (engine_runs).
void expect_engine_matches_reference(const Graph& graph, const Tensor& input,
                                     const std::string& what) {
  const Tensor expected = reference::forward(graph, input);
  report_lacking_isas(what);
  for (const EngineRun& run : engine_runs(fp32_isas_to_test(), {1, 2})) {
    const Engine engine = Engine::create(graph, {.threads = run.threads, .isa = run.isa});
    const Tensor actual = engine.run(input);
    EXPECT_LE(max_abs_diff(actual, expected), kTolerance)
        << what << " " << isa_name(run.isa) << " threads " << run.threads << " ("
        << engine.kernel_names() << ")";
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
      for (const EngineRun& run : engine_runs(fp32_isas_to_test(), {1, 2})) {
        const Engine strips =
            Engine::create(graph, {.threads = run.threads, .max_strip_width = 64, .isa = run.isa});
        const float diff = max_abs_diff(strips.run(input), expected);
        EXPECT_LE(diff, kTolerance)
            << name << " x" << scale << " " << isa_name(run.isa) << " threads " << run.threads;
        worst = std::max(worst, diff);
      }
    }
  }
  std::cout << "abpn on the band pipeline: max abs difference to the reference " << worst << "\n";
}

// 8-bit frame buffers on both fp32 graph paths: the band pipeline (ABPN, with its anchor) and
// the general-graph one (ESPCN's unclipped Tanh output, XLSR's branches, ERFDN's whole-image
// attention), at x2 and x3.
TEST(GraphEngineTest, EightBitViewsGiveTheFloatRunRounded) {
  for (const char* name : {"abpn", "espcn", "xlsr", "erfdn"}) {
    for (const int scale : {2, 3}) {
      const Graph graph = build_baseline(name, {.scale = {scale, 1}, .seed = 6});
      for (const Isa isa : fp32_isas_to_test()) {
        SCOPED_TRACE(std::string(name) + " x" + std::to_string(scale));
        const Engine engine = Engine::create(graph, {.threads = 2, .isa = isa});
        expect_eight_bit_views_give_the_float_run_rounded(engine, 23, 31, 3);  // ERFDN: 15+ rows
      }
    }
  }
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

// The widest supported graph: 64 channels, residual adds and depth-to-space mid-graph (x4: two,
// with a conv at twice the input's size between them).
TEST(GraphEngineTest, EdsrBaselineMatchesReference) {
  for (const int scale : {2, 3, 4}) {
    const Graph graph = build_baseline("edsr-baseline", {.scale = {scale, 1}, .seed = 3});
    expect_engine_matches_reference(graph, test_support::random_tensor(3, 11, 13, 1),
                                    "edsr x" + std::to_string(scale));
  }
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

// ERFDN's strided windows take no padding: one padded is refused, naming the node.
TEST(GraphEngineTest, RefusesUnsupportedGraphsWithTheReason) {
  Graph erfdn = build_baseline("erfdn", {.scale = {2, 1}});
  for (const GraphNode& node : erfdn.nodes) {
    if (node.name != "b1_esa_conv2") continue;
    Conv2d& conv = erfdn.convs[node.conv];
    conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  }
  const std::optional<std::string> reason = graph_unsupported_reason(erfdn);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("'b1_esa_conv2' is a conv with stride 2 and padding"), std::string::npos)
      << *reason;
  EXPECT_THROW(Engine::create(erfdn), Error);
}

// Upscaler runs supported graphs on the engine and the others on the reference runtime (ERFDN
// whole: its halo_rows() is 0, no crop gives the whole image's rows).
TEST(GraphEngineTest, UpscalerUsesTheEngineOrFallsBack) {
  const Tensor input = test_support::random_tensor(3, 15, 21, 4);
  for (const char* name : {"xlsr", "erfdn"}) {
    const Graph graph = build_baseline(name, {.scale = {2, 1}, .seed = 9});
    const Upscaler upscaler = Upscaler::from_model(Model{graph, {}}, {.threads = 2});
    EXPECT_LE(max_abs_diff(upscaler.upscale(input), reference::forward(graph, input)), kTolerance)
        << name;
  }
}

// The rows each tensor needs for a band, by hand, through a 5x5 conv (2 rows above and below),
// a 3x3 conv (1), an add of both convs' inputs... (the hull of its readers' rows), a
// depth-to-space by 2 (output row Y reads row Y / 2) and a 3x3 conv at the output's resolution:
// input -> a (5x5) -> b (3x3 of a) -> e = a + b -> c = depth_to_space(e, 2) -> d (3x3 of c).
TEST(GraphBandsTest, RowReachThroughConvsAddAndDepthToSpace) {
  enum { kIn, kA, kB, kE, kC, kD };
  const engine::GraphBands bands({{{kIn}, kA, {2, 2, 1}},
                                  {{kA}, kB, {1, 1, 1}},
                                  {{kA, kB}, kE, {0, 0, 1}},
                                  {{kE}, kC, {0, 0, 2}},
                                  {{kC}, kD, {1, 1, 1}}},
                                 {1, 1, 1, 1, 2, 2}, kIn, kD);
  const auto expect_rows = [](const std::vector<engine::RowRange>& rows,
                              const std::vector<std::pair<int, int>>& expected) {
    ASSERT_EQ(rows.size(), expected.size());
    for (std::size_t t = 0; t < rows.size(); ++t) {
      EXPECT_EQ(rows[t].begin, expected[t].first) << "tensor " << t;
      EXPECT_EQ(rows[t].end, expected[t].second) << "tensor " << t;
    }
  };
  // Input rows [10, 14) of 100: d [20, 28); c one more each side [19, 29); e [19 / 2, ceil(29 /
  // 2)) = [9, 15), and b the same; a: e's rows and b's one more: [8, 16); the input two more.
  expect_rows(bands.needed_rows(10, 14, 100),
              {{6, 18}, {8, 16}, {9, 15}, {9, 15}, {19, 29}, {20, 28}});
  // At the edges every range stops at the tensor's rows (a conv reads its padding beyond).
  expect_rows(bands.needed_rows(0, 4, 100), {{0, 8}, {0, 6}, {0, 5}, {0, 5}, {0, 9}, {0, 8}});
  expect_rows(bands.needed_rows(96, 100, 100),
              {{92, 100}, {94, 100}, {95, 100}, {95, 100}, {191, 200}, {192, 200}});
  // Rings: from the lowest row read to the newest row, in a band [y, y + 4) of the steady walk
  // (each band adds the rows the band after the last one needs; lead bands add fewer). New rows:
  // input [y + 4, y + 8), a [y + 2, y + 6), b and e [y + 1, y + 5), c [2y + 1, 2y + 9), d [2y,
  // 2y + 8). a reads the input from y: 8 rows to y + 8; b reads a from y: 6 to y + 6; e reads a
  // and b from y + 1: 5 and 4; c reads e from (2y + 1) / 2 = y: 5 to y + 5; d reads c from
  // 2y - 1: 10 to 2y + 9; the output is written from d's rows [2y, 2y + 8): 8. (The first band's
  // whole needed ranges, which the rings held before lead bands: 12, 8, 6, 6, 10, 8.)
  EXPECT_EQ(bands.ring_rows(4), (std::vector<int>{8, 6, 4, 5, 10, 8}));
  // One row: the input reaches [-4, 5).
  EXPECT_EQ(bands.halo_rows(), 4);
}

// ESA's shrinking maps by hand: input -> s (3x3, stride 2, no padding) -> p (7x7 max pool, stride
// 3) -> r (bilinear resize back to the input's size). At 360 rows s has (360 - 3) / 2 + 1 = 179,
// p (179 - 7) / 3 + 1 = 58; r's row y reads p's rows from floor((y + 0.5) 58 / 360 - 0.5).
TEST(GraphBandsTest, RowMapsOfStridedWindowsAndResize) {
  enum { kIn, kS, kP, kR };
  engine::RowReach strided{.below = 2, .stride = 2, .shrink = 2};
  engine::RowReach pool{.below = 6, .stride = 3, .shrink = 6};
  engine::RowReach resize{.resize_to = kIn};
  const engine::GraphBands bands({{{kIn}, kS, strided}, {{kS}, kP, pool}, {{kP}, kR, resize}},
                                 {1, 1, 1, 1}, kIn, kR);
  EXPECT_FALSE(bands.is_local());
  EXPECT_EQ(bands.halo_rows(), 0);
  EXPECT_EQ(bands.lengths(360), (std::vector<int>{360, 179, 58, 360}));
  EXPECT_THROW((void)bands.lengths(14), Error);  // 6 rows after the strided conv: no pool window
  const auto expect_rows = [](const std::vector<engine::RowRange>& rows,
                              const std::vector<std::pair<int, int>>& expected) {
    ASSERT_EQ(rows.size(), expected.size());
    for (std::size_t t = 0; t < rows.size(); ++t) {
      EXPECT_EQ(rows[t].begin, expected[t].first) << "tensor " << t;
      EXPECT_EQ(rows[t].end, expected[t].second) << "tensor " << t;
    }
  };
  // Rows 100, 101: p from floor(100.5 * 58 / 360 - 0.5) = 15 and floor(15.85) = 15, and the next:
  // [15, 17); s [3 * 15, 3 * 16 + 7) = [45, 55); the input [90, 2 * 54 + 3) = [90, 111).
  expect_rows(bands.needed_rows(100, 102, 360), {{90, 111}, {45, 55}, {15, 17}, {100, 102}});
  // Rows 358, 359: p 57 and its next, 58, past the last row (the taps clamp to 57): [57, 58); s
  // from p's unclipped [57, 59): [171, 181) clipped to 179; the input [342, 363) to 360.
  expect_rows(bands.needed_rows(358, 360, 360), {{342, 360}, {171, 179}, {57, 58}, {358, 360}});
}

// Runs `graph` on `input` on `isas` with `threads`, in bands of `band_rows` rows (engine_runs):
// within the tolerance of the reference (computed once: per ISA and thread count it was a fifth
// of the sanitized ERFDN test), and on each ISA the same output bit for bit whatever the band
// height and thread count.
void expect_band_heights_agree(const Graph& graph, const Tensor& input,
                               const std::vector<int>& band_rows, const std::vector<Isa>& isas,
                               const std::vector<int>& threads, const std::string& what) {
  const Tensor expected = reference::forward(graph, input);
  std::map<Isa, Tensor> first;
  for (const EngineRun& run : engine_runs(isas, threads, band_rows)) {
    const Engine engine = Engine::create(
        graph, {.threads = run.threads, .graph_band_rows = run.size, .isa = run.isa});
    SCOPED_TRACE(what + " " + engine.kernel_names() + " threads " + std::to_string(run.threads) +
                 " band rows " + std::to_string(run.size));
    ASSERT_EQ(engine.path_name(), "general-graph path");
    const Tensor actual = engine.run(input);
    EXPECT_LE(max_abs_diff(actual, expected), kTolerance);
    if (!first.contains(run.isa)) first[run.isa] = actual;
    EXPECT_EQ(actual.data, first[run.isa].data);
  }
}

// Bands of any height (1 row, 2, odd, taller than the image) give the same output bit for bit,
// within the tolerance of the reference: every kind of general graph (grouped convs, 1x1 pairs
// and concat; residual adds; 5x5 convs and Tanh; the phase conv), an odd image size, 1 and 2
// threads, every ISA this CPU has; and depth-to-space mid-graph (EDSR, 64 channels: the best ISA
// only, to keep the test short).
TEST(GraphEngineTest, AnyBandHeightGivesTheSameOutput) {
  const Tensor input = test_support::random_tensor(3, 17, 13, 6);
  for (const auto& [name, scale] :
       {std::pair{"xlsr", 2}, {"sesr-m5", 3}, {"espcn", 2}, {"fsrcnn", 3}}) {
    const Graph graph = build_baseline(name, {.scale = {scale, 1}, .seed = 4});
    report_lacking_isas(name);
    expect_band_heights_agree(graph, input, {1, 2, 5, 40}, fp32_isas_to_test(), {1, 2},
                              name + std::string(" x") + std::to_string(scale));
  }
  const Graph edsr = build_baseline("edsr-baseline", {.scale = {4, 1}, .seed = 4});
  expect_band_heights_agree(edsr, test_support::random_tensor(3, 9, 7, 6), {1, 3, 40}, {best_isa()},
                            {2}, "edsr-baseline x4");
}

// 3 threads on images of 1, 2 and 4 rows (fewer jobs than threads, shares that do not divide).
TEST(GraphEngineTest, ThreeThreadsOnImagesOfFewRows) {
  const Graph graph = build_baseline("xlsr", {.scale = {2, 1}, .seed = 4});
  for (const int height : {1, 2, 4}) {
    expect_band_heights_agree(graph, test_support::random_tensor(3, height, 13, height), {1, 40},
                              {best_isa()}, {3}, "xlsr x2 13x" + std::to_string(height));
  }
}

// ERFDN (ESA: a 3x3 stride-2 conv and a 7x7 stride-3 max pool without padding, three convs on
// the pooled map, a half-pixel bilinear resize back, a sigmoid gate) against the reference:
// heights where the pooled sizes round differently (15 rows: 7 after the strided conv, 1 pooled;
// 16 and 17: 7 and 8, 1 and 1; 24: 11, 2; 33: 16, 4; 38: 18, 4), odd widths, the default bands
// and bands of 1, 2, 5 and 40 rows, 1 and 2 threads, every ISA this CPU has; x3 and x4 on the best
// ISA.
// PyTorch's default uniform draw fades a signal by ~1/3 per conv, so random ERFDN's gates sit at
// sigmoid(~0) and a wrong ESA row changes the output by ~1e-7, below the tolerance: its ESA convs
// scaled by sqrt(6) to He's variance make the gate vary with the attention.
Graph erfdn_with_strong_attention(int scale, std::uint64_t seed) {
  Graph graph = build_baseline("erfdn", {.scale = {scale, 1}, .seed = seed});
  for (const GraphNode& node : graph.nodes) {
    if (node.op != OpType::kConv || node.name.find("_esa_") == std::string::npos) continue;
    for (float& w : graph.convs[node.conv].weight) w *= 4.0f;
  }
  return graph;
}

TEST(GraphEngineTest, ErfdnMatchesReference) {
  const Graph graph = erfdn_with_strong_attention(2, 7);
  ASSERT_FALSE(graph_unsupported_reason(graph).has_value()) << *graph_unsupported_reason(graph);
  // The sanitizers check the code on two sizes (the CI's 25-minute budget), Release on six.
#ifdef QUICKSR_TEST_ASAN
  const std::vector<std::pair<int, int>> sizes{{15, 17}, {38, 23}};
#else
  const std::vector<std::pair<int, int>> sizes{{15, 17}, {16, 15}, {17, 21},
                                               {24, 19}, {33, 16}, {38, 23}};
#endif
  for (const auto& [height, width] : sizes) {
    const Tensor input = test_support::random_tensor(3, height, width, height);
    const std::string what = "erfdn x2 " + std::to_string(width) + "x" + std::to_string(height);
    report_lacking_isas(what);
    // 0: the default bands, 16 rows for 2 threads (they walk the bands together).
    expect_band_heights_agree(graph, input, {1, 2, 5, 40, 0}, fp32_isas_to_test(), {1, 2}, what);
  }
  for (const int scale : {3, 4}) {
    const Graph other = erfdn_with_strong_attention(scale, 8);
    expect_band_heights_agree(other, test_support::random_tensor(3, 29, 18, scale), {2, 7},
                              {best_isa()}, {2}, "erfdn x" + std::to_string(scale));
  }
  // 3 threads walk the bands together (GraphBands::walk_together) in shares that do not divide
  // the rows: 17 rows, bands of 16 (the default), 1, 2, 5 and 40.
  expect_band_heights_agree(graph, test_support::random_tensor(3, 17, 21, 17), {0, 1, 2, 5, 40},
                            {best_isa()}, {3}, "erfdn x2 21x17 3 threads");
}

// The workspace is each thread's rings (a band of rows plus the halo per tensor): it depends on
// the width and the band height, not on the image height. SESR-M5 x2 at 640 columns, 2 threads,
// the default bands: under a quarter of the 60 planes of 640x360 that its widest step held at
// once when tensors spanned the image.
TEST(GraphEngineTest, WorkspaceDoesNotGrowWithTheImageHeight) {
  for (const char* name : {"xlsr", "sesr-m5", "espcn", "fsrcnn"}) {
    SCOPED_TRACE(name);
    const Graph graph = build_baseline(name, {.scale = {2, 1}});
    const Engine engine = Engine::create(graph, {.threads = 2, .graph_band_rows = 8});
    EXPECT_EQ(engine.workspace_bytes(), 0u);
    EXPECT_EQ(engine.workspace_bytes(640, 360), engine.workspace_bytes(640, 1));
    EXPECT_EQ(engine.workspace_bytes(640, 360), engine.workspace_bytes(640, 100000));
    const Engine thin = Engine::create(graph, {.threads = 2, .graph_band_rows = 1});
    EXPECT_LT(thin.workspace_bytes(640, 360), engine.workspace_bytes(640, 360));
    (void)engine.run(test_support::random_tensor(3, 64, 64, 2));
    EXPECT_EQ(engine.workspace_bytes(), engine.workspace_bytes(64, 64));
  }
  // ERFDN's rings are sized per height (its resize maps depend on it): small images differ, from
  // a few hundred rows on the resize ratio's drift is settled and the workspace stays flat
  // (measured at 640 columns, 2 threads walking 16-row bands together: 200.6-202.8 MiB from 359
  // to 4320 rows and at 100000; at most 201.4 MiB below 359 rows).
  const Engine erfdn = Engine::create(build_baseline("erfdn", {.scale = {2, 1}}), {.threads = 2});
  const std::size_t erfdn_360 = erfdn.workspace_bytes(640, 360);
  for (const int height : {359, 361, 720, 1080, 1081, 4320, 100000}) {
    EXPECT_LT(static_cast<double>(erfdn.workspace_bytes(640, height)), 1.02 * erfdn_360) << height;
  }
  const Engine sesr = Engine::create(build_baseline("sesr-m5", {.scale = {2, 1}}), {.threads = 2});
  const double plane = 640.0 * 360.0 * sizeof(float);
  EXPECT_LT(static_cast<double>(sesr.workspace_bytes(640, 360)), 60 * plane / 4);
}

// Upscaler cuts graphs the engine runs into bands of rows with the engine's halo, as QuickSRNet:
// every band layout gives the whole image's pixels (FSRCNN's reach: 2 + 4 + 2 input rows).
TEST(GraphEngineTest, UpscalerBandsOfAGraphGiveTheWholeImage) {
  const Graph graph = build_baseline("fsrcnn", {.scale = {2, 1}, .seed = 2});
  const Upscaler upscaler = Upscaler::from_model(Model{graph, {}}, {.threads = 2});
  EXPECT_EQ(Engine::create(graph).halo_rows(), 8);
  Image input;
  input.width = 11;
  input.height = 29;
  const Tensor pixels = test_support::random_tensor(3, input.height, input.width, 8);
  for (int y = 0; y < input.height; ++y) {
    for (int x = 0; x < input.width; ++x) {
      for (int c = 0; c < 3; ++c) input.rgb.push_back(pixels.at(c, y, x));
    }
  }
  const Image whole = upscaler.upscale(input);
  for (const int band_rows : {2, 6, 14}) {
    std::vector<float> stacked;
    for (int first = 0; first < whole.height; first += band_rows) {
      const Image band =
          upscaler.upscale_rows(input, first, std::min(band_rows, whole.height - first));
      stacked.insert(stacked.end(), band.rgb.begin(), band.rgb.end());
    }
    EXPECT_EQ(stacked, whole.rgb) << "bands of " << band_rows << " rows";
  }
}

}  // namespace
}  // namespace quicksr
