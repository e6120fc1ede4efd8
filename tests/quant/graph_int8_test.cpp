// INT8 general graphs: the integer reference runtime against values computed by hand (add, concat
// and mul requantisation with round-half-to-even, a grouped conv with its fused ReLU, the tanh,
// LeakyReLU and sigmoid tables, max pool, bilinear resize), the INT8 form of graphs, QuantSim
// against the integer runtime, the model file round trip and the refusal of ops the INT8 path
// does not run (docs/quantization.md "General graphs").
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "quicksr/baselines.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/reference.hpp"
#include "support/error_of.hpp"
#include "support/graph_builders.hpp"
#include "support/random_tensor.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using test_support::error_of;
using test_support::graph_node;

constexpr ActivationEncoding kImage{};  // scale 1/255, zero point 0

// A 3x1x1 u8 image.
U8Tensor pixel(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  U8Tensor image(3, 1, 1);
  image.data = {r, g, b};
  return image;
}

// sum = add(input, input); out = depth_to_space(concat(sum, input, sum, input), 2).
QuantizedGraph add_concat_graph() {
  QuantizedGraph net;
  Graph& graph = net.graph;
  graph.architecture = "add-concat";
  graph.scale = Scale{2, 1};
  graph.nodes = {graph_node(OpType::kAdd, "add", {"input", "input"}, "sum"),
                 graph_node(OpType::kConcat, "concat", {"sum", "input", "sum", "input"}, "joined"),
                 graph_node(OpType::kDepthToSpace, "shuffle", {"joined"}, "out", 2)};
  graph.output = "out";
  // input, sum, joined, out (the shuffle keeps the concat's encoding).
  const ActivationEncoding joined{2.0f / 255.0f, 0};
  net.encodings = {kImage, {4.0f / 255.0f, 10}, joined, joined};
  return net;
}

TEST(GraphInt8Test, AddAndConcatRequantizeWithRoundHalfToEven) {
  // sum = 10 + nearbyint(q / 2) (multiplier (1/255) / (4/255) = 0.25 per operand):
  //   q = 1, 255, 7 -> 0.5, 127.5, 3.5 -> 10, 138, 14.
  // concat to scale 2/255, zero point 0: sum values (q - 10) * 2 = 0, 256 -> 255, 8; input values
  //   q * 0.5 = 0.5, 127.5, 3.5 -> 0, 128, 4.
  // channels [0 255 8 | 0 128 4 | 0 255 8 | 0 128 4]; depth-to-space (CRD) puts channel
  // 4c + 2dy + dx at (dy, dx) of colour c.
  const U8Tensor out = quant::forward(add_concat_graph(), pixel(1, 255, 7));
  ASSERT_EQ(out.channels, 3);
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.width, 2);
  EXPECT_EQ(out.data, (std::vector<std::uint8_t>{0, 255, 8, 0, 128, 4, 0, 255, 8, 0, 128, 4}));
}

// conv 1x1 3 -> 12 in 3 groups (output o reads input channel o / 4), s8 weight o - 6, scale 1/8,
// bias o; ReLU fused; depth-to-space(2).
QuantizedGraph grouped_conv_graph() {
  QuantizedGraph net;
  Graph& graph = net.graph;
  graph.architecture = "grouped";
  graph.scale = Scale{2, 1};
  Conv2d conv = Conv2d::zeros(3, 12, 1, 3);
  conv.weight.clear();
  conv.bias.clear();
  graph.convs = {conv};
  graph.nodes = {graph_node(OpType::kConv, "conv", {"input"}, "pre", 0),
                 graph_node(OpType::kRelu, "relu", {"pre"}, "act"),
                 graph_node(OpType::kDepthToSpace, "shuffle", {"act"}, "out", 2)};
  graph.output = "out";
  QConv2d q;
  q.in_channels = 3;
  q.out_channels = 12;
  q.kernel_h = q.kernel_w = 1;
  q.pad_top = q.pad_left = q.pad_bottom = q.pad_right = 0;
  q.groups = 3;
  q.weight_scale = {1.0f / 8.0f};
  for (int o = 0; o < 12; ++o) {
    q.weight.push_back(static_cast<std::int8_t>(o - 6));
    q.bias.push_back(o);
  }
  net.convs = {q};
  net.encodings = {kImage, kImage, kImage};  // input, act (the conv is fused), out
  return net;
}

TEST(GraphInt8Test, GroupedConvWithFusedReluMatchesHandComputedValues) {
  // acc[o] = o + (o - 6) * x[o / 4] with x = 10, 20, 30; q = max(0, nearbyint(acc / 8)):
  //   o 0..3: -60 -49 -38 -27 -> 0;  o 4..7: -36 -15 6 27 -> 0 0 1 3 (0.75, 3.375);
  //   o 8..11: 68 99 130 161 -> 8 (8.5, half to even) 12 16 20.
  const U8Tensor out = quant::forward(grouped_conv_graph(), pixel(10, 20, 30));
  EXPECT_EQ(out.data, (std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 1, 3, 8, 12, 16, 20}));
  EXPECT_EQ(int8_layout(grouped_conv_graph().graph).tensors,
            (std::vector<std::string>{"input", "act", "out"}));
}

GraphNode activation_node(OpType op, float alpha = 0.01f) {
  GraphNode node = graph_node(op, "activation", {"x"}, "y");
  node.alpha = alpha;
  return node;
}

// The table entries `expected` (u8 input level, u8 output level) of `op` from `input` to `output`.
void expect_table(const GraphNode& node, const ActivationEncoding& input,
                  const ActivationEncoding& output,
                  const std::vector<std::pair<int, int>>& expected) {
  const std::array<std::uint8_t, 256> table = quant::activation_table(node, input, output);
  for (const auto& [q, level] : expected) {
    EXPECT_EQ(table[static_cast<std::size_t>(q)], level) << "input level " << q;
  }
}

TEST(GraphInt8Test, TanhTableIsTheRoundedTanhOfEachInputLevel) {
  // Input scale 0.02, zero point 128; output scale 0.01: t = tanh(0.02 (q - 128)) / 0.01.
  //   q = 0: tanh(-2.56) = -0.98812 -> -98.81 -> -99;  q = 100: tanh(-0.56) = -0.50798 -> -51;
  //   q = 128: 0;  q = 140: tanh(0.24) = 0.23550 -> 24;  q = 178: tanh(1) = 0.76159 -> 76;
  //   q = 255: tanh(2.54) = 0.98764 -> 99. Zero point 100 adds 100; zero point 50 adds 50 and
  //   clamps -99 + 50 to 0.
  const ActivationEncoding input{0.02f, 128};
  const GraphNode tanh = activation_node(OpType::kTanh);
  expect_table(tanh, input, {0.01f, 100},
               {{0, 1}, {100, 49}, {128, 100}, {140, 124}, {178, 176}, {255, 199}});
  expect_table(tanh, input, {0.01f, 50},
               {{0, 0}, {100, 0}, {128, 50}, {140, 74}, {178, 126}, {255, 149}});
}

TEST(GraphInt8Test, LeakyReluTableIsTheRoundedLeakyReluOfEachInputLevel) {
  // Input scale 0.02, zero point 128; slope 0.05; output scale 0.01, zero point 100:
  //   q = 0: -2.56 -> -0.128 -> -12.8 -> -13 + 100 = 87;  q = 28: -2 -> -0.1 -> -10 -> 90;
  //   q = 128: 0 -> 100;  q = 153: 0.5 -> 50 -> 150;  q = 178: 1 -> 100 -> 200;
  //   q = 255: 2.54 -> 254 -> 354, clamped to 255.
  expect_table(activation_node(OpType::kLeakyRelu, 0.05f), {0.02f, 128}, {0.01f, 100},
               {{0, 87}, {28, 90}, {128, 100}, {153, 150}, {178, 200}, {255, 255}});
}

TEST(GraphInt8Test, SigmoidTableIsTheRoundedSigmoidOfEachInputLevel) {
  // Input scale 0.05, zero point 100; output scale 1/256, zero point 0: 256 / (1 + e^-x):
  //   q = 0: x = -5: 1.7134 -> 2;  q = 80: x = -1: 68.849 -> 69;  q = 100: 128;
  //   q = 120: x = 1: 187.151 -> 187;  q = 255: x = 7.75: 255.89 -> 256, clamped to 255.
  expect_table(activation_node(OpType::kSigmoid), {0.05f, 100}, {1.0f / 256.0f, 0},
               {{0, 2}, {80, 69}, {100, 128}, {120, 187}, {255, 255}});
}

// A 1 x 1 x values.size() u8 tensor (or `channels` x 1 x 1).
U8Tensor row(std::vector<std::uint8_t> values) {
  U8Tensor x(1, 1, static_cast<int>(values.size()));
  x.data = std::move(values);
  return x;
}

TEST(GraphInt8Test, MulRequantizesTheProductOfTheCentredLevelsWithTiesToEven) {
  // a: scale 1/64, zero point 10; b: scale 1/64, zero point 0; out: scale 1/2048, zero point 20.
  // M = (1/64)^2 / (1/2048) = 0.5 exactly; q = 20 + nearbyint((a - 10) * b * 0.5):
  //   1 * 1 -> 0.5 -> 0;  3 * 3 -> 4.5 -> 4;  21 * 21 -> 220.5 -> 220;  0 * 200 -> 0;
  //   -5 * 3 -> -7.5 -> -8;  64 * 10 -> 320 -> 340, clamped to 255.
  const ActivationEncoding a{1.0f / 64.0f, 10}, b{1.0f / 64.0f, 0}, out{1.0f / 2048.0f, 20};
  const U8Tensor product =
      quant::multiply(row({11, 13, 31, 10, 5, 74}), a, row({1, 3, 21, 200, 3, 10}), b, out);
  EXPECT_EQ(product.data, (std::vector<std::uint8_t>{20, 24, 240, 20, 12, 255}));
  // A 1-channel operand is broadcast over the other's channels: (2, 4) * 3 -> 3, 6.
  U8Tensor two_channels(2, 1, 1);
  two_channels.data = {12, 14};
  const U8Tensor broadcast = quant::multiply(row({3}), b, two_channels, a, out);
  EXPECT_EQ(broadcast.channels, 2);
  EXPECT_EQ(broadcast.data, (std::vector<std::uint8_t>{23, 26}));
}

TEST(GraphInt8Test, MaxPoolTakesTheLargestLevelOfEachWindowSkippingPadding) {
  U8Tensor x(1, 3, 4);
  x.data = {1, 9, 2,  7,  //
            4, 3, 8,  0,  //
            6, 5, 10, 11};
  const U8Tensor plain = quant::max_pool(x, {.kernel = 2, .stride = 1});
  EXPECT_EQ(plain.height, 2);
  EXPECT_EQ(plain.width, 3);
  EXPECT_EQ(plain.data, (std::vector<std::uint8_t>{9, 9, 8, 6, 10, 11}));
  // 3x3, stride 2, padding 1 all round: windows rows {0, 1} and {1, 2}, columns {0, 1} and
  // {1, 2, 3}.
  const U8Tensor padded = quant::max_pool(
      x, {.kernel = 3, .stride = 2, .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1});
  EXPECT_EQ(padded.height, 2);
  EXPECT_EQ(padded.width, 2);
  EXPECT_EQ(padded.data, (std::vector<std::uint8_t>{9, 9, 6, 11}));
}

TEST(GraphInt8Test, BilinearResizeUsesElevenBitWeightsAndRoundsHalfToEven) {
  // 2 -> 4 columns: source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1), upper
  // weights 0, 512, 1536, 0 of 2048. [2, 4]: 2, (1536 * 2 + 512 * 4) / 2048 = 2.5 -> 2,
  // (512 * 2 + 1536 * 4) / 2048 = 3.5 -> 4, 4.
  EXPECT_EQ(quant::resize_bilinear(row({2, 4}), 1, 4).data,
            (std::vector<std::uint8_t>{2, 2, 4, 4}));
  // 2x2 -> 4x4 of [[0, 100], [200, 255]] (rows and columns weighted as above): row 0 is 0, 25,
  // 75, 100; row 3 is 200, 213.75, 241.25, 255; row 1 is 0.75 row 0 + 0.25 row 3 (50, 72.1875,
  // 116.5625, 138.75), row 2 is 0.25 row 0 + 0.75 row 3 (150, 166.5625, 199.6875, 216.25).
  U8Tensor square(1, 2, 2);
  square.data = {0, 100, 200, 255};
  EXPECT_EQ(quant::resize_bilinear(square, 4, 4).data,
            (std::vector<std::uint8_t>{0, 25, 75, 100, 50, 72, 117, 139, 150, 167, 200, 216, 200,
                                       214, 241, 255}));
  // 5 -> 3 columns (not dyadic): positions 1/3, 2, 11/3; upper weights nearbyint(2048 / 3) = 683,
  // 0, nearbyint(4096 / 3) = 1365. [0, 192, 77, 10, 130]: 683 * 192 / 2048 = 64.03 -> 64, 77,
  // (683 * 10 + 1365 * 130) / 2048 = 89.98 -> 90.
  EXPECT_EQ(quant::resize_bilinear(row({0, 192, 77, 10, 130}), 1, 3).data,
            (std::vector<std::uint8_t>{64, 77, 90}));
}

// t = tanh(input) at scale 1/128; out = depth_to_space(concat(t, t, t, t), 2) (the concat keeps
// the scale, so it copies).
QuantizedGraph tanh_graph() {
  QuantizedGraph net;
  Graph& graph = net.graph;
  graph.architecture = "tanh";
  graph.scale = Scale{2, 1};
  graph.nodes = {graph_node(OpType::kTanh, "tanh", {"input"}, "t"),
                 graph_node(OpType::kConcat, "concat", {"t", "t", "t", "t"}, "joined"),
                 graph_node(OpType::kDepthToSpace, "shuffle", {"joined"}, "out", 2)};
  graph.output = "out";
  const ActivationEncoding t{1.0f / 128.0f, 0};
  net.encodings = {kImage, t, t, t};
  return net;
}

TEST(GraphInt8Test, TanhLooksUpTheRoundedTanhOfTheInputLevels) {
  // 128 tanh(q / 255): q = 64: 31.47 -> 31; q = 191: 81.22 -> 81; q = 255: 97.48 -> 97. The
  // concat and the shuffle (CRD, channel 4c + 2dy + dx) keep the order, as in the add test.
  const U8Tensor out = quant::forward(tanh_graph(), pixel(64, 191, 255));
  EXPECT_EQ(out.data, (std::vector<std::uint8_t>{31, 81, 97, 31, 81, 97, 31, 81, 97, 31, 81, 97}));
}

TEST(GraphInt8Test, ClipBoundsAreTheLevelsOfTheClipRange) {
  const ActivationEncoding encoding{0.01f, 20};
  const quant::ClampBounds bounds = quant::clip_bounds(encoding, -0.1f, 0.5f);
  EXPECT_EQ(bounds.lo, 10);  // 20 - 10
  EXPECT_EQ(bounds.hi, 70);  // 20 + 50
  const quant::ClampBounds wide = quant::clip_bounds(encoding, -1.0f, 5.0f);
  EXPECT_EQ(wide.lo, 0);
  EXPECT_EQ(wide.hi, 255);
  EXPECT_EQ(quant::relu1_bounds(encoding).hi, quant::clip_bounds(encoding, 0.0f, 1.0f).hi);
}

TEST(GraphInt8Test, RefusesOpsItDoesNotRunNamingThem) {
  // The paper's naive x1.5 (x3, then a 2x2 average pool): average pooling has no INT8 rule.
  Graph graph = build_baseline("abpn", {.scale = Scale{3, 1}});
  GraphNode pool = graph_node(OpType::kAveragePool, "pool", {graph.output}, "pooled");
  graph.nodes.push_back(pool);
  graph.output = "pooled";
  graph.scale = Scale{3, 2};
  EXPECT_EQ(error_of([&] { quant::int8_form(graph); }),
            "INT8 graphs do not support op 'average_pool' (node 'pool')");
}

TEST(GraphInt8Test, Int8FormMovesTheFinalClipBeforeTheShuffleAndCollapsesSesr) {
  // XLSR ends with depth-to-space then clip: the clip moves before the shuffle (and fuses into
  // the last conv); the graph computes the same in float.
  const Graph xlsr = build_baseline("xlsr", {.scale = Scale{2, 1}, .seed = 3});
  const Graph form = quant::int8_form(xlsr);
  EXPECT_EQ(form.nodes.back().op, OpType::kDepthToSpace);
  EXPECT_EQ(form.output, xlsr.output);
  const Tensor input = test_support::random_tensor(3, 9, 7, 5);
  const Tensor a = reference::forward(xlsr, input);
  const Tensor b = reference::forward(form, input);
  ASSERT_EQ(a.data.size(), b.data.size());
  for (std::size_t i = 0; i < a.data.size(); ++i) EXPECT_FLOAT_EQ(a.data[i], b.data[i]);
  const Graph sesr = quant::int8_form(build_baseline("sesr-m5-expanded", {}));
  EXPECT_EQ(sesr.architecture, "sesr-m5");
  EXPECT_EQ(sesr.convs.size(), build_baseline("sesr-m5", {}).convs.size());
}

// Random images: calibration and test inputs for the baselines with random weights.
std::vector<Tensor> images(int count, std::uint32_t seed, int height = 12, int width = 10) {
  std::vector<Tensor> result;
  for (int i = 0; i < count; ++i) {
    result.push_back(
        test_support::random_tensor(3, height, width, seed + static_cast<std::uint32_t>(i)));
  }
  return result;
}

// Quantizes `name` (x2, random weights) at each of `granularities`, calibrated on `calibration`,
// and expects QuantSim within 1 LSB of the integer runtime on >= 99.9 % of the output values of
// `inputs`.
void expect_quantsim_agrees(const std::string& name, const std::vector<Tensor>& calibration,
                            const std::vector<Tensor>& inputs,
                            const std::vector<WeightGranularity>& granularities) {
  const Graph graph = build_baseline(name, {.scale = Scale{2, 1}, .seed = 1});
  for (const WeightGranularity granularity : granularities) {
    quant::PtqOptions options;
    options.granularity = granularity;
    const QuantizedGraph q = quant::post_training_quantize(graph, calibration, options);
    const ActivationEncoding& output = quant::output_encoding(q);
    std::size_t values = 0, within_one = 0;
    for (const Tensor& lr : inputs) {
      const U8Tensor integer = quant::forward(q, quant::to_u8(lr));
      const Tensor simulated = quant::simulate(q, lr);
      ASSERT_EQ(simulated.data.size(), integer.data.size()) << name;
      for (std::size_t i = 0; i < integer.data.size(); ++i) {
        const long sim = std::lround(simulated.data[i] / output.scale) + output.zero_point;
        within_one += std::labs(sim - integer.data[i]) <= 1;
        ++values;
      }
    }
    EXPECT_GE(static_cast<double>(within_one), 0.999 * static_cast<double>(values)) << name;
  }
}

TEST(GraphInt8Test, QuantSimAgreesWithTheIntegerRuntimeOnTheBaselines) {
  for (const char* name : {"xlsr", "sesr-m5", "abpn", "abpn-noresidual", "espcn", "fsrcnn"}) {
    expect_quantsim_agrees(name, images(2, 10), images(3, 20),
                           {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor});
  }
}

TEST(GraphInt8Test, QuantSimAgreesWithTheIntegerRuntimeOnErfdn) {
  // LeakyReLU and sigmoid tables, mul, max pool and bilinear resize. ESA's strided conv and pool
  // take 21 x 21 pixels to a 2 x 2 map that the resize interpolates on both axes. ERFDN costs 30
  // times XLSR per pixel: one image each, per channel only (the weight granularity does not touch
  // the new ops; the other baselines test per tensor).
  expect_quantsim_agrees("erfdn", images(1, 10, 21, 21), images(1, 20, 21, 21),
                         {WeightGranularity::kPerChannel});
}

TEST(GraphInt8Test, PtqRefusesTheQuickSrnetOnlyOptions) {
  quant::PtqOptions options;
  options.bias_correction = true;
  EXPECT_EQ(error_of([&] {
              quant::post_training_quantize(build_baseline("xlsr", {}), images(1, 1), options);
            }),
            "INT8 graphs have round-to-nearest PTQ only (no CLE, bias correction or optimised "
            "rounding yet)");
}

class GraphInt8FileTest : public ::testing::Test {
 protected:
  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(GraphInt8FileTest, RoundTripKeepsEveryValue) {
  // FSRCNN: its last layer is a transposed conv (IOHW weights, output padding).
  for (const std::string name : {"xlsr", "fsrcnn"}) {
    const Graph graph = build_baseline(name, {.scale = Scale{3, 1}, .seed = 2});
    for (const auto granularity : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
      quant::PtqOptions options;
      options.granularity = granularity;
      Model model;
      model.net = quant::post_training_quantize(graph, images(1, 5), options);
      model.provenance["note"] = "test";
      const fs::path file = dir_ / (name + "-int8.safetensors");
      save_model(model, file, ExistingFile::kReplace);
      const Model loaded = load_model(file);
      const auto& a = std::get<QuantizedGraph>(model.net);
      const auto& b = std::get<QuantizedGraph>(loaded.net);
      EXPECT_EQ(loaded.name(), name + "-x3-int8");
      EXPECT_EQ(loaded.provenance.at("note"), "test");
      EXPECT_EQ(b.encodings, a.encodings);
      ASSERT_EQ(b.convs.size(), a.convs.size());
      for (std::size_t i = 0; i < a.convs.size(); ++i) {
        EXPECT_EQ(b.convs[i].weight, a.convs[i].weight);
        EXPECT_EQ(b.convs[i].weight_scale, a.convs[i].weight_scale);
        EXPECT_EQ(b.convs[i].bias, a.convs[i].bias);
        EXPECT_EQ(b.convs[i].groups, a.convs[i].groups);
        EXPECT_EQ(b.convs[i].transposed, a.convs[i].transposed);
        EXPECT_EQ(b.convs[i].output_padding, a.convs[i].output_padding);
      }
      const U8Tensor input = quant::to_u8(images(1, 7).front());
      EXPECT_EQ(quant::forward(b, input).data, quant::forward(a, input).data);
    }
  }
}

TEST_F(GraphInt8FileTest, RefusesAShuffleThatChangesTheEncoding) {
  Model model;
  QuantizedGraph net = add_concat_graph();
  net.encodings.back() = {3.0f / 255.0f, 0};
  model.net = net;
  const fs::path file = dir_ / "bad.safetensors";
  EXPECT_EQ(error_of([&] { save_model(model, file, ExistingFile::kKeep); }),
            file.string() +
                ": cannot save: INT8 graph node 'shuffle' (depth_to_space) must keep its input's "
                "encoding");
  EXPECT_FALSE(fs::exists(file));
}

}  // namespace
}  // namespace quicksr
