// forward(Graph) wires nodes by name; compared with the same ops called directly.
#include <gtest/gtest.h>

#include <random>

#include "quicksr/error.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

Conv2d random_conv(int in, int out, int kernel, int groups, unsigned seed) {
  Conv2d conv = Conv2d::zeros(in, out, kernel, groups);
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
  for (float& v : conv.weight) v = dist(engine);
  for (float& v : conv.bias) v = dist(engine);
  return conv;
}

GraphNode node(OpType op, std::string name, std::vector<std::string> inputs, std::string output) {
  GraphNode n;
  n.op = op;
  n.name = std::move(name);
  n.inputs = std::move(inputs);
  n.output = std::move(output);
  return n;
}

// XLSR-like: conv 3->6, relu, concat with the input, grouped conv 9->12 (3 groups), add a 1x1
// of the input, depth-to-space 2 (DCR), clip.
Graph small_graph() {
  Graph g;
  g.architecture = "test";
  g.scale = {2, 1};
  g.convs = {random_conv(3, 6, 3, 1, 1), random_conv(9, 12, 3, 3, 2), random_conv(3, 12, 1, 1, 3)};
  GraphNode conv0 = node(OpType::kConv, "conv0", {"input"}, "a");
  conv0.conv = 0;
  GraphNode conv1 = node(OpType::kConv, "conv1", {"c"}, "d");
  conv1.conv = 1;
  GraphNode conv2 = node(OpType::kConv, "conv2", {"input"}, "e");
  conv2.conv = 2;
  GraphNode d2s = node(OpType::kDepthToSpace, "d2s", {"f"}, "g");
  d2s.block_size = 2;
  d2s.order = ChannelOrder::kDCR;
  GraphNode clip = node(OpType::kClip, "clip", {"g"}, "out");
  clip.clip_min = 0.0f;
  clip.clip_max = 1.0f;
  g.nodes = {conv0,
             node(OpType::kRelu, "relu", {"a"}, "b"),
             node(OpType::kConcat, "concat", {"input", "b"}, "c"),
             conv1,
             conv2,
             node(OpType::kAdd, "add", {"d", "e"}, "f"),
             d2s,
             clip};
  g.output = "out";
  return g;
}

Tensor random_rgb(int h, int w) {
  std::mt19937 engine(7);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Tensor t(3, h, w);
  for (float& v : t.data) v = unit(engine);
  return t;
}

TEST(GraphForward, MatchesDirectOpCalls) {
  const Graph g = small_graph();
  const Tensor input = random_rgb(5, 4);
  using namespace reference;
  const Tensor b = clip(conv2d(input, g.convs[0]), 0.0f, 1e30f);
  const Tensor d = conv2d(concat({&input, &b}), g.convs[1]);
  const Tensor expected =
      clip(depth_to_space(add(d, conv2d(input, g.convs[2])), 2, ChannelOrder::kDCR), 0.0f, 1.0f);
  const Tensor actual = forward(g, input);
  EXPECT_EQ(actual.channels, 3);
  EXPECT_EQ(actual.height, 10);
  EXPECT_EQ(actual.data, expected.data);
  EXPECT_EQ(forward(Model{.net = g, .provenance = {}}, input).data, expected.data);
}

TEST(GraphForward, MissingTensorNamesTheNode) {
  Graph g = small_graph();
  g.nodes[5].inputs[1] = "nowhere";
  try {
    reference::forward(g, random_rgb(4, 4));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("add"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("nowhere"), std::string::npos) << error.what();
  }
}

TEST(GraphForward, ShapeMismatchNamesTheNode) {
  Graph g = small_graph();
  g.nodes[5].inputs = {"d", "input"};  // 12 channels + 3 channels
  try {
    reference::forward(g, random_rgb(4, 4));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("\"add\""), std::string::npos) << error.what();
  }
  Graph wrong_conv = small_graph();
  wrong_conv.nodes[0].inputs = {"a"};  // "a" does not exist yet
  EXPECT_THROW(reference::forward(wrong_conv, random_rgb(4, 4)), Error);
}

TEST(GraphForward, QuickSRNetModelDispatches) {
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small({3, 1}), 5);
  const Tensor input = random_rgb(4, 3);
  EXPECT_EQ(reference::forward(Model{.net = net, .provenance = {}}, input).data,
            reference::forward(net, input).data);
}

}  // namespace
}  // namespace quicksr
