// Import of the official models and of hand-built ONNX graphs whose meaning is known.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

#define SKIP_IF_ABSENT(path) \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << (path) << " is absent"

// The float values of an initializer, read straight from the protobuf.
std::vector<float> initializer_values(const onnx::ModelProto& model, const std::string& name) {
  for (const auto& tensor : model.graph().initializer()) {
    if (tensor.name() != name) continue;
    std::vector<float> values(tensor.raw_data().size() / sizeof(float));
    std::memcpy(values.data(), tensor.raw_data().data(), tensor.raw_data().size());
    return values;
  }
  ADD_FAILURE() << "no initializer " << name;
  return {};
}

int count_nodes(const onnx::ModelProto& model, const std::string& op) {
  int count = 0;
  for (const auto& node : model.graph().node()) count += node.op_type() == op;
  return count;
}

std::string import_error(const std::filesystem::path& path) {
  try {
    import_onnx(path);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "importing " << path << " did not throw quicksr::Error";
  return {};
}

void expect_official_small(const std::string& file, Scale scale) {
  const std::filesystem::path path = reference_model(file);
  SKIP_IF_ABSENT(path);
  const Model model = import_onnx(path);
  ASSERT_TRUE(model.is_quicksrnet());
  const QuickSRNet& net = std::get<QuickSRNet>(model.net);
  EXPECT_EQ(net.config, QuickSRNetConfig::small(scale));
  const onnx::ModelProto proto = read_model(path);
  EXPECT_EQ(net.first.weight, initializer_values(proto, "model.cnn.0.weight"));
  EXPECT_EQ(net.first.bias, initializer_values(proto, "model.cnn.0.bias"));
  EXPECT_EQ(net.body[0].weight, initializer_values(proto, "model.cnn.2.weight"));
  EXPECT_EQ(net.body[1].bias, initializer_values(proto, "model.cnn.4.bias"));
  EXPECT_EQ(net.last.weight, initializer_values(proto, "model.conv_last.weight"));
  EXPECT_EQ(net.last.bias, initializer_values(proto, "model.conv_last.bias"));
  EXPECT_EQ(model.provenance.at("source"), file);
  EXPECT_NE(model.provenance.at("conversion").find("ONNX"), std::string::npos);
}

TEST(OnnxImport, OfficialQuickSRNetSmall2x) {
  expect_official_small("quicksrnetsmall-2x-360p.onnx", {2, 1});
}

TEST(OnnxImport, OfficialQuickSRNetSmall4x) {
  expect_official_small("quicksrnetsmall-4x-180p.onnx", {4, 1});
}

TEST(OnnxImport, BaselinesBecomeGraphsWithTheirScale) {
  for (const auto& [file, scale] :
       {std::pair{"xlsr-2x-360p.onnx", 2}, std::pair{"xlsr-4x-180p.onnx", 4},
        std::pair{"sesr_m5-2x-360p.onnx", 2}, std::pair{"sesr_m5-4x-180p.onnx", 4}}) {
    const std::filesystem::path path = reference_model(file);
    SKIP_IF_ABSENT(path);
    SCOPED_TRACE(file);
    const Model model = import_onnx(path);
    ASSERT_FALSE(model.is_quicksrnet());
    const Graph& graph = std::get<Graph>(model.net);
    EXPECT_EQ(graph.scale, (Scale{scale, 1}));
    EXPECT_EQ(graph.input, "input");
    const onnx::ModelProto proto = read_model(path);
    EXPECT_EQ(graph.convs.size(), static_cast<std::size_t>(count_nodes(proto, "Conv")));
    EXPECT_EQ(graph.nodes.size(), static_cast<std::size_t>(proto.graph().node_size()));
    EXPECT_EQ(graph.architecture, std::string(file).substr(0, std::string(file).find('-')));
  }
}

TEST(OnnxImport, UnsupportedOperatorNamesTheNode) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_node(model, "Softmax", "squash", {"image"}, "result");
  write_model(model, dir / "softmax.onnx");
  const std::string message = import_error(dir / "softmax.onnx");
  EXPECT_NE(message.find("softmax.onnx"), std::string::npos) << message;
  EXPECT_NE(message.find("'squash'"), std::string::npos) << message;
  EXPECT_NE(message.find("Softmax"), std::string::npos) << message;
}

TEST(OnnxImport, DilatedConvNamesTheNode) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_initializer(model, "w", {3, 3, 3, 3}, std::vector<float>(81, 0.1f));
  add_ints_attribute(add_node(model, "Conv", "wide", {"image", "w"}, "result"), "dilations",
                     {2, 2});
  write_model(model, dir / "dilated.onnx");
  const std::string message = import_error(dir / "dilated.onnx");
  EXPECT_NE(message.find("'wide' (Conv)"), std::string::npos) << message;
  EXPECT_NE(message.find("dilat"), std::string::npos) << message;
}

// A NaN or infinite weight, bias or PReLU slope would make every output pixel it reaches NaN (and
// eval scores "nan"): refused, naming the file, the node and the initializer.
TEST(OnnxImport, NonFiniteWeightsNameTheInitializer) {
  TempDir dir;
  const auto conv_model = [](std::vector<float> weight, std::vector<float> bias) {
    onnx::ModelProto model = empty_model(13);
    add_initializer(model, "w", {3, 3, 3, 3}, std::move(weight));
    add_initializer(model, "b", {3}, std::move(bias));
    add_node(model, "Conv", "first", {"image", "w", "b"}, "result");
    return model;
  };
  std::vector<float> weight(81, 0.1f);
  weight[17] = std::nanf("");
  write_model(conv_model(weight, {0, 0, 0}), dir / "nan-weight.onnx");
  const std::string nan_weight = import_error(dir / "nan-weight.onnx");
  EXPECT_NE(nan_weight.find("nan-weight.onnx"), std::string::npos) << nan_weight;
  EXPECT_NE(nan_weight.find("'first' (Conv): \"w\" holds nan at index 17"), std::string::npos)
      << nan_weight;
  write_model(conv_model(std::vector<float>(81, 0.1f), {0, INFINITY, 0}), dir / "inf-bias.onnx");
  const std::string inf_bias = import_error(dir / "inf-bias.onnx");
  EXPECT_NE(inf_bias.find("\"b\" holds inf at index 1"), std::string::npos) << inf_bias;

  onnx::ModelProto prelu = empty_model(13);
  add_initializer(prelu, "slope", {1}, {-INFINITY});
  add_node(prelu, "PRelu", "leaky", {"image", "slope"}, "result");
  write_model(prelu, dir / "prelu.onnx");
  const std::string slope = import_error(dir / "prelu.onnx");
  EXPECT_NE(slope.find("'leaky' (PRelu): \"slope\" holds -inf"), std::string::npos) << slope;
}

TEST(OnnxImport, TruncatedGarbageEmptyAndMissingFilesAreClearErrors) {
  const std::filesystem::path official = reference_model("quicksrnetsmall-2x-360p.onnx");
  SKIP_IF_ABSENT(official);
  TempDir dir;
  std::ifstream in(official, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "truncated.onnx", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::ofstream(dir / "garbage.onnx", std::ios::binary) << "\x0f\xff\xfe garbage, not protobuf";
  std::ofstream(dir / "empty.onnx", std::ios::binary);
  for (const char* name : {"truncated.onnx", "garbage.onnx", "empty.onnx", "missing.onnx"}) {
    const std::string message = import_error(dir / name);
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
}

// SpaceToDepth has no mode attribute: it is the inverse of DCR DepthToSpace, so the pair must
// give back the image (a CRD reading of SpaceToDepth would scramble the channels).
TEST(OnnxImport, SpaceToDepthIsDcrOrdered) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_int_attribute(add_node(model, "SpaceToDepth", "pack", {"image"}, "packed"), "blocksize", 2);
  onnx::NodeProto& unpack = add_node(model, "DepthToSpace", "unpack", {"packed"}, "result");
  add_int_attribute(unpack, "blocksize", 2);  // mode defaults to DCR
  write_model(model, dir / "roundtrip.onnx");
  const Model imported = import_onnx(dir / "roundtrip.onnx");
  EXPECT_EQ(imported.scale(), (Scale{1, 1}));
  Tensor image(3, 4, 6);
  for (std::size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<float>(i);
  EXPECT_EQ(reference::forward(imported, image).data, image.data);
}

// Weights from a Constant node through Identity nodes; the conv swaps red and blue.
TEST(OnnxImport, ConstantAndIdentityNodes) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  onnx::NodeProto& constant = add_node(model, "Constant", "weights", {}, "w");
  onnx::AttributeProto& value = *constant.add_attribute();
  value.set_name("value");
  value.set_type(onnx::AttributeProto::TENSOR);
  value.mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  for (int dim : {3, 3, 1, 1}) value.mutable_t()->add_dims(dim);
  for (float v : {0.f, 0.f, 1.f, 0.f, 1.f, 0.f, 1.f, 0.f, 0.f})
    value.mutable_t()->add_float_data(v);
  add_node(model, "Identity", "alias_weights", {"w"}, "w2");
  add_node(model, "Conv", "swap", {"image", "w2"}, "swapped");
  add_node(model, "Identity", "alias_output", {"swapped"}, "result");
  write_model(model, dir / "swap.onnx");
  const Model imported = import_onnx(dir / "swap.onnx");
  Tensor image(3, 2, 2);
  for (std::size_t i = 0; i < image.data.size(); ++i) image.data[i] = 0.1f * i;
  const Tensor out = reference::forward(imported, image);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 2; ++x) {
      EXPECT_EQ(out.at(0, y, x), image.at(2, y, x));
      EXPECT_EQ(out.at(1, y, x), image.at(1, y, x));
      EXPECT_EQ(out.at(2, y, x), image.at(0, y, x));
    }
  }
}

// By value: callers pass a temporary Model.
GraphNode only_clip(const Model& model) {
  const Graph& graph = std::get<Graph>(model.net);
  EXPECT_EQ(graph.nodes.size(), 1u);
  EXPECT_EQ(graph.nodes[0].op, OpType::kClip);
  return graph.nodes[0];
}

TEST(OnnxImport, ClipBoundsAsAttributesBeforeOpset11) {
  TempDir dir;
  onnx::ModelProto model = empty_model(6);
  onnx::NodeProto& clip = add_node(model, "Clip", "clamp", {"image"}, "result");
  onnx::AttributeProto& min = *clip.add_attribute();
  min.set_name("min");
  min.set_type(onnx::AttributeProto::FLOAT);
  min.set_f(0.25f);
  write_model(model, dir / "clip6.onnx");
  const GraphNode node = only_clip(import_onnx(dir / "clip6.onnx"));
  EXPECT_EQ(node.clip_min, 0.25f);
  EXPECT_EQ(node.clip_max, INFINITY);
}

TEST(OnnxImport, ClipBoundsAsOptionalInputsFromOpset11) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_initializer(model, "high", {}, {0.75f});
  add_node(model, "Clip", "clamp", {"image", "", "high"}, "result");
  write_model(model, dir / "clip13.onnx");
  const Model imported = import_onnx(dir / "clip13.onnx");
  const GraphNode node = only_clip(imported);
  EXPECT_EQ(node.clip_min, -INFINITY);
  EXPECT_EQ(node.clip_max, 0.75f);
}

// A stride-2 conv then depth-to-space(3): the scale is deduced as 3/2.
TEST(OnnxImport, ScaleFromStridesAndBlocks) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_initializer(model, "w", {27, 3, 3, 3}, std::vector<float>(27 * 27, 0.01f));
  onnx::NodeProto& conv = add_node(model, "Conv", "down", {"image", "w"}, "features");
  add_ints_attribute(conv, "strides", {2, 2});
  // Padding 1: the output is exactly half the input (without it, 6 rows would give 2, not 3).
  add_ints_attribute(conv, "pads", {1, 1, 1, 1});
  add_int_attribute(add_node(model, "DepthToSpace", "up", {"features"}, "result"), "blocksize", 3);
  write_model(model, dir / "x1_5.onnx");
  EXPECT_EQ(import_onnx(dir / "x1_5.onnx").scale(), (Scale{3, 2}));
}

TEST(OnnxImport, ChannelMismatchNamesTheNode) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_initializer(model, "w", {3, 4, 1, 1}, std::vector<float>(12, 0.5f));
  add_node(model, "Conv", "mix", {"image", "w"}, "result");
  write_model(model, dir / "mismatch.onnx");
  const std::string message = import_error(dir / "mismatch.onnx");
  EXPECT_NE(message.find("\"mix\" (conv)"), std::string::npos) << message;
  EXPECT_NE(message.find("input channels"), std::string::npos) << message;
}

// Issue 11: concatenated channels past int overflowed the old ONNX checker, and `quicksr convert`
// wrote a model that crashed the runtime. The shared checker refuses it, naming the node.
TEST(OnnxImport, ConcatChannelOverflowNamesTheNode) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  constexpr int kWide = 1 << 16;
  add_initializer(model, "w", {kWide, 3, 1, 1}, std::vector<float>(kWide * 3, 0.0f));
  add_node(model, "Conv", "widen", {"image", "w"}, "wide");
  std::vector<std::string> parts(kWide, "wide");
  add_int_attribute(add_node(model, "Concat", "cat", parts, "huge"), "axis", 1);
  add_int_attribute(add_node(model, "DepthToSpace", "up", {"huge"}, "result"), "blocksize", 2);
  write_model(model, dir / "overflow.onnx");
  const std::string message = import_error(dir / "overflow.onnx");
  EXPECT_NE(message.find("\"cat\" (concat)"), std::string::npos) << message;
  EXPECT_NE(message.find("channels"), std::string::npos) << message;
}

// 2^32 + 1 read as an int would be a stride of 1 and a wrong model; every int attribute is range
// checked. The blocksize is checked the same way.
TEST(OnnxImport, AttributesThatOverflowIntAreErrors) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_initializer(model, "w", {3, 3, 3, 3}, std::vector<float>(81, 0.1f));
  add_ints_attribute(add_node(model, "Conv", "far", {"image", "w"}, "result"), "strides",
                     {(std::int64_t{1} << 32) + 1, (std::int64_t{1} << 32) + 1});
  write_model(model, dir / "stride.onnx");
  std::string message = import_error(dir / "stride.onnx");
  EXPECT_NE(message.find("'far' (Conv)"), std::string::npos) << message;
  EXPECT_NE(message.find("4294967297 is out of range"), std::string::npos) << message;

  onnx::ModelProto shuffle = empty_model(13);
  add_int_attribute(add_node(shuffle, "DepthToSpace", "up", {"image"}, "result"), "blocksize",
                    (std::int64_t{1} << 32) + 2);
  write_model(shuffle, dir / "block.onnx");
  message = import_error(dir / "block.onnx");
  EXPECT_NE(message.find("4294967298 is out of range"), std::string::npos) << message;
}

TEST(OnnxImport, FifoIsRejectedByItsTypeWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "pipe.onnx").c_str(), 0600), 0);
  const std::string message = import_error(dir / "pipe.onnx");
  EXPECT_NE(message.find("pipe.onnx: is a FIFO"), std::string::npos) << message;
}

}  // namespace
}  // namespace quicksr
