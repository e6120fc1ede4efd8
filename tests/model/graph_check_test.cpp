// check_graph: shapes, channels and scale inferred through the whole graph, and every file path
// (safetensors load and save) rejecting what it rejects, each with a message naming the problem.
#include "model/graph_check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "support/error_of.hpp"
#include "support/graph_builders.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

using test_support::graph_node;
using test_support::upscaling_graph;

using test_support::error_of;
using test_support::TempDir;

TEST(GraphCheck, InfersIntegerAndFractionalScales) {
  for (int s : {2, 3, 4}) {
    const Graph graph = upscaling_graph(s, {s, 1});
    EXPECT_EQ(infer_graph_scale(graph), (Scale{s, 1}));
    EXPECT_NO_THROW(check_graph(graph));
  }
  // x1.5: space-to-depth(2) halves, a 1x1 conv to 27 channels, depth-to-space(3) triples.
  Graph graph;
  graph.scale = {3, 2};
  graph.convs = {Conv2d::zeros(12, 27, 1)};
  graph.nodes = {graph_node(OpType::kSpaceToDepth, "s2d", {"input"}, "s", 2),
                 graph_node(OpType::kConv, "c", {"s"}, "t", 0),
                 graph_node(OpType::kDepthToSpace, "d2s", {"t"}, "out", 3)};
  graph.output = "out";
  EXPECT_EQ(infer_graph_scale(graph), (Scale{3, 2}));
  EXPECT_NO_THROW(check_graph(graph));
}

TEST(GraphCheck, DeclaredScaleMustBeTheComputedOne) {
  const std::string message = error_of([] { check_graph(upscaling_graph(4, {2, 1})); });
  EXPECT_NE(message.find("declared x2 but computes x4"), std::string::npos) << message;
  // A graph declared x2 that does not upscale at all.
  Graph identity = upscaling_graph(1, {2, 1});
  const std::string same_size = error_of([&] { check_graph(identity); });
  EXPECT_NE(same_size.find("does not upscale"), std::string::npos) << same_size;
}

TEST(GraphCheck, ConcatChannelOverflowIsAnErrorNamingTheNode) {
  // 65536 channels twice: more than the limit (and, repeated, past int).
  Graph graph = upscaling_graph(2, {2, 1});
  graph.convs.push_back(Conv2d::zeros(3, kMaxGraphChannels, 1));
  graph.nodes.insert(graph.nodes.begin(), graph_node(OpType::kConv, "wide", {"input"}, "w", 1));
  graph.nodes.insert(graph.nodes.begin() + 1,
                     graph_node(OpType::kConcat, "cat", {"w", "w", "w", "w"}, "big"));
  const std::string message = error_of([&] { check_graph(graph, GraphWeights::kNotLoadedYet); });
  EXPECT_NE(message.find("\"cat\""), std::string::npos) << message;
  EXPECT_NE(message.find("channels"), std::string::npos) << message;
}

TEST(GraphCheck, SpaceToDepthChannelOverflowIsAnError) {
  Graph graph = upscaling_graph(2, {2, 1});
  graph.convs.push_back(Conv2d::zeros(3, 1024, 1));
  graph.nodes.insert(graph.nodes.begin(), graph_node(OpType::kConv, "wide", {"input"}, "w", 1));
  graph.nodes.insert(graph.nodes.begin() + 1,  // 1024 * 16^2 channels
                     graph_node(OpType::kSpaceToDepth, "s2d", {"w"}, "deep", 16));
  const std::string message = error_of([&] { check_graph(graph, GraphWeights::kNotLoadedYet); });
  EXPECT_NE(message.find("262144 channels"), std::string::npos) << message;
}

TEST(GraphCheck, RejectsStructuralErrors) {
  const auto expect_error = [](Graph graph, const std::string& expected) {
    const std::string message = error_of([&] { check_graph(graph); });
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  };
  Graph channels = upscaling_graph(2, {2, 1});
  channels.convs[0] = Conv2d::zeros(4, 12, 3);
  expect_error(channels, "expects 4 input channels, gets 3");
  Graph undefined = upscaling_graph(2, {2, 1});
  undefined.nodes[1].inputs = {"nowhere"};
  expect_error(undefined, "reads undefined tensor \"nowhere\"");
  Graph twice = upscaling_graph(2, {2, 1});
  twice.nodes[1].output = "features";
  expect_error(twice, "defined twice");
  Graph shrinking = upscaling_graph(2, {2, 1});
  shrinking.convs[0].pad_top = 0;  // a 3x3 conv without padding shrinks the image
  expect_error(shrinking, "not a fixed multiple of the input size");
  Graph weights = upscaling_graph(2, {2, 1});
  weights.convs[0].weight.pop_back();
  expect_error(weights, "weights");
  Graph colours = upscaling_graph(2, {2, 1});
  colours.convs[0] = Conv2d::zeros(3, 16, 3);
  expect_error(colours, "outputs 3 (RGB)");
  Graph index = upscaling_graph(2, {2, 1});
  index.nodes[0].conv = 7;
  expect_error(index, "refers to conv 7");
}

// Version-2 ops: transposed conv geometry, PReLU slope counts, inexact sizes meeting other
// tensors, broadcasting limits and upscales without channel cost.
TEST(GraphCheck, RejectsVersion2Errors) {
  const auto expect_error = [](const Graph& graph, const std::string& expected) {
    const std::string message = error_of([&] { check_graph(graph); });
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  };
  Graph transposed = upscaling_graph(1, {2, 1});  // conv 3 -> 3, then a 2x transposed conv
  Conv2d up = Conv2d::zeros(3, 3, 3);
  up.transposed = true;
  up.stride = 2;  // pads 1 + 1 need output_padding 1 for exactly 2n
  transposed.convs.push_back(up);
  transposed.nodes[1] = graph_node(OpType::kConvTranspose, "up", {"features"}, "out", 1);
  expect_error(transposed, "not kernel - stride + output_padding");
  transposed.convs[1].output_padding = 1;
  EXPECT_NO_THROW(check_graph(transposed));
  transposed.nodes[1].op = OpType::kConv;
  expect_error(transposed, "a transposed conv");

  Graph prelu = upscaling_graph(2, {2, 1});
  prelu.prelus = {{5, std::vector<float>(5, 0.25f)}};
  GraphNode node = graph_node(OpType::kPRelu, "prelu", {"features"}, "p");
  node.prelu = 0;
  prelu.nodes.insert(prelu.nodes.begin() + 1, node);
  prelu.nodes[2].inputs = {"p"};
  expect_error(prelu, "has 5 slopes for 12 channels");

  // A 3x3 stride-1 unpadded conv shrinks by 2: its output cannot be added to its input.
  Graph inexact = upscaling_graph(2, {2, 1});
  Conv2d shrink = Conv2d::zeros(3, 3, 3);
  shrink.pad_top = shrink.pad_left = shrink.pad_bottom = shrink.pad_right = 0;
  inexact.convs.push_back(shrink);
  inexact.nodes.insert(inexact.nodes.begin(),
                       {graph_node(OpType::kConv, "shrink", {"input"}, "s", 1),
                        graph_node(OpType::kAdd, "add", {"s", "input"}, "sum")});
  inexact.nodes[2].inputs = {"sum"};
  expect_error(inexact, "combines feature maps of different shapes");

  Graph broadcast = upscaling_graph(2, {2, 1});
  broadcast.nodes.insert(broadcast.nodes.begin() + 1,
                         graph_node(OpType::kMul, "mul", {"features", "input"}, "m"));
  broadcast.nodes[2].inputs = {"m"};
  expect_error(broadcast, "combines feature maps of different shapes");  // 12 vs 3 channels

  Graph huge = upscaling_graph(2, {2, 1});
  GraphNode resize = graph_node(OpType::kResizeNearest, "resize", {"input"}, "big");
  resize.block_size = 16;
  huge.nodes.insert(huge.nodes.begin(), resize);
  huge.nodes[1].inputs = {"big"};
  expect_error(huge, "implausible resolution change");
}

// Every load and save runs the checker: a saved graph must check, and a file whose metadata
// declares another scale than its graph computes does not load.
TEST(GraphCheck, SaveAndLoadRejectAMismatchedScale) {
  const TempDir dir;
  const std::filesystem::path file = dir / "model.safetensors";
  const Graph x4_declared_x2 = upscaling_graph(4, {2, 1});
  const std::string save =
      error_of([&] { save_model({.net = x4_declared_x2, .provenance = {}}, file); });
  EXPECT_NE(save.find(file.string()), std::string::npos) << save;
  EXPECT_FALSE(std::filesystem::exists(file));

  Graph x4 = upscaling_graph(4, {4, 1});
  save_model({.net = x4, .provenance = {}}, file);
  EXPECT_EQ(load_model(file).scale(), (Scale{4, 1}));
  // Rewrite the scale metadata in place ("4" -> "2", same length, so offsets stay valid).
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::size_t at = bytes.find("\"scale\":\"4\"");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 9] = '2';
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  const std::string load = error_of([&] { load_model(file); });
  EXPECT_EQ(load.rfind(file.string() + ": ", 0), 0u) << load;
  EXPECT_NE(load.find("declared x2 but computes x4"), std::string::npos) << load;
}

// Found by fuzz_onnx_import: an ONNX node name that is not UTF-8 made the save throw nlohmann's
// type_error (`quicksr convert` ended in "internal error"). It is a clear error now.
TEST(GraphCheck, SaveRefusesNamesThatAreNotUtf8) {
  const TempDir dir;
  const std::filesystem::path file = dir / "model.safetensors";
  Graph graph = upscaling_graph(2, {2, 1});
  graph.nodes[0].name = "conv\x8F";
  const std::string message = error_of([&] { save_model({.net = graph, .provenance = {}}, file); });
  EXPECT_NE(message.find("not valid UTF-8"), std::string::npos) << message;
  graph.nodes[0].name = "conv";
  const std::string provenance = error_of([&] {
    save_model({.net = graph, .provenance = {{"source", "\xC3("}}}, file);
  });
  EXPECT_NE(provenance.find(file.string()), std::string::npos) << provenance;
  EXPECT_FALSE(std::filesystem::exists(file));
}

}  // namespace
}  // namespace quicksr
