// Export: files pass the ONNX checker, say what was asked (opset, dynamic sizes, DCR) and import
// back to bit-identical weights.
#include <gtest/gtest.h>
#include <onnx/checker.h>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

const onnx::NodeProto* find_op(const onnx::ModelProto& model, const std::string& op) {
  for (const auto& node : model.graph().node()) {
    if (node.op_type() == op) return &node;
  }
  return nullptr;
}

std::string string_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attribute : node.attribute()) {
    if (attribute.name() == name) return attribute.s();
  }
  return "";
}

class OnnxRoundTrip : public testing::TestWithParam<ExportCase> {};

TEST_P(OnnxRoundTrip, ExportImportGivesIdenticalWeights) {
  const auto& [config, dcr] = GetParam();
  Model original;
  original.net = QuickSRNet::initialized(config, 7);
  original.provenance["data"] = "unit test";
  TempDir dir;
  const std::filesystem::path file = dir / "model.onnx";
  export_onnx(original, file, {.dcr = dcr});

  EXPECT_NO_THROW(onnx::checker::check_model(file.string()));
  const onnx::ModelProto proto = read_model(file);
  EXPECT_EQ(proto.opset_import(0).version(), 13);
  const auto& input_dims = proto.graph().input(0).type().tensor_type().shape().dim();
  ASSERT_EQ(input_dims.size(), 4);
  EXPECT_FALSE(input_dims[2].has_dim_value());
  EXPECT_FALSE(input_dims[3].has_dim_value());
  const onnx::NodeProto* shuffle = find_op(proto, "DepthToSpace");
  ASSERT_NE(shuffle, nullptr);
  EXPECT_EQ(string_attribute(*shuffle, "mode"), dcr ? "DCR" : "CRD");
  EXPECT_EQ(find_op(proto, "SpaceToDepth") != nullptr, !config.scale.is_integer());
  EXPECT_EQ(find_op(proto, "Relu") != nullptr, config.activation == Activation::kReLU);

  const Model imported = import_onnx(file);
  ASSERT_TRUE(imported.is_quicksrnet());
  const QuickSRNet& a = std::get<QuickSRNet>(original.net);
  const QuickSRNet& b = std::get<QuickSRNet>(imported.net);
  EXPECT_EQ(b.config, config);
  EXPECT_EQ(b.first.weight, a.first.weight);
  EXPECT_EQ(b.first.bias, a.first.bias);
  ASSERT_EQ(b.body.size(), a.body.size());
  for (std::size_t i = 0; i < a.body.size(); ++i) {
    EXPECT_EQ(b.body[i].weight, a.body[i].weight);
    EXPECT_EQ(b.body[i].bias, a.body[i].bias);
  }
  EXPECT_EQ(b.last.weight, a.last.weight);
  EXPECT_EQ(b.last.bias, a.last.bias);
  ASSERT_EQ(b.anchor.size(), a.anchor.size());
  for (std::size_t i = 0; i < a.anchor.size(); ++i) {
    EXPECT_EQ(b.anchor[i].weight, a.anchor[i].weight);
    EXPECT_EQ(b.anchor[i].bias, a.anchor[i].bias);
  }
  EXPECT_EQ(imported.provenance.at("data"), "unit test");
}

INSTANTIATE_TEST_SUITE_P(Configs, OnnxRoundTrip, testing::ValuesIn(export_cases()),
                         export_case_test_name);

TEST(OnnxExport, FixedInputSize) {
  Model model;
  model.net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{3, 2}), 1);
  TempDir dir;
  export_onnx(model, dir / "fixed.onnx", {.height = 64, .width = 96});
  const onnx::ModelProto proto = read_model(dir / "fixed.onnx");
  const auto& in = proto.graph().input(0).type().tensor_type().shape().dim();
  const auto& out = proto.graph().output(0).type().tensor_type().shape().dim();
  EXPECT_EQ(in[2].dim_value(), 64);
  EXPECT_EQ(in[3].dim_value(), 96);
  EXPECT_EQ(out[2].dim_value(), 96);
  EXPECT_EQ(out[3].dim_value(), 144);
  EXPECT_THROW(export_onnx(model, dir / "odd.onnx", {.height = 63, .width = 96}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "odd.onnx"));
}

// General graphs (XLSR: grouped convs, concat, clip after depth-to-space; SESR: convs without
// bias, adds, input anchor) survive a round trip.
TEST(OnnxExport, GraphRoundTrip) {
  for (const char* name : {"xlsr-2x-360p.onnx", "sesr_m5-4x-180p.onnx"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path official = reference_model(name);
    if (!std::filesystem::exists(official)) GTEST_SKIP() << official << " is absent";
    const Model original = import_onnx(official);
    TempDir dir;
    export_onnx(original, dir / "graph.onnx");
    EXPECT_NO_THROW(onnx::checker::check_model((dir / "graph.onnx").string()));
    const Model imported = import_onnx(dir / "graph.onnx");
    const Graph& a = std::get<Graph>(original.net);
    const Graph& b = std::get<Graph>(imported.net);
    EXPECT_EQ(b.scale, a.scale);
    ASSERT_EQ(b.nodes.size(), a.nodes.size());
    for (std::size_t i = 0; i < a.nodes.size(); ++i) EXPECT_EQ(b.nodes[i].op, a.nodes[i].op);
    ASSERT_EQ(b.convs.size(), a.convs.size());
    for (std::size_t i = 0; i < a.convs.size(); ++i) {
      EXPECT_EQ(b.convs[i].weight, a.convs[i].weight);
      EXPECT_EQ(b.convs[i].bias, a.convs[i].bias);
      EXPECT_EQ(b.convs[i].groups, a.convs[i].groups);
      EXPECT_EQ(b.convs[i].kernel_h, a.convs[i].kernel_h);
    }
    EXPECT_THROW(export_onnx(original, dir / "graph-dcr.onnx", {.dcr = true}), Error);
  }
}

// Every supported opset passes the checker and imports back; below 11 Clip bounds are
// attributes (Clip-6) and depth-to-space must be DCR.
TEST(OnnxExport, EveryOpsetImportsBack) {
  Model model;
  model.net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{3, 2}), 3);
  TempDir dir;
  for (int opset = kMinOnnxOpset; opset <= kMaxOnnxOpset; ++opset) {
    SCOPED_TRACE(opset);
    const std::filesystem::path file = dir / ("opset" + std::to_string(opset) + ".onnx");
    export_onnx(model, file, {.dcr = true, .opset = opset});
    EXPECT_NO_THROW(onnx::checker::check_model(file.string()));
    const onnx::ModelProto proto = read_model(file);
    EXPECT_EQ(proto.opset_import(0).version(), opset);
    const onnx::NodeProto* clip = find_op(proto, "Clip");
    ASSERT_NE(clip, nullptr);
    EXPECT_EQ(clip->input_size(), opset < 11 ? 1 : 3);
    EXPECT_EQ(clip->attribute_size(), opset < 11 ? 2 : 0);
    const Model imported = import_onnx(file);
    ASSERT_TRUE(imported.is_quicksrnet());
    EXPECT_EQ(std::get<QuickSRNet>(imported.net).last.weight,
              std::get<QuickSRNet>(model.net).last.weight);
  }
  try {
    export_onnx(model, dir / "crd10.onnx", {.opset = 10});
    ADD_FAILURE() << "opset 10 has no CRD depth-to-space";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("DCR depth-to-space only"), std::string::npos);
  }
  EXPECT_THROW(export_onnx(model, dir / "opset9.onnx", {.dcr = true, .opset = 9}), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "crd10.onnx"));
}

TEST(OnnxExport, BatchIsDynamicUnlessFixed) {
  Model model;
  model.net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{2, 1}), 1);
  TempDir dir;
  export_onnx(model, dir / "dynamic.onnx");
  export_onnx(model, dir / "fixed.onnx", {.batch = 4});
  for (const char* file : {"dynamic.onnx", "fixed.onnx"}) {
    const onnx::ModelProto proto = read_model(dir / file);
    for (const auto* value : {&proto.graph().input(0), &proto.graph().output(0)}) {
      const auto& batch = value->type().tensor_type().shape().dim(0);
      if (std::string(file) == "fixed.onnx") {
        EXPECT_EQ(batch.dim_value(), 4);
      } else {
        EXPECT_EQ(batch.dim_param(), "batch");
      }
    }
  }
}

// The OpenCV mode has no DepthToSpace or SpaceToDepth left: (transposed) convs with 0/1 weights
// replace them (tests/onnx/onnx_opencv_test.cpp runs the files).
TEST(OnnxExport, OpenCvModeReplacesShufflesWithConvs) {
  Model model;
  model.net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale{3, 2}), 1);
  TempDir dir;
  export_onnx(model, dir / "opencv.onnx", opencv_export_options());
  EXPECT_NO_THROW(onnx::checker::check_model((dir / "opencv.onnx").string()));
  const onnx::ModelProto proto = read_model(dir / "opencv.onnx");
  EXPECT_EQ(proto.opset_import(0).version(), 10);
  EXPECT_EQ(find_op(proto, "DepthToSpace"), nullptr);
  EXPECT_EQ(find_op(proto, "SpaceToDepth"), nullptr);
  EXPECT_NE(find_op(proto, "ConvTranspose"), nullptr);
}

TEST(OnnxExport, UnwritableDestinationIsAnError) {
  Model model;
  model.net = QuickSRNet::zeros(QuickSRNetConfig::small(Scale{2, 1}));
  TempDir dir;
  EXPECT_THROW(export_onnx(model, dir / "missing-folder" / "model.onnx"), Error);
}

}  // namespace
}  // namespace quicksr
