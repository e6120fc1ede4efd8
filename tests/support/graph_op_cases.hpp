#pragma once
// One small graph per graph op (format version 2): input -> two 3x3 convs "a" and "b", the op, then
// back to RGB at x2. The ONNX tests export them to ONNX Runtime; the trainer's tests run them in
// LibTorch; both compare with the reference runtime.
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "model/layout.hpp"
#include "quicksr/model.hpp"

namespace quicksr::test_support {

// input -> conv3x3 (3 -> 8) "a" and conv3x3 (3 -> 8 or 1) "b", `op` on them, then 1x1 + depth-to-
// space back to RGB at x2 (ops that upscale by 2 end in a 1x1 to 3 channels).
struct OpCase {
  std::string name;
  std::function<void(Graph&)> add_op;  // appends nodes reading "a" (and "b"), writing "y"
  int b_channels = 8;
  bool upscales = false;
};

inline GraphNode make_node(OpType op, std::vector<std::string> inputs, std::string output = "y") {
  GraphNode node;
  node.op = op;
  node.name = output + "_node";
  node.inputs = std::move(inputs);
  node.output = std::move(output);
  return node;
}

inline Conv2d random_conv(int in, int out, int kernel, std::mt19937_64& engine, int groups = 1) {
  Conv2d conv = conv_geometry(in, out, kernel, groups);
  allocate_zero_weights(conv);
  fill_uniform(conv, engine);
  return conv;
}

inline void append_conv(Graph& graph, const std::string& input, const std::string& output,
                        Conv2d conv) {
  graph.convs.push_back(std::move(conv));
  GraphNode node = make_node(graph.convs.back().transposed ? OpType::kConvTranspose : OpType::kConv,
                             {input}, output);
  node.conv = static_cast<int>(graph.convs.size()) - 1;
  graph.nodes.push_back(std::move(node));
}

inline Graph op_graph(const OpCase& op_case) {
  std::mt19937_64 engine(7);
  Graph graph;
  graph.architecture = "op-" + op_case.name;
  graph.scale = {2, 1};
  append_conv(graph, "input", "a", random_conv(3, 8, 3, engine));
  append_conv(graph, "input", "b", random_conv(3, op_case.b_channels, 3, engine));
  op_case.add_op(graph);
  if (op_case.upscales) {
    append_conv(graph, "y", "out", random_conv(8, 3, 1, engine));
  } else {
    append_conv(graph, "y", "z", random_conv(8, 12, 1, engine));
    GraphNode shuffle = make_node(OpType::kDepthToSpace, {"z"}, "out");
    shuffle.block_size = 2;
    graph.nodes.push_back(shuffle);
  }
  graph.output = "out";
  return graph;
}

inline void add_unary(Graph& graph, OpType op,
                      const std::function<void(GraphNode&)>& configure = {}) {
  GraphNode node = make_node(op, {"a"});
  if (configure) configure(node);
  graph.nodes.push_back(node);
}

inline Conv2d transposed(int in, int out, int kernel, int stride, int pad, int output_padding,
                         int groups) {
  std::mt19937_64 engine(11);
  Conv2d conv = conv_geometry(in, out, kernel, groups);
  conv.transposed = true;
  conv.stride = stride;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = pad;
  conv.output_padding = output_padding;
  allocate_zero_weights(conv);
  fill_uniform(conv, engine);
  return conv;
}

inline std::vector<OpCase> op_cases() {
  const auto pool = [](OpType op, Pool2d window) {
    return [op, window](Graph& graph) {
      add_unary(graph, op, [&](GraphNode& node) { node.pool = window; });
    };
  };
  return {
      {"sigmoid", [](Graph& g) { add_unary(g, OpType::kSigmoid); }},
      {"tanh", [](Graph& g) { add_unary(g, OpType::kTanh); }},
      {"leaky_relu",
       [](Graph& g) { add_unary(g, OpType::kLeakyRelu, [](GraphNode& n) { n.alpha = 0.2f; }); }},
      {"prelu_per_channel",
       [](Graph& g) {
         g.prelus.push_back({8, {0.1f, -0.2f, 0.3f, 0.25f, 0.5f, 1.5f, 0.0f, 0.7f}});
         add_unary(g, OpType::kPRelu, [](GraphNode& n) { n.prelu = 0; });
       }},
      {"prelu_shared",
       [](Graph& g) {
         g.prelus.push_back({1, {0.3f}});
         add_unary(g, OpType::kPRelu, [](GraphNode& n) { n.prelu = 0; });
       }},
      {"mul",
       [](Graph& g) {
         g.nodes.push_back(make_node(OpType::kMul, {"a", "b"}));
       }},
      {"mul_broadcast_channel",
       [](Graph& g) {
         g.nodes.push_back(make_node(OpType::kMul, {"b", "a"}));
       },
       1},
      {"sub",
       [](Graph& g) {
         g.nodes.push_back(make_node(OpType::kSub, {"a", "b"}));
       }},
      {"sub_broadcast_channel",
       [](Graph& g) {
         g.nodes.push_back(make_node(OpType::kSub, {"a", "b"}));
       },
       1},
      {"average_pool_exclude_pad", pool(OpType::kAveragePool, {.kernel = 3,
                                                               .stride = 1,
                                                               .pad_top = 1,
                                                               .pad_left = 1,
                                                               .pad_bottom = 1,
                                                               .pad_right = 1})},
      {"average_pool_include_pad", pool(OpType::kAveragePool, {.kernel = 3,
                                                               .stride = 1,
                                                               .pad_top = 1,
                                                               .pad_left = 1,
                                                               .pad_bottom = 1,
                                                               .pad_right = 1,
                                                               .count_include_pad = true})},
      {"max_pool", pool(OpType::kMaxPool, {.kernel = 3,
                                           .stride = 1,
                                           .pad_top = 1,
                                           .pad_left = 1,
                                           .pad_bottom = 1,
                                           .pad_right = 1})},
      {"conv_transpose_k4_s2",
       [](Graph& g) { append_conv(g, "a", "y", transposed(8, 8, 4, 2, 1, 0, 1)); }, 8, true},
      {"conv_transpose_k3_s2_grouped",
       [](Graph& g) { append_conv(g, "a", "y", transposed(8, 8, 3, 2, 1, 1, 2)); }, 8, true},
      {"resize_nearest",
       [](Graph& g) {
         GraphNode node = make_node(OpType::kResizeNearest, {"a"});
         node.block_size = 2;
         g.nodes.push_back(node);
       },
       8, true},
      // ESA's pattern: a stride-2 unpadded conv and a 7x7 stride-3 max pool shrink the map
      // (sizes that depend on rounding), a bilinear resize restores the size of "a".
      {"strided_pool_resize_bilinear",
       [](Graph& g) {
         std::mt19937_64 engine(3);
         Conv2d strided = random_conv(8, 8, 3, engine);
         strided.stride = 2;
         strided.pad_top = strided.pad_left = strided.pad_bottom = strided.pad_right = 0;
         append_conv(g, "a", "s", strided);
         GraphNode pool = make_node(OpType::kMaxPool, {"s"}, "p");
         pool.pool = {.kernel = 7, .stride = 3};
         g.nodes.push_back(pool);
         g.nodes.push_back(make_node(OpType::kResizeBilinear, {"p", "a"}, "r"));
         g.nodes.push_back(make_node(OpType::kMul, {"a", "r"}));
       }},
  };
}

}  // namespace quicksr::test_support
