// INT8 general graphs: the integer reference runtime against values computed by hand (add and
// concat requantisation with round-half-to-even, a grouped conv with its fused ReLU), the INT8
// form of graphs, QuantSim against the integer runtime, the model file round trip and the
// refusal of ops the INT8 path does not run (docs/quantization.md "General graphs").
#include <gtest/gtest.h>
#include <unistd.h>

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

TEST(GraphInt8Test, TanhTableIsTheRoundedTanhOfEachInputLevel) {
  // Input scale 0.02, zero point 128; output scale 0.01: t = tanh(0.02 (q - 128)) / 0.01.
  //   q = 0: tanh(-2.56) = -0.98812 -> -98.81 -> -99;  q = 100: tanh(-0.56) = -0.50798 -> -51;
  //   q = 128: 0;  q = 140: tanh(0.24) = 0.23550 -> 24;  q = 178: tanh(1) = 0.76159 -> 76;
  //   q = 255: tanh(2.54) = 0.98764 -> 99. Zero point 100 adds 100; zero point 50 adds 50 and
  //   clamps -99 + 50 to 0.
  const ActivationEncoding input{0.02f, 128};
  const std::array<std::uint8_t, 256> centred = quant::tanh_table(input, {0.01f, 100});
  const std::array<std::uint8_t, 256> shifted = quant::tanh_table(input, {0.01f, 50});
  const std::vector<std::pair<int, int>> expected = {{0, -99},  {100, -51}, {128, 0},
                                                     {140, 24}, {178, 76},  {255, 99}};
  for (const auto& [q, level] : expected) {
    EXPECT_EQ(centred[static_cast<std::size_t>(q)], level + 100) << q;
    EXPECT_EQ(shifted[static_cast<std::size_t>(q)], std::max(0, level + 50)) << q;
  }
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
  // ERFDN's first node outside the INT8 ops: the LeakyReLU of block 1's first distillation conv.
  Graph graph = build_baseline("erfdn", {});
  EXPECT_EQ(error_of([&] { quant::int8_form(graph); }),
            "INT8 graphs do not support op 'leaky_relu' (node 'b1_c1_d_act')");
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
std::vector<Tensor> images(int count, std::uint32_t seed) {
  std::vector<Tensor> result;
  for (int i = 0; i < count; ++i) {
    result.push_back(test_support::random_tensor(3, 12, 10, seed + static_cast<std::uint32_t>(i)));
  }
  return result;
}

TEST(GraphInt8Test, QuantSimAgreesWithTheIntegerRuntimeOnTheBaselines) {
  for (const char* name : {"xlsr", "sesr-m5", "abpn", "abpn-noresidual", "espcn", "fsrcnn"}) {
    const Graph graph = build_baseline(name, {.scale = Scale{2, 1}, .seed = 1});
    for (const auto granularity : {WeightGranularity::kPerChannel, WeightGranularity::kPerTensor}) {
      quant::PtqOptions options;
      options.granularity = granularity;
      const QuantizedGraph q = quant::post_training_quantize(graph, images(2, 10), options);
      const ActivationEncoding& output = quant::output_encoding(q);
      std::size_t values = 0, within_one = 0;
      for (const Tensor& lr : images(3, 20)) {
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
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("quicksr-graph-int8-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
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
                ": cannot save: INT8 graph node 'shuffle' permutes values but changes the "
                "encoding");
  EXPECT_FALSE(fs::exists(file));
}

}  // namespace
}  // namespace quicksr
