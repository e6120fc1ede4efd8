// The baseline builders: every graph passes the checker, survives the model file unchanged, has
// the MACs counted by hand for ESPCN and FSRCNN, and SESR's expanded training graph collapses
// into its inference graph. Plus the format-version rules of the graph metadata.
#include "quicksr/baselines.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/graph_check.hpp"
#include "model/graph_json.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/reference.hpp"
#include "support/error_of.hpp"
#include "support/random_tensor.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

float max_abs_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.data.size(), b.data.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < std::min(a.data.size(), b.data.size()); ++i) {
    worst = std::max(worst, std::abs(a.data[i] - b.data[i]));
  }
  return worst;
}

using test_support::error_of;

class BaselineBuilder : public testing::TestWithParam<std::string> {};

TEST_P(BaselineBuilder, ChecksAndRoundTripsThroughTheModelFile) {
  const test_support::TempDir dir;
  const std::filesystem::path path = dir / "baseline.quicksr";
  for (int s : {2, 3, 4}) {
    SCOPED_TRACE(s);
    const Graph graph = build_baseline(GetParam(), {.scale = {s, 1}, .seed = 3});
    EXPECT_EQ(infer_graph_scale(graph), (Scale{s, 1}));
    EXPECT_GT(graph_macs_per_input_pixel(graph), 0.0);
    save_model({.net = graph, .provenance = {}}, path);
    const Model loaded = load_model(path);
    std::filesystem::remove(path);
    const Graph& back = std::get<Graph>(loaded.net);
    EXPECT_EQ(graph_to_json(back), graph_to_json(graph));
    ASSERT_EQ(back.convs.size(), graph.convs.size());
    for (std::size_t i = 0; i < graph.convs.size(); ++i) {
      EXPECT_EQ(back.convs[i].weight, graph.convs[i].weight);
      EXPECT_EQ(back.convs[i].bias, graph.convs[i].bias);
    }
    // The smallest input ERFDN's attention takes (a 7x7 pool after a stride 2): the reference
    // runtime's two runs were most of this test under the sanitizers.
    const Tensor input = test_support::random_tensor(3, 16, 15, 1);
    EXPECT_EQ(max_abs_difference(reference::forward(back, input), reference::forward(graph, input)),
              0.0f);
  }
}

INSTANTIATE_TEST_SUITE_P(All, BaselineBuilder, testing::ValuesIn(baseline_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(Baselines, SeedsDrawDifferentWeightsAndRepeat) {
  const Graph a = build_baseline("abpn", {.scale = {2, 1}, .seed = 1});
  const Graph b = build_baseline("abpn", {.scale = {2, 1}, .seed = 1});
  const Graph c = build_baseline("abpn", {.scale = {2, 1}, .seed = 2});
  EXPECT_EQ(a.convs[0].weight, b.convs[0].weight);
  EXPECT_NE(a.convs[0].weight, c.convs[0].weight);
  // PyTorch's default bound 1/sqrt(fan_in): fan_in of conv0 is 3 * 3 * 3.
  for (float w : a.convs[0].weight) EXPECT_LE(std::abs(w), 1.0f / std::sqrt(27.0f));
}

// MACs per input pixel counted by hand from the definitions in docs/baselines.md.
TEST(Baselines, MacsMatchHandCounts) {
  // ESPCN x2: 5x5 3->64, 3x3 64->32, 3x3 32->12.
  EXPECT_DOUBLE_EQ(graph_macs_per_input_pixel(build_baseline("espcn", {.scale = {2, 1}})),
                   25.0 * 3 * 64 + 9.0 * 64 * 32 + 9.0 * 32 * 12);
  // FSRCNN x3: 5x5 3->56, 1x1 56->12, 4 x 3x3 12->12, 1x1 12->56, 9x9 transposed 56->3 (each
  // input pixel spreads 56 * 3 * 81 products).
  EXPECT_DOUBLE_EQ(graph_macs_per_input_pixel(build_baseline("fsrcnn", {.scale = {3, 1}})),
                   25.0 * 3 * 56 + 56.0 * 12 + 4 * 9.0 * 12 * 12 + 12.0 * 56 + 81.0 * 56 * 3);
}

TEST(Baselines, SesrExpandedCollapsesToTheInferenceGraph) {
  for (const char* name : {"sesr-m3", "sesr-xl"}) {
    SCOPED_TRACE(name);
    const Graph expanded = build_baseline(std::string(name) + "-expanded", {.scale = {3, 1}});
    const Graph collapsed = build_baseline(name, {.scale = {3, 1}});
    // first, m body convs, last and the anchor; adds only for the two long residuals.
    const int blocks = std::string(name) == "sesr-m3" ? 3 : 11;
    EXPECT_EQ(collapsed.convs.size(), static_cast<std::size_t>(blocks + 3));
    const Tensor input = test_support::random_tensor(3, 17, 21, 2);
    EXPECT_LE(max_abs_difference(reference::forward(collapsed, input),
                                 reference::forward(expanded, input)),
              1e-4f);
    EXPECT_LT(graph_macs_per_input_pixel(collapsed), graph_macs_per_input_pixel(expanded));
  }
  // SESR-M3 x3 collapsed, by hand: 5x5 3->16, 3 x 3x3 16->16, 5x5 16->27, anchor 1x1 3->27.
  EXPECT_DOUBLE_EQ(graph_macs_per_input_pixel(build_baseline("sesr-m3", {.scale = {3, 1}})),
                   25.0 * 3 * 16 + 3 * 9.0 * 16 * 16 + 25.0 * 16 * 27 + 3.0 * 27);
}

// A trainer's SESR starts as its anchor: the untrained training form outputs the nearest-neighbour
// upscale of the input, computed here by hand, at every scale (from PyTorch's default init its L1
// to the images was 3x the anchor's and its first ReLUs died in training). Only the last squeeze
// is zeroed: the rest is build_baseline's init, and the other baselines start as built.
TEST(Baselines, SesrTrainingStartsAtItsAnchor) {
  for (const std::string name : {"sesr-m3", "sesr-xl"}) {
    for (int s : {2, 3, 4}) {
      SCOPED_TRACE(name + " x" + std::to_string(s));
      const BaselineOptions options{.scale = {s, 1}, .seed = 4};
      const Graph start = initial_training_graph(name, options);
      EXPECT_EQ(start.architecture, name + "-expanded");
      const Tensor input = test_support::random_tensor(3, 7, 6, 3);
      const Tensor output = reference::forward(start, input);
      ASSERT_EQ(output.height, 7 * s);
      ASSERT_EQ(output.width, 6 * s);
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < output.height; ++y) {
          for (int x = 0; x < output.width; ++x) {
            ASSERT_FLOAT_EQ(output.at(c, y, x), input.at(c, y / s, x / s))
                << c << " " << y << " " << x;
          }
        }
      }
      const Graph built = build_baseline(name + "-expanded", options);
      int changed = 0;
      for (std::size_t i = 0; i < built.convs.size(); ++i) {
        changed += start.convs[i].weight != built.convs[i].weight;
      }
      EXPECT_EQ(changed, 1);
    }
  }
  const Graph xlsr = initial_training_graph("xlsr", {.scale = {2, 1}, .seed = 4});
  const Graph xlsr_built = build_baseline("xlsr", {.scale = {2, 1}, .seed = 4});
  ASSERT_EQ(xlsr.convs.size(), xlsr_built.convs.size());
  for (std::size_t i = 0; i < xlsr.convs.size(); ++i) {
    EXPECT_EQ(xlsr.convs[i].weight, xlsr_built.convs[i].weight) << i;
    EXPECT_EQ(xlsr.convs[i].bias, xlsr_built.convs[i].bias) << i;
  }
}

TEST(Baselines, RejectsUnknownNamesAndScales) {
  EXPECT_NE(error_of([] { build_baseline("srcnn", {}); }).find("known: fsrcnn"), std::string::npos);
  EXPECT_NE(error_of([] {
              build_baseline("xlsr", {.scale = {3, 2}});
            }).find("x1.5"),
            std::string::npos);
}

TEST(GraphFormatVersion, NewOpsNeedVersion2AndFutureVersionsAreRefused) {
  std::vector<bool> has_bias;
  const Graph fsrcnn = build_baseline("fsrcnn", {.scale = {2, 1}});
  std::string json = graph_to_json(fsrcnn);
  ASSERT_NE(json.find("\"version\":2"), std::string::npos) << json;
  EXPECT_NO_THROW(graph_from_json(json, "f", has_bias));
  std::string old = json;
  old.replace(old.find("\"version\":2"), 11, "\"version\":1");
  EXPECT_NE(error_of([&] { graph_from_json(old, "f", has_bias); }).find("needs graph version 2"),
            std::string::npos);
  std::string future = json;
  future.replace(future.find("\"version\":2"), 11, "\"version\":3");
  EXPECT_NE(error_of([&] { graph_from_json(future, "f", has_bias); }).find("not supported"),
            std::string::npos);
  // Graphs of version-1 ops are still written as version 1 (readable by older quicksr).
  EXPECT_EQ(graph_to_json(build_baseline("xlsr", {.scale = {2, 1}})).find("version"),
            std::string::npos);
}

}  // namespace
}  // namespace quicksr
