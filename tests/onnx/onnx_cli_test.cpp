// `quicksr convert` and `quicksr export` end to end.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <sys/wait.h>

#include <cstdio>

#include "onnx/onnx_test_support.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/onnx.hpp"
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
  ScratchDir dir;
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

TEST(OnnxCli, UnsupportedOperatorFailsWithTheNodeName) {
  ScratchDir dir;
  onnx::ModelProto model = empty_model(13);
  add_node(model, "Sigmoid", "squash", {"image"}, "result");
  write_model(model, dir / "sigmoid.onnx");
  const RunResult run = run_quicksr("convert " + quoted(dir / "sigmoid.onnx") + " " +
                                    quoted(dir / "out.safetensors"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("'squash' (Sigmoid)"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.safetensors"));
}

}  // namespace
}  // namespace quicksr
