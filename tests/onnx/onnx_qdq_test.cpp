// QDQ export of INT8 models: the file passes the ONNX checker and has a QuantizeLinear /
// DequantizeLinear pair at each quantizer of docs/quantization.md, and ONNX Runtime (an
// independent implementation of the ONNX operators) runs it like the integer reference
// quant::forward, within 1 LSB of the output encoding, on a crop of a real image.
#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <cmath>
#include <functional>
#include <set>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/quant.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

struct QdqCase {
  ExportCase net;
  WeightGranularity granularity;
};

// Every net per channel; per tensor for the first Small and Large ones (each ONNX Runtime run
// starts node, about a second).
std::vector<QdqCase> qdq_cases(const std::vector<ExportCase>& nets) {
  std::vector<QdqCase> cases;
  for (const ExportCase& net : nets) {
    cases.push_back({net, WeightGranularity::kPerChannel});
  }
  for (const ExportCase& net : nets) {
    if (!net.dcr && net.config.scale == Scale{2, 1}) {
      cases.push_back({net, WeightGranularity::kPerTensor});
    }
  }
  return cases;
}

std::string case_name(const testing::TestParamInfo<QdqCase>& info) {
  return export_case_name(info.param.net) +
         (info.param.granularity == WeightGranularity::kPerChannel ? "_per_channel"
                                                                   : "_per_tensor");
}

// Encodings of ReLU1 outputs as calibration makes them (ranges [0, max <= 1]; ReLU: up to 2.5), of
// different widths, and one with a non-zero zero point so that padding with the zero point is
// exercised.
ActivationEncodings test_encodings(const QuickSRNetConfig& config) {
  const float widest = config.activation == Activation::kReLU ? 2.5f : 1.0f;
  ActivationEncodings encodings;
  for (int i = 0; i <= config.blocks; ++i) {
    const float min = i == 1 ? -0.2f : 0.0f;
    const float max = widest - 0.1f * static_cast<float>(i % 3);
    encodings.features.push_back(quant::encoding_from_range(min, max));
  }
  encodings.output = quant::encoding_from_range(0.0f, 1.0f);
  return encodings;
}

QuantizedQuickSRNet test_net(const QdqCase& test_case) {
  return quant::quantize_weights(QuickSRNet::initialized(test_case.net.config, 11),
                                 test_encodings(test_case.net.config), test_case.granularity);
}

class QdqExport : public testing::TestWithParam<QdqCase> {};

TEST_P(QdqExport, HasAQuantizerPairPerEncodingAndIntegerWeights) {
  const QuantizedQuickSRNet net = test_net(GetParam());
  TempDir dir;
  const std::filesystem::path file = dir / "int8.onnx";
  export_qdq_onnx(net, {{"data", "unit test"}}, file, {.dcr = GetParam().net.dcr});
  EXPECT_NO_THROW(onnx::checker::check_model(file.string()));
  const onnx::ModelProto proto = read_model(file);
  const int convs = net.config.blocks + 2 + (net.config.anchor ? 1 : 0);
  EXPECT_EQ(count_ops(proto, "QuantizeLinear"), net.config.blocks + 3);
  EXPECT_EQ(count_ops(proto, "DequantizeLinear"), net.config.blocks + 3 + 2 * convs);
  EXPECT_EQ(count_ops(proto, "Conv"), convs);
  int int8 = 0, int32 = 0;
  for (const auto& tensor : proto.graph().initializer()) {
    int8 += tensor.data_type() == onnx::TensorProto::INT8 && tensor.dims_size() == 4;
    int32 += tensor.data_type() == onnx::TensorProto::INT32 && tensor.dims_size() == 1;
  }
  EXPECT_EQ(int8, convs);
  EXPECT_EQ(int32 - (net.per_channel() ? convs : 0), convs);  // biases (+ per-channel zero points)
  ASSERT_EQ(proto.metadata_props_size(), 1);
  EXPECT_EQ(proto.metadata_props(0).value(), "unit test");
}

// Over comparison_cases(): no Large under the sanitizers.
class QdqOnnxRuntime : public QdqExport {};

TEST_P(QdqOnnxRuntime, MatchesTheIntegerReferenceWithinOneLsb) {
  if (const std::string missing = onnxruntime_missing(); !missing.empty()) GTEST_SKIP() << missing;
  const std::optional<Tensor> crop = butterfly_crop(100, 60, 40, 46);
  if (!crop) GTEST_SKIP() << "Set5 butterfly.png is absent";
  const QuantizedQuickSRNet net = test_net(GetParam());
  TempDir dir;
  const std::filesystem::path file = dir / "int8.onnx";
  export_qdq_onnx(net, {}, file, {.dcr = GetParam().net.dcr});

  const U8Tensor expected = quant::forward(net, quant::to_u8(*crop));
  const Tensor actual = run_onnxruntime(file, *crop);
  ASSERT_EQ(actual.channels, expected.channels);
  ASSERT_EQ(actual.height, expected.height);
  ASSERT_EQ(actual.width, expected.width);
  int worst = 0;
  std::size_t exact = 0;
  std::set<int> levels;
  for (std::size_t i = 0; i < expected.data.size(); ++i) {
    const int q =
        static_cast<int>(std::nearbyint(actual.data[i] / net.output.scale)) + net.output.zero_point;
    worst = std::max(worst, std::abs(q - expected.data[i]));
    exact += q == expected.data[i];
    levels.insert(expected.data[i]);
  }
  EXPECT_LE(worst, 1);
  EXPECT_GE(static_cast<double>(exact), 0.99 * static_cast<double>(expected.data.size()));
  EXPECT_GT(levels.size(), 50u) << "the output should be an image, not a constant";
}

// import_onnx of the QDQ file gives the INT8 net back: every integer, scale and encoding.
TEST_P(QdqExport, ImportsBackToTheSameInt8Net) {
  const QuantizedQuickSRNet net = test_net(GetParam());
  TempDir dir;
  const std::filesystem::path file = dir / "int8.onnx";
  export_qdq_onnx(net, {{"data", "unit test"}}, file, {.dcr = GetParam().net.dcr});
  const Model model = import_onnx(file);
  ASSERT_TRUE(model.is_quantized());
  const auto& imported = std::get<QuantizedQuickSRNet>(model.net);
  EXPECT_EQ(imported.config, net.config);
  EXPECT_EQ(quant::encodings_of(imported), quant::encodings_of(net));
  const auto expect_same = [](const QConv2d& a, const QConv2d& b, const std::string& name) {
    EXPECT_EQ(a.weight, b.weight) << name;
    EXPECT_EQ(a.weight_scale, b.weight_scale) << name;
    EXPECT_EQ(a.bias, b.bias) << name;
  };
  expect_same(imported.first, net.first, "first");
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    expect_same(imported.body.at(i), net.body[i], "body " + std::to_string(i));
  }
  expect_same(imported.last, net.last, "last");
  ASSERT_EQ(imported.anchor.size(), net.anchor.size());
  for (std::size_t i = 0; i < net.anchor.size(); ++i) {
    expect_same(imported.anchor[i], net.anchor[i], "anchor");
  }
  EXPECT_EQ(model.provenance.at("data"), "unit test");
}

INSTANTIATE_TEST_SUITE_P(Configs, QdqExport, testing::ValuesIn(qdq_cases(export_cases())),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Configs, QdqOnnxRuntime, testing::ValuesIn(qdq_cases(comparison_cases())),
                         case_name);

// QDQ files that are not an INT8 QuickSRNet as quicksr defines it: one error naming the file and
// what is wrong.
TEST(QdqImport, RefusesFilesOutsideTheInt8QuickSrNetForm) {
  const QdqCase small{export_cases().front(), WeightGranularity::kPerChannel};
  TempDir dir;
  const std::filesystem::path file = dir / "int8.onnx";
  export_qdq_onnx(test_net(small), {}, file);
  const onnx::ModelProto exported = read_model(file);
  const auto error_of = [&](const std::function<void(onnx::ModelProto&)>& change) {
    onnx::ModelProto proto = exported;
    change(proto);
    const std::filesystem::path changed = dir / "changed.onnx";
    write_model(proto, changed);
    try {
      import_onnx(changed);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto starts_with_file = [&](const std::string& message) {
    return message.rfind((dir / "changed.onnx").string() + ": ", 0) == 0;
  };
  // A weight zero point that is not 0.
  std::string message = error_of([](onnx::ModelProto& proto) {
    for (auto& tensor : *proto.mutable_graph()->mutable_initializer()) {
      if (tensor.name() == "first.weight_quantized.zero_point") {
        std::string raw = tensor.raw_data();
        raw[0] = 1;
        tensor.set_raw_data(raw);
      }
    }
  });
  EXPECT_TRUE(starts_with_file(message)) << message;
  EXPECT_NE(message.find("zero point is not 0"), std::string::npos) << message;
  // The input's quantizer pair removed: its consumers read the image directly.
  message = error_of([](onnx::ModelProto& proto) {
    auto& nodes = *proto.mutable_graph()->mutable_node();
    std::string dequantized;
    for (int i = 0; i < nodes.size(); ++i) {
      if (nodes[i].op_type() == "DequantizeLinear" && nodes[i].input(0) == "input_quantized") {
        dequantized = nodes[i].output(0);
      }
    }
    for (auto& node : nodes) {
      for (auto& input : *node.mutable_input()) {
        if (input == dequantized) input = "input";
      }
    }
    for (int i = nodes.size() - 1; i >= 0; --i) {
      if (nodes[i].input(0) == "input" && nodes[i].op_type() == "QuantizeLinear") {
        nodes.DeleteSubrange(i, 1);
      } else if (nodes[i].input(0) == "input_quantized") {
        nodes.DeleteSubrange(i, 1);
      }
    }
  });
  EXPECT_TRUE(starts_with_file(message)) << message;
  EXPECT_NE(message.find("quantizer pairs"), std::string::npos) << message;
  // s8 weights holding -128, outside quicksr's symmetric range.
  message = error_of([](onnx::ModelProto& proto) {
    for (auto& tensor : *proto.mutable_graph()->mutable_initializer()) {
      if (tensor.name() == "body.0.weight_quantized") {
        std::string raw = tensor.raw_data();
        raw[5] = static_cast<char>(-128);
        tensor.set_raw_data(raw);
      }
    }
  });
  EXPECT_NE(message.find("-128"), std::string::npos) << message;
  // An axis that is not an INT attribute.
  message = error_of([](onnx::ModelProto& proto) {
    for (auto& node : *proto.mutable_graph()->mutable_node()) {
      for (auto& attribute : *node.mutable_attribute()) {
        if (attribute.name() == "axis" && node.input(0) == "body.0.weight_quantized") {
          attribute.set_type(onnx::AttributeProto::FLOAT);
          attribute.set_f(0);
        }
      }
    }
  });
  EXPECT_TRUE(starts_with_file(message)) << message;
  EXPECT_NE(message.find("attribute 'axis' is not an int"), std::string::npos) << message;
}

// ONNX also stores s8 tensors as int32_data (one int32 per value): such weights import as the
// raw bytes do, and a value outside int8 is refused rather than wrapped.
TEST(QdqImport, ReadsTypedInt8FieldsAndRefusesValuesOutsideInt8) {
  const QdqCase small{export_cases().front(), WeightGranularity::kPerChannel};
  const QuantizedQuickSRNet net = test_net(small);
  TempDir dir;
  export_qdq_onnx(net, {}, dir / "int8.onnx");
  for (const int outside : {0, 300}) {
    onnx::ModelProto proto = read_model(dir / "int8.onnx");
    for (auto& tensor : *proto.mutable_graph()->mutable_initializer()) {
      if (tensor.data_type() != onnx::TensorProto::INT8) continue;
      for (char byte : tensor.raw_data()) tensor.add_int32_data(static_cast<std::int8_t>(byte));
      tensor.clear_raw_data();
      if (outside && tensor.name() == "body.0.weight_quantized") tensor.set_int32_data(3, outside);
    }
    write_model(proto, dir / "typed.onnx");
    if (!outside) {
      const auto imported = std::get<QuantizedQuickSRNet>(import_onnx(dir / "typed.onnx").net);
      EXPECT_EQ(imported.body[0].weight, net.body[0].weight);
      EXPECT_EQ(imported.first.weight, net.first.weight);
      continue;
    }
    try {
      import_onnx(dir / "typed.onnx");
      ADD_FAILURE() << "an int8 weight of 300 was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("holds 300, outside int8"), std::string::npos)
          << e.what();
    }
  }
}

// Per-channel weights along axis -4 (ONNX's negative axes count from the last dimension) are
// along axis 0 too; along axis 1 they are refused.
TEST(QdqImport, ReadsNegativeAxesOfPerChannelWeights) {
  const QdqCase small{export_cases().front(), WeightGranularity::kPerChannel};
  const QuantizedQuickSRNet net = test_net(small);
  TempDir dir;
  export_qdq_onnx(net, {}, dir / "int8.onnx");
  for (const int axis : {-4, 1}) {
    onnx::ModelProto proto = read_model(dir / "int8.onnx");
    for (auto& node : *proto.mutable_graph()->mutable_node()) {
      for (auto& attribute : *node.mutable_attribute()) {
        if (attribute.name() == "axis" && node.input(0) == "body.0.weight_quantized") {
          attribute.set_i(axis);
        }
      }
    }
    write_model(proto, dir / "axis.onnx");
    if (axis == -4) {
      const Model model = import_onnx(dir / "axis.onnx");
      EXPECT_EQ(std::get<QuantizedQuickSRNet>(model.net).body[0].weight_scale,
                net.body[0].weight_scale);
    } else {
      EXPECT_THROW(import_onnx(dir / "axis.onnx"), Error);
    }
  }
}

}  // namespace
}  // namespace quicksr
