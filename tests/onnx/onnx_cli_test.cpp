// `quicksr convert` and `quicksr export` end to end.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <sys/wait.h>

#include <cstdio>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/onnx.hpp"
#include "quicksr/quant.hpp"
#include "support/run_quicksr.hpp"

namespace quicksr {
namespace {

using namespace onnx_test;

using quicksr::test_support::quoted;
using quicksr::test_support::run_quicksr;
using quicksr::test_support::RunResult;

TEST(OnnxCli, ConvertThenExportDcr) {
  const std::filesystem::path official = reference_model("quicksrnetsmall-2x-360p.onnx");
  if (!std::filesystem::exists(official)) GTEST_SKIP() << official << " is absent";
  TempDir dir;
  const std::filesystem::path converted = dir / "small.safetensors";
  const RunResult convert = run_quicksr("convert " + quoted(official) + " " + quoted(converted));
  ASSERT_EQ(convert.exit_code, 0) << convert.output;
  const Model loaded = load_model(converted);
  const Model imported = import_onnx(official);
  ASSERT_TRUE(loaded.is_quicksrnet());
  EXPECT_EQ(std::get<QuickSRNet>(loaded.net).last.weight,
            std::get<QuickSRNet>(imported.net).last.weight);
  EXPECT_EQ(loaded.provenance.at("source"), "quicksrnetsmall-2x-360p.onnx");

  const std::filesystem::path exported = dir / "small-dcr.onnx";
  const RunResult run =
      run_quicksr("export " + quoted(converted) + " " + quoted(exported) + " --dcr");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NO_THROW(onnx::checker::check_model(exported.string()));
  EXPECT_EQ(std::get<QuickSRNet>(import_onnx(exported).net).last.weight,
            std::get<QuickSRNet>(imported.net).last.weight);

  const RunResult again = run_quicksr("export " + quoted(converted) + " " + quoted(exported));
  EXPECT_NE(again.exit_code, 0) << "an existing output needs --overwrite";
}

// --model accepts an ONNX file directly: the same pixels as its converted model file.
TEST(OnnxCli, OnnxModelFileUpscalesDirectly) {
  const std::filesystem::path official = reference_model("quicksrnetsmall-2x-360p.onnx");
  if (!std::filesystem::exists(official)) GTEST_SKIP() << official << " is absent";
  TempDir dir;
  ASSERT_EQ(run_quicksr("convert " + quoted(official) + " " + quoted(dir / "small.safetensors"))
                .exit_code,
            0);
  const std::string input =
      quoted(std::filesystem::path(QUICKSR_SOURCE_DIR) / "samples/testcard.png");
  const RunResult direct = run_quicksr("upscale " + input + " " + quoted(dir / "onnx.png") +
                                       " --model " + quoted(official));
  ASSERT_EQ(direct.exit_code, 0) << direct.output;
  ASSERT_EQ(run_quicksr("upscale " + input + " " + quoted(dir / "converted.png") + " --model " +
                        quoted(dir / "small.safetensors"))
                .exit_code,
            0);
  EXPECT_EQ(read_image(dir / "onnx.png").rgb, read_image(dir / "converted.png").rgb);
  const RunResult info = run_quicksr("info " + quoted(official));
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("f32-m2"), std::string::npos) << info.output;
}

TEST(OnnxCli, ExportOpsetAndOpenCvOptions) {
  TempDir dir;
  const RunResult opencv =
      run_quicksr("export --opencv quicksrnet-small-x1_5 " + quoted(dir / "opencv.onnx"));
  ASSERT_EQ(opencv.exit_code, 0) << opencv.output;
  const onnx::ModelProto proto = read_model(dir / "opencv.onnx");
  EXPECT_EQ(proto.opset_import(0).version(), 10);
  for (const auto& node : proto.graph().node()) EXPECT_NE(node.op_type(), "DepthToSpace");
  const RunResult opset = run_quicksr("export --opset 11 --batch 1 quicksrnet-small-x2 " +
                                      quoted(dir / "opset11.onnx"));
  ASSERT_EQ(opset.exit_code, 0) << opset.output;
  EXPECT_EQ(read_model(dir / "opset11.onnx").opset_import(0).version(), 11);
  const RunResult both =
      run_quicksr("export --opencv --opset 12 quicksrnet-small-x2 " + quoted(dir / "both.onnx"));
  EXPECT_EQ(both.exit_code, 1) << both.output;
  const RunResult crd10 =
      run_quicksr("export --opset 10 quicksrnet-small-x2 " + quoted(dir / "crd10.onnx"));
  EXPECT_EQ(crd10.exit_code, 1);
  EXPECT_NE(crd10.output.find("DCR depth-to-space only"), std::string::npos) << crd10.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "crd10.onnx"));
}

// `quicksr export` of an INT8 model file writes its QDQ form, which ONNX Runtime runs like the
// integer reference (within 1 LSB), and `convert` reads back; --opencv (opset 10) cannot express
// it and says so.
TEST(OnnxCli, ExportsAnInt8ModelAsQdq) {
  TempDir dir;
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small({2, 1}), 5);
  ActivationEncodings encodings;
  for (int i = 0; i <= net.config.blocks; ++i) {
    encodings.features.push_back(quant::encoding_from_range(0.0f, 0.9f));
  }
  const QuantizedQuickSRNet int8 =
      quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
  save_model(Model{int8, {{"data", "cli test"}}}, dir / "int8.safetensors");
  const RunResult run =
      run_quicksr("export " + quoted(dir / "int8.safetensors") + " " + quoted(dir / "int8.onnx"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NO_THROW(onnx::checker::check_model((dir / "int8.onnx").string()));
  const onnx::ModelProto proto = read_model(dir / "int8.onnx");
  int quantizers = 0;
  for (const auto& node : proto.graph().node()) quantizers += node.op_type() == "QuantizeLinear";
  EXPECT_EQ(quantizers, net.config.blocks + 3);  // input, first + body, output

  // And back: `convert` of the QDQ file writes the same INT8 model (bit-identical output).
  const RunResult back =
      run_quicksr("convert " + quoted(dir / "int8.onnx") + " " + quoted(dir / "back.safetensors"));
  ASSERT_EQ(back.exit_code, 0) << back.output;
  const Model converted = load_model(dir / "back.safetensors");
  ASSERT_TRUE(converted.is_quantized());
  const Tensor image(3, 9, 7, 0.3f);
  EXPECT_EQ(quant::forward(std::get<QuantizedQuickSRNet>(converted.net), image).data,
            quant::forward(int8, image).data);

  const RunResult opencv = run_quicksr("export --opencv " + quoted(dir / "int8.safetensors") + " " +
                                       quoted(dir / "opencv.onnx"));
  EXPECT_EQ(opencv.exit_code, 1) << opencv.output;
  EXPECT_NE(opencv.output.find("opset 13"), std::string::npos) << opencv.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "opencv.onnx"));

  if (const std::string missing = onnxruntime_missing(); !missing.empty()) GTEST_SKIP() << missing;
  const std::optional<Tensor> crop = butterfly_crop(100, 60, 30, 34);
  if (!crop) GTEST_SKIP() << "Set5 butterfly.png is absent";
  const U8Tensor expected = quant::forward(int8, quant::to_u8(*crop));
  const Tensor actual = run_onnxruntime(dir / "int8.onnx", *crop);
  ASSERT_EQ(actual.data.size(), expected.data.size());
  int worst = 0;
  for (std::size_t i = 0; i < expected.data.size(); ++i) {
    const int q = static_cast<int>(std::nearbyint(actual.data[i] / int8.output.scale)) +
                  int8.output.zero_point;
    worst = std::max(worst, std::abs(q - expected.data[i]));
  }
  EXPECT_LE(worst, 1);
}

TEST(OnnxCli, UnsupportedOperatorFailsWithTheNodeName) {
  TempDir dir;
  onnx::ModelProto model = empty_model(13);
  add_node(model, "Softmax", "squash", {"image"}, "result");
  write_model(model, dir / "softmax.onnx");
  const RunResult run = run_quicksr("convert " + quoted(dir / "softmax.onnx") + " " +
                                    quoted(dir / "out.safetensors"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("'squash' (Softmax)"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.safetensors"));
}

}  // namespace
}  // namespace quicksr
