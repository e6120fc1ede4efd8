// The reference runtime's graph ops on small inputs whose results are worked out by hand (ONNX
// Runtime checks them on random inputs in tests/onnx/onnx_graph_ops_test.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "quicksr/error.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

Tensor grid(int channels, int height, int width, std::vector<float> values) {
  Tensor t(channels, height, width);
  t.data = std::move(values);
  return t;
}

GraphNode unary_node(OpType op) {
  GraphNode node;
  node.op = op;
  return node;
}

TEST(GraphOps, ConvTransposeByHand) {
  // 2x2 input, 3x3 kernel 1..9, stride 2, padding 1, output padding 1: 4x4 output where output
  // (y, x) sums in(iy, ix) * w(y + 1 - 2 iy, x + 1 - 2 ix).
  Conv2d conv;
  conv.in_channels = conv.out_channels = 1;
  conv.transposed = true;
  conv.stride = 2;
  conv.output_padding = 1;
  for (int i = 1; i <= 9; ++i) conv.weight.push_back(static_cast<float>(i));
  conv.bias = {0.5f};
  const Tensor out = reference::conv_transpose2d(grid(1, 2, 2, {1, 2, 3, 4}), conv);
  ASSERT_EQ(out.height, 4);
  ASSERT_EQ(out.width, 4);
  EXPECT_FLOAT_EQ(out.at(0, 0, 0), 0.5f + 1 * 5);
  EXPECT_FLOAT_EQ(out.at(0, 1, 1), 0.5f + 1 * 9 + 2 * 7 + 3 * 3 + 4 * 1);
  EXPECT_FLOAT_EQ(out.at(0, 0, 3), 0.5f + 2 * 6);
  EXPECT_FLOAT_EQ(out.at(0, 3, 3), 0.5f + 4 * 9);
}

TEST(GraphOps, ActivationsByHand) {
  Graph graph;
  graph.prelus = {{2, {0.25f, 2.0f}}};
  const Tensor x = grid(2, 1, 2, {-2, 3, -1, 4});
  GraphNode prelu = unary_node(OpType::kPRelu);
  prelu.prelu = 0;
  EXPECT_EQ(reference::unary(x, prelu, graph).data, (std::vector<float>{-0.5f, 3, -2, 4}));
  GraphNode leaky = unary_node(OpType::kLeakyRelu);
  leaky.alpha = 0.1f;
  EXPECT_EQ(reference::unary(x, leaky, graph).data, (std::vector<float>{-0.2f, 3, -0.1f, 4}));
  const Tensor sigmoid = reference::unary(x, unary_node(OpType::kSigmoid), graph);
  EXPECT_FLOAT_EQ(sigmoid.data[0], 1.0f / (1.0f + std::exp(2.0f)));
  EXPECT_FLOAT_EQ(reference::unary(grid(1, 1, 1, {0}), unary_node(OpType::kSigmoid), graph).data[0],
                  0.5f);
  EXPECT_FLOAT_EQ(reference::unary(x, unary_node(OpType::kTanh), graph).data[1], std::tanh(3.0f));
}

TEST(GraphOps, MulAndSubBroadcastAOneChannelOperand) {
  const Tensor a = grid(2, 1, 2, {1, 2, 3, 4});
  const Tensor gate = grid(1, 1, 2, {10, 100});
  EXPECT_EQ(reference::binary(a, gate, OpType::kMul).data, (std::vector<float>{10, 200, 30, 400}));
  EXPECT_EQ(reference::binary(gate, a, OpType::kSub).data, (std::vector<float>{9, 98, 7, 96}));
  EXPECT_THROW(reference::binary(a, gate, OpType::kAdd), Error);
}

TEST(GraphOps, PoolsByHand) {
  const Tensor x = grid(1, 2, 2, {1, 2, 3, 4});
  Pool2d window{
      .kernel = 3, .stride = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1};
  EXPECT_FLOAT_EQ(reference::pool(x, window, OpType::kAveragePool).at(0, 0, 0), 10.0f / 4);
  EXPECT_FLOAT_EQ(reference::pool(x, window, OpType::kMaxPool).at(0, 1, 0), 4.0f);
  window.count_include_pad = true;
  EXPECT_FLOAT_EQ(reference::pool(x, window, OpType::kAveragePool).at(0, 0, 0), 10.0f / 9);
  // 7x7 stride 3 without padding: floor((10 - 7) / 3) + 1 = 2 outputs per axis.
  const Tensor big(1, 10, 10, 1.0f);
  const Tensor pooled = reference::pool(big, {.kernel = 7, .stride = 3}, OpType::kMaxPool);
  EXPECT_EQ(pooled.height, 2);
  EXPECT_EQ(pooled.width, 2);
}

TEST(GraphOps, ResizesByHand) {
  const Tensor x = grid(1, 2, 2, {0, 1, 2, 3});
  EXPECT_EQ(reference::resize_nearest(x, 2).data,
            (std::vector<float>{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}));
  // Half-pixel sources of a 2 -> 4 resize: -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to
  // 1); x holds 2 y + x, so the output is 2 * source_y + source_x.
  const Tensor up = reference::resize_bilinear(x, 4, 4);
  EXPECT_FLOAT_EQ(up.at(0, 0, 1), 0.25f);
  EXPECT_FLOAT_EQ(up.at(0, 1, 2), 2 * 0.25f + 0.75f);
  EXPECT_FLOAT_EQ(up.at(0, 3, 3), 3.0f);
  // 4 -> 2: sources 0.5 and 2.5 of a ramp.
  const Tensor down = reference::resize_bilinear(grid(1, 1, 4, {0, 1, 2, 3}), 1, 2);
  EXPECT_EQ(down.data, (std::vector<float>{0.5f, 2.5f}));
}

}  // namespace
}  // namespace quicksr
