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
#include "support/random_tensor.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

// fp32 sums of up to a few thousand products in another order (ORT's kernels): values are O(1).
constexpr float kOpTolerance = 1e-5f;

// Inputs in [-1, 1): negative values reach every activation's negative branch.
Tensor signed_input(int height, int width, unsigned seed) {
  Tensor x = test_support::random_tensor(3, height, width, seed);
  for (float& v : x.data) v = 2.0f * v - 1.0f;
  return x;
}

// input -> conv3x3 (3 -> 8) "a" and conv3x3 (3 -> 8 or 1) "b", `op` on them, then 1x1 + depth-to-
// space back to RGB at x2 (ops that upscale by 2 end in a 1x1 to 3 channels).
struct OpCase {
  std::string name;
  std::function<void(Graph&)> add_op;  // appends nodes reading "a" (and "b"), writing "y"
  int b_channels = 8;
  bool upscales = false;
};

GraphNode make_node(OpType op, std::vector<std::string> inputs, std::string output = "y") {
  GraphNode node;
  node.op = op;
  node.name = output + "_node";
  node.inputs = std::move(inputs);
  node.output = std::move(output);
  return node;
}

Conv2d random_conv(int in, int out, int kernel, std::mt19937_64& engine, int groups = 1) {
  Conv2d conv = conv_geometry(in, out, kernel, groups);
  allocate_zero_weights(conv);
  fill_uniform(conv, engine);
  return conv;
}

void append_conv(Graph& graph, const std::string& input, const std::string& output, Conv2d conv) {
  graph.convs.push_back(std::move(conv));
  GraphNode node = make_node(graph.convs.back().transposed ? OpType::kConvTranspose : OpType::kConv,
                             {input}, output);
  node.conv = static_cast<int>(graph.convs.size()) - 1;
  graph.nodes.push_back(std::move(node));
}

Graph op_graph(const OpCase& op_case) {
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

void add_unary(Graph& graph, OpType op, const std::function<void(GraphNode&)>& configure = {}) {
  GraphNode node = make_node(op, {"a"});
  if (configure) configure(node);
  graph.nodes.push_back(node);
}

Conv2d transposed(int in, int out, int kernel, int stride, int pad, int output_padding,
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

std::vector<OpCase> op_cases() {
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

class OnnxGraphOp : public testing::TestWithParam<OpCase> {};

TEST_P(OnnxGraphOp, OnnxRuntimeAndImportMatchTheReferenceRuntime) {
  Model model{.net = op_graph(GetParam()), .provenance = {}};
  ASSERT_NO_THROW(check_graph(std::get<Graph>(model.net)));
  ScratchDir dir;
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
  ScratchDir dir;
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
  ScratchDir dir;
  export_onnx(model, dir / "baseline.onnx");
  const std::vector<OnnxRuntimeRun> runs = {
      {dir / "baseline.onnx", test_support::random_tensor(3, 32, 28, 3)},
      {dir / "baseline.onnx", test_support::random_tensor(3, 23, 37, 4)}};
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
