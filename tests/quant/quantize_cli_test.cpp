// `quicksr quantize`, and INT8 models in `info`, `eval --compare-fp32` and `upscale`, end to end
// through the binary.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "quant/int8_error.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/reference.hpp"
#include "support/data_paths.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using test_support::quoted;
using test_support::run_quicksr;

using test_support::kSmallX2;
using test_support::kTrain;

// quicksr-train, which runs `quantize --adaround`, is built beside quicksr with training only.
bool has_trainer() { return fs::exists(fs::path(QUICKSR_BINARY).parent_path() / "quicksr-train"); }

// A smooth test image, different for each n.
void write_calibration_image(const fs::path& path, int width, int height, int n) {
  Image image;
  image.width = width;
  image.height = height;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      image.rgb.push_back(0.5f + 0.45f * std::sin(0.4f * x + n));
      image.rgb.push_back(0.5f + 0.45f * std::cos(0.3f * y - n));
      image.rgb.push_back(0.5f + 0.3f * std::sin(0.2f * (x + y)));
    }
  }
  write_image(image, path);
}

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "calib");
    for (int n = 0; n < 3; ++n) {
      write_calibration_image(dir_ / "calib" / ("img" + std::to_string(n) + ".png"), 30 + 4 * n, 26,
                              n);
    }
  }

  // quicksr quantize of the shipped Small x2 with `options`.
  test_support::RunResult quantize(const std::string& out, const std::string& options = "") {
    return run_quicksr("quantize " + quoted(kSmallX2) + " --data " + quoted(dir_ / "calib") +
                       " --out " + quoted(dir_ / out) + " " + options);
  }
  // The first `count` BSDS200 images (by name) copied to dir_/train.
  void copy_training_images(int count) {
    fs::create_directories(dir_ / "train");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(kTrain)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (int i = 0; i < count; ++i) fs::copy_file(files[i], dir_ / "train" / files[i].filename());
  }
  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(QuantizeCli, WritesALoadableInt8ModelAndAimetEncodings) {
  const auto result = quantize("int8.safetensors",
                               "--per-tensor --scheme tf --bias-correction "
                               "--encodings " +
                                   quoted(dir_ / "enc.json"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Model model = load_model(dir_ / "int8.safetensors");
  ASSERT_TRUE(model.is_quantized());
  const auto& q = std::get<QuantizedQuickSRNet>(model.net);
  EXPECT_FALSE(q.per_channel());
  EXPECT_NE(model.provenance.at("quantization").find("per-tensor tf +bias-correction"),
            std::string::npos);
  // The AIMET encodings applied to the (bias-corrected) float weights give the same model.
  std::ifstream json_file(dir_ / "enc.json");
  std::stringstream json;
  json << json_file.rdbuf();
  const QuantizedQuickSRNet imported =
      quant::from_aimet_json(quant::dequantize_weights(q), json.str(), "enc.json");
  EXPECT_EQ(quant::encodings_of(imported), quant::encodings_of(q));
  EXPECT_EQ(imported.body[1].weight, q.body[1].weight);
  EXPECT_EQ(imported.last.bias, q.last.bias);

  const auto info = run_quicksr("info " + quoted(dir_ / "int8.safetensors"));
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_NE(info.output.find("activation encodings:"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("per tensor"), std::string::npos) << info.output;
}

// --import-encodings on the model that wrote them (round to nearest, per channel) gives that
// INT8 model back, without calibration images; conflicting options and bad files are refused.
TEST_F(QuantizeCli, ImportedAimetEncodingsGiveTheModelThatWroteThem) {
  ASSERT_EQ(quantize("int8.safetensors", "--encodings " + quoted(dir_ / "enc.json")).exit_code, 0);
  const std::string import = "quantize " + quoted(kSmallX2) + " --import-encodings ";
  const auto result =
      run_quicksr(import + quoted(dir_ / "enc.json") + " --out " + quoted(dir_ / "imported.st"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Model written = load_model(dir_ / "int8.safetensors");
  const Model imported = load_model(dir_ / "imported.st");
  EXPECT_EQ(imported.provenance.at("quantization"),
            "quicksr quantize with AIMET encodings from enc.json");
  const auto& a = std::get<QuantizedQuickSRNet>(written.net);
  const auto& b = std::get<QuantizedQuickSRNet>(imported.net);
  EXPECT_EQ(quant::encodings_of(b), quant::encodings_of(a));
  EXPECT_EQ(b.first.weight, a.first.weight);
  EXPECT_EQ(b.first.bias, a.first.bias);
  for (std::size_t i = 0; i < a.body.size(); ++i) {
    EXPECT_EQ(b.body[i].weight, a.body[i].weight) << "body " << i;
    EXPECT_EQ(b.body[i].bias, a.body[i].bias) << "body " << i;
  }
  EXPECT_EQ(b.last.weight, a.last.weight);
  EXPECT_EQ(b.last.bias, a.last.bias);

  const auto with_data = run_quicksr(import + quoted(dir_ / "enc.json") + " --data " +
                                     quoted(dir_ / "calib") + " --out " + quoted(dir_ / "x.st"));
  EXPECT_EQ(with_data.exit_code, 1);
  EXPECT_NE(with_data.output.find("--data cannot go with --import-encodings"), std::string::npos)
      << with_data.output;
  std::ofstream(dir_ / "bad.json") << R"({"activation_encodings": {}})";
  const auto bad =
      run_quicksr(import + quoted(dir_ / "bad.json") + " --out " + quoted(dir_ / "x.st"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find((dir_ / "bad.json").string() + ": "), std::string::npos) << bad.output;
  const auto int8_model =
      run_quicksr("quantize " + quoted(dir_ / "int8.safetensors") + " --import-encodings " +
                  quoted(dir_ / "enc.json") + " --out " + quoted(dir_ / "x.st"));
  EXPECT_EQ(int8_model.exit_code, 1);
  EXPECT_NE(int8_model.output.find("needs an fp32 QuickSRNet"), std::string::npos)
      << int8_model.output;
  EXPECT_FALSE(fs::exists(dir_ / "x.st"));
}

TEST_F(QuantizeCli, OptimizedRoundingKeepsEveryWeightWithinOneStep) {
  const auto result = quantize("int8.safetensors", "--optimize-rounding");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Model model = load_model(dir_ / "int8.safetensors");
  EXPECT_NE(model.provenance.at("quantization").find("per-channel tf-enhanced +optimized-rounding"),
            std::string::npos);
  const auto& q = std::get<QuantizedQuickSRNet>(model.net);
  const QuickSRNet fp32 = std::get<QuickSRNet>(load_model(kSmallX2).net);
  // floor or ceil of w / scale: never more than one step from the float weight.
  const std::size_t per_channel = fp32.body[0].weight.size() / 32;
  int moved = 0;
  for (std::size_t i = 0; i < fp32.body[0].weight.size(); ++i) {
    const float v = fp32.body[0].weight[i] / q.body[0].scale_of(static_cast<int>(i / per_channel));
    EXPECT_LT(std::abs(q.body[0].weight[i] - v), 1.0f) << "weight " << i;
    moved += std::abs(q.body[0].weight[i] - v) > 0.5f;
  }
  EXPECT_GT(moved, 0) << "no weight left its round-to-nearest value";
}

TEST_F(QuantizeCli, RefusesToOverwriteAndRejectsBadOptions) {
  ASSERT_EQ(quantize("int8.safetensors").exit_code, 0);
  const auto size = fs::file_size(dir_ / "int8.safetensors");
  const auto again = quantize("int8.safetensors", "--per-tensor");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  EXPECT_EQ(fs::file_size(dir_ / "int8.safetensors"), size);
  EXPECT_EQ(quantize("int8.safetensors", "--overwrite --per-tensor").exit_code, 0);

  // The calibration images are too small for AdaRound's patches (or, without training, the
  // build has no AdaRound): one line that says so.
  const auto adaround = quantize("other.safetensors", "--adaround");
  EXPECT_EQ(adaround.exit_code, 1);
  const std::size_t error = adaround.output.find("quicksr quantize");  // after the progress bar
  ASSERT_NE(error, std::string::npos) << adaround.output;
  EXPECT_EQ(std::count(adaround.output.begin() + error, adaround.output.end(), '\n'), 1)
      << adaround.output;
  EXPECT_NE(adaround.output.find(has_trainer() ? (dir_ / "calib").string() + ": --adaround needs"
                                               : "quicksr-train is missing"),
            std::string::npos)
      << adaround.output;
  const auto scheme = quantize("other.safetensors", "--scheme minmax");
  EXPECT_NE(scheme.exit_code, 0);
  EXPECT_NE(scheme.output.find("minmax"), std::string::npos) << scheme.output;
  for (const std::string margin_options :
       {"--optimize-rounding --adaround --adaround-start-margin 0.5",
        "--optimize-rounding --adaround --adaround-start-margin 0",
        "--adaround --adaround-start-margin 0.3"}) {
    const auto margin = quantize("other.safetensors", margin_options);
    EXPECT_EQ(margin.exit_code, 1) << margin_options;
    EXPECT_NE(margin.output.find("--adaround-start-margin"), std::string::npos) << margin.output;
  }
  const auto no_data =
      run_quicksr("quantize " + quoted(kSmallX2) + " --out " + quoted(dir_ / "other.safetensors"));
  EXPECT_NE(no_data.exit_code, 0);
  EXPECT_NE(no_data.output.find("--data"), std::string::npos) << no_data.output;
  const auto not_fp32 =
      run_quicksr("quantize " + quoted(dir_ / "int8.safetensors") + " --data " +
                  quoted(dir_ / "calib") + " --out " + quoted(dir_ / "other.safetensors"));
  EXPECT_NE(not_fp32.exit_code, 0);
  EXPECT_NE(not_fp32.output.find("fp32 QuickSRNet"), std::string::npos) << not_fp32.output;
  EXPECT_FALSE(fs::exists(dir_ / "other.safetensors"));
}

// Adds `step_fraction` of each weight's s8 step in `grid` to every weight of `net` (the grid's
// dequantized weights) and `bias_offset` to every bias.
QuickSRNet shifted(QuickSRNet net, const QuantizedQuickSRNet& grid, float step_fraction,
                   float bias_offset) {
  const auto shift = [&](Conv2d& conv, const QConv2d& q) {
    const std::size_t per_output = conv.weight.size() / static_cast<std::size_t>(q.out_channels);
    for (std::size_t i = 0; i < conv.weight.size(); ++i) {
      conv.weight[i] += step_fraction * q.scale_of(static_cast<int>(i / per_output));
    }
    for (float& b : conv.bias) b += bias_offset;
  };
  shift(net.first, grid.first);
  for (std::size_t i = 0; i < net.body.size(); ++i) shift(net.body[i], grid.body[i]);
  shift(net.last, grid.last);
  for (std::size_t i = 0; i < net.anchor.size(); ++i) shift(net.anchor[i], grid.anchor[i]);
  return net;
}

// `quicksr average`: the float mean of the weights, and on an INT8 grid the mean's rounding. The
// shipped Small x2 INT8's weights shifted by +0.7 and -0.7 of their steps each round to other s8
// values than the file's, their average to the file's: written back bit for bit.
TEST_F(QuantizeCli, AverageIsTheMeanOfTheWeightsAndRoundsOnTheGrid) {
  const auto grid = std::get<QuantizedQuickSRNet>(load_model(test_support::kSmallX2Int8).net);
  const QuickSRNet dequantized = quant::dequantize_weights(grid);
  save_model(Model{shifted(dequantized, grid, 0.7f, 0.01f), {}}, dir_ / "up.safetensors");
  save_model(Model{shifted(dequantized, grid, -0.7f, -0.01f), {}}, dir_ / "down.safetensors");
  save_model(Model{shifted(dequantized, grid, 0.0f, 0.02f), {}}, dir_ / "bias.safetensors");
  const std::string inputs = quoted(dir_ / "up.safetensors") + " " +
                             quoted(dir_ / "down.safetensors") + " " +
                             quoted(dir_ / "bias.safetensors");
  ASSERT_EQ(
      run_quicksr("average " + inputs + " --out " + quoted(dir_ / "mean.safetensors")).exit_code,
      0);
  const auto mean = std::get<QuickSRNet>(load_model(dir_ / "mean.safetensors").net);
  for (std::size_t i = 0; i < mean.body[1].weight.size(); i += 7) {
    EXPECT_NEAR(mean.body[1].weight[i], dequantized.body[1].weight[i], 1e-6) << i;
  }
  EXPECT_NEAR(mean.last.bias[2], dequantized.last.bias[2] + 0.02f / 3, 1e-6);

  const std::string two = quoted(dir_ / "up.safetensors") + " " + quoted(dir_ / "down.safetensors");
  ASSERT_EQ(run_quicksr("average " + two + " --grid " + quoted(test_support::kSmallX2Int8) +
                        " --out " + quoted(dir_ / "mean-int8.safetensors"))
                .exit_code,
            0);
  const auto q = std::get<QuantizedQuickSRNet>(load_model(dir_ / "mean-int8.safetensors").net);
  EXPECT_EQ(quant::encodings_of(q), quant::encodings_of(grid));
  EXPECT_EQ(q.first.weight, grid.first.weight);
  EXPECT_EQ(q.body[1].weight, grid.body[1].weight);
  EXPECT_EQ(q.body[1].bias, grid.body[1].bias);
  EXPECT_EQ(q.last.weight_scale, grid.last.weight_scale);
  const auto up = quant::quantize_weights(shifted(dequantized, grid, 0.7f, 0.01f), grid);
  EXPECT_NE(up.body[1].weight, grid.body[1].weight);  // alone, a shifted model rounds elsewhere

  const auto other =
      run_quicksr("average " + quoted(dir_ / "up.safetensors") + " " +
                  quoted(test_support::kSmallX2Int8) + " --out " + quoted(dir_ / "x.safetensors"));
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.output.find(test_support::kSmallX2Int8.string() + ": expected a float"),
            std::string::npos)
      << other.output;
  EXPECT_FALSE(fs::exists(dir_ / "x.safetensors"));
}

// Outputs that would destroy an input or not load back are refused before any work: `average`
// writing over its --grid file (even with --overwrite), a model file named .onnx (read back as
// ONNX), and an ONNX export not named .onnx (read back as safetensors).
TEST_F(QuantizeCli, OutputsThatWouldReplaceTheGridOrNotLoadBackAreRefused) {
  const fs::path grid = dir_ / "grid.safetensors";
  fs::copy_file(test_support::kSmallX2Int8, grid);
  const auto bytes_of = [](const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
  };
  const std::string grid_bytes = bytes_of(grid);
  const QuickSRNet net = quant::dequantize_weights(
      std::get<QuantizedQuickSRNet>(load_model(test_support::kSmallX2Int8).net));
  save_model(Model{net, {}}, dir_ / "a.safetensors");
  const std::string inputs = quoted(dir_ / "a.safetensors") + " " + quoted(dir_ / "a.safetensors");
  const auto over_grid = run_quicksr("average " + inputs + " --grid " + quoted(grid) + " --out " +
                                     quoted(grid) + " --overwrite");
  EXPECT_EQ(over_grid.exit_code, 1);
  EXPECT_NE(over_grid.output.find(grid.string()), std::string::npos) << over_grid.output;
  EXPECT_TRUE(bytes_of(grid) == grid_bytes) << "the grid file changed";

  const auto named_onnx = run_quicksr("average " + inputs + " --out " + quoted(dir_ / "mean.onnx"));
  EXPECT_EQ(named_onnx.exit_code, 1);
  EXPECT_NE(named_onnx.output.find("mean.onnx: a quicksr model file (safetensors) cannot be named"),
            std::string::npos)
      << named_onnx.output;
  EXPECT_FALSE(fs::exists(dir_ / "mean.onnx"));

  const auto export_named =
      run_quicksr("export quicksrnet-small-x2 " + quoted(dir_ / "export.safetensors"));
  EXPECT_EQ(export_named.exit_code, 1);
  EXPECT_NE(export_named.output.find("export.safetensors: an ONNX file must be named .onnx"),
            std::string::npos)
      << export_named.output;
  EXPECT_FALSE(fs::exists(dir_ / "export.safetensors"));
}

// MODEL may name a built-in model, as for upscale and info: quantizing the built-in Small x2
// gives what quantizing its shipped file gives, and averaging it with itself gives it back.
TEST_F(QuantizeCli, BuiltinModelNamesAreModelArguments) {
  ASSERT_EQ(quantize("file-int8.safetensors").exit_code, 0);
  const auto builtin = run_quicksr("quantize quicksrnet-small-x2 --data " + quoted(dir_ / "calib") +
                                   " --out " + quoted(dir_ / "builtin-int8.safetensors"));
  ASSERT_EQ(builtin.exit_code, 0) << builtin.output;
  const auto from_file =
      std::get<QuantizedQuickSRNet>(load_model(dir_ / "file-int8.safetensors").net);
  const auto from_name =
      std::get<QuantizedQuickSRNet>(load_model(dir_ / "builtin-int8.safetensors").net);
  EXPECT_EQ(quant::encodings_of(from_name), quant::encodings_of(from_file));
  EXPECT_EQ(from_name.body[1].weight, from_file.body[1].weight);
  EXPECT_EQ(from_name.last.bias, from_file.last.bias);

  const auto average = run_quicksr("average quicksrnet-small-x2 quicksrnet-small-x2 --out " +
                                   quoted(dir_ / "mean.safetensors"));
  ASSERT_EQ(average.exit_code, 0) << average.output;
  const auto shipped = std::get<QuickSRNet>(load_model(kSmallX2).net);
  const auto mean = std::get<QuickSRNet>(load_model(dir_ / "mean.safetensors").net);
  EXPECT_EQ(mean.body[1].weight, shipped.body[1].weight);
  EXPECT_EQ(mean.last.bias, shipped.last.bias);
}

// `quantize --adaround` (run by quicksr-train): a valid INT8 model whose weights are each rounded
// down or up, with the round-to-nearest model's scales and encodings, that reconstructs the fp32
// model on its calibration images better than round-to-nearest does.
TEST_F(QuantizeCli, AdaRoundReconstructsItsCalibrationImagesBetterThanNearest) {
  if (!has_trainer()) GTEST_SKIP() << "built without training: no quicksr-train";
  if (!fs::exists(kTrain)) GTEST_SKIP() << kTrain << " is absent";
  copy_training_images(2);
  const std::string data = " --data " + quoted(dir_ / "train") + " --per-tensor";
  const auto nearest = run_quicksr("quantize " + quoted(kSmallX2) + data + " --out " +
                                   quoted(dir_ / "nearest.safetensors"));
  ASSERT_EQ(nearest.exit_code, 0) << nearest.output;
  const auto ada =
      run_quicksr("quantize " + quoted(kSmallX2) + data + " --adaround --adaround-iterations 100 " +
                  "--out " + quoted(dir_ / "ada.safetensors"));
  ASSERT_EQ(ada.exit_code, 0) << ada.output;
  EXPECT_NE(ada.output.find("adaround quicksrnet-small-x2"), std::string::npos) << ada.output;

  const QuickSRNet fp32 = std::get<QuickSRNet>(load_model(kSmallX2).net);
  const auto rounded = std::get<QuantizedQuickSRNet>(load_model(dir_ / "nearest.safetensors").net);
  const Model model = load_model(dir_ / "ada.safetensors");
  EXPECT_NE(model.provenance.at("quantization").find("+adaround"), std::string::npos);
  const auto& q = std::get<QuantizedQuickSRNet>(model.net);
  q.check();
  EXPECT_EQ(quant::encodings_of(q), quant::encodings_of(rounded));
  int moved = 0;
  for (std::size_t layer = 0; layer < q.body.size(); ++layer) {
    const Conv2d& conv = fp32.body[layer];
    EXPECT_EQ(q.body[layer].weight_scale, rounded.body[layer].weight_scale);
    for (std::size_t i = 0; i < conv.weight.size(); ++i) {
      const float v = conv.weight[i] / q.body[layer].scale_of(0);
      EXPECT_LT(std::abs(q.body[layer].weight[i] - v), 1.0f) << "body " << layer << " weight " << i;
      moved += q.body[layer].weight[i] != rounded.body[layer].weight[i];
    }
  }
  EXPECT_GT(moved, 0) << "AdaRound kept round-to-nearest everywhere";

  std::vector<Tensor> images;
  for (const auto& entry : fs::directory_iterator(dir_ / "train")) {
    images.push_back(
        make_lr(crop_to_multiple(to_tensor(read_image(entry.path())), Scale{2, 1}), Scale{2, 1}));
  }
  const double nearest_error = test_support::int8_error(rounded, fp32, images);
  const double ada_error = test_support::int8_error(q, fp32, images);
  EXPECT_LT(ada_error, nearest_error);
  std::cout << "mean squared error vs fp32 on the 2 calibration images: nearest " << nearest_error
            << ", AdaRound " << ada_error << " (" << moved << " body weights re-rounded)\n";
}

// `quantize --adaround` killed once its first conv is checkpointed resumes from
// OUT.quicksr-adaround when the same command runs again, and removes it once OUT is written;
// another command on the same OUT is refused and leaves it. OUT (so the checkpoint) lies in the
// calibration folder, and a calibration image's name is not UTF-8: neither may stop the resume.
// (That a resumed AdaRound equals an uninterrupted one:
// AdaRound.ResumedFromACheckpointGivesTheUninterruptedResult.)
TEST_F(QuantizeCli, AdaRoundResumesAfterAKill) {
  if (!has_trainer()) GTEST_SKIP() << "built without training: no quicksr-train";
  if (!fs::exists(kTrain)) GTEST_SKIP() << kTrain << " is absent";
  copy_training_images(2);
  const fs::path image = dir_ / "train" / "caf\xe9.jpg";  // Latin-1, not UTF-8
  fs::rename(image_files(dir_ / "train").front(), image);
  const fs::path out = dir_ / "train" / "ada.safetensors";
  const std::string command = "quantize " + quoted(kSmallX2) + " --data " + quoted(dir_ / "train") +
                              " --per-tensor --adaround --out " + quoted(out);
  const fs::path checkpoint = out.string() + ".quicksr-adaround";
  std::ofstream(dir_ / "kill.sh") << QUICKSR_BINARY << " " << command
                                  << " --adaround-iterations 40 > /dev/null 2>&1 &\n"
                                  << "pid=$!; for i in $(seq 6000); do [ -e " << quoted(checkpoint)
                                  << " ] && break; sleep 0.01; done\n"
                                  << "kill -KILL $pid; wait $pid\n";
  EXPECT_NE(std::system(("bash " + quoted(dir_ / "kill.sh")).c_str()), 0);
  ASSERT_TRUE(fs::exists(checkpoint));
  EXPECT_FALSE(fs::exists(out));

  const auto other = run_quicksr(command + " --adaround-iterations 41");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.output.find(checkpoint.string() + ": holds an unfinished AdaRound of another "
                                                    "command, model or calibration images"),
            std::string::npos)
      << other.output;
  const auto encodings_there = run_quicksr(
      command + " --adaround-iterations 40 --overwrite --encodings " + quoted(checkpoint));
  EXPECT_EQ(encodings_there.exit_code, 1);
  EXPECT_NE(encodings_there.output.find(checkpoint.string() + ": is where --adaround keeps"),
            std::string::npos)
      << encodings_there.output;
  ASSERT_TRUE(fs::exists(checkpoint));
  // The same command once a calibration image changed (here only its time) is refused too.
  const fs::file_time_type written = fs::last_write_time(image);
  fs::last_write_time(image, written + std::chrono::seconds(1));
  const auto other_images = run_quicksr(command + " --adaround-iterations 40");
  EXPECT_EQ(other_images.exit_code, 1);
  EXPECT_NE(other_images.output.find("another command, model or calibration images"),
            std::string::npos)
      << other_images.output;
  fs::last_write_time(image, written);

  const auto resumed = run_quicksr(command + " --adaround-iterations 40");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("adaround: resuming after "), std::string::npos) << resumed.output;
  EXPECT_FALSE(fs::exists(checkpoint));
  std::get<QuantizedQuickSRNet>(load_model(out).net).check();
}

// `--optimize-rounding --adaround`: AdaRound starts from the optimised rounding (one step at lr
// 1e-3 moves no weight across a level, so the weights are those of `--optimize-rounding` alone),
// not from the unrounded weights (one step from there gives about round to nearest, which
// differs). With the start margin 0.4999 every rounding variable starts 1e-4 from the level
// boundary, and Adam's first step (about 1e-3 on each variable, 3e-4 on h) carries those whose
// gradient points to the other level across it: AdaRound reports them per conv, and keeps them
// unless that conv's rounding then reconstructs its calibration patches worse than its start.
TEST_F(QuantizeCli, AdaRoundWithOptimizedRoundingStartsFromIt) {
  if (!has_trainer()) GTEST_SKIP() << "built without training: no quicksr-train";
  if (!fs::exists(kTrain)) GTEST_SKIP() << kTrain << " is absent";
  copy_training_images(2);
  std::string output;
  const auto weights_of = [&](const std::string& name, const std::string& options) {
    const auto run =
        run_quicksr("quantize " + quoted(kSmallX2) + " --data " + quoted(dir_ / "train") +
                    " --out " + quoted(dir_ / name) + " " + options);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    output = run.output;
    return test_support::s8_weights(std::get<QuantizedQuickSRNet>(load_model(dir_ / name).net));
  };
  const std::string one_step = " --adaround --adaround-iterations 1 --adaround-lr 1e-3";
  const std::vector<std::int8_t> optimized = weights_of("opt.safetensors", "--optimize-rounding");
  EXPECT_EQ(weights_of("warm.safetensors", "--optimize-rounding" + one_step), optimized);
  const std::vector<std::int8_t> cold = weights_of("cold.safetensors", one_step);
  ASSERT_EQ(cold.size(), optimized.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < cold.size(); ++i) differ += cold[i] != optimized[i];
  EXPECT_GT(differ, 100u);

  const std::vector<std::int8_t> near_boundary = weights_of(
      "margin.safetensors", "--optimize-rounding" + one_step + " --adaround-start-margin 0.4999");
  ASSERT_EQ(near_boundary.size(), optimized.size());
  for (std::size_t i = 0; i < near_boundary.size(); ++i) {
    EXPECT_LE(std::abs(near_boundary[i] - optimized[i]), 1) << "weight " << i;  // floor or ceil
  }
  std::size_t reported = 0;  // "adaround body.0: ..., 123 weights re-rounded, ..."
  const std::regex rerounded("([0-9]+) weights re-rounded");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), rerounded);
       it != std::sregex_iterator(); ++it) {
    reported += std::stoul((*it)[1].str());
  }
  EXPECT_GT(reported, 100u) << output;
}

// Mean Y-PSNR of `net`'s outputs (integer reference runtime) against the fp32 Small x2's (float
// reference runtime) on the LR images of dir's calibration images, made here as eval makes them.
double psnr_against_fp32(const QuantizedQuickSRNet& net, const fs::path& dir) {
  const QuickSRNet fp32 = std::get<QuickSRNet>(load_model(kSmallX2).net);
  double sum = 0;
  const std::vector<fs::path> files = image_files(dir);
  for (const fs::path& file : files) {
    const Tensor lr = make_lr(crop_to_multiple(to_tensor(read_image(file)), {2, 1}), {2, 1});
    sum += psnr(quant::forward(net, lr), reference::forward(fp32, lr));
  }
  return sum / static_cast<double>(files.size());
}

// `quantize --from INT8 --search-encodings`: the s8 weights of the start, encodings that score at
// least as well on the calibration images (scored here without the engine); bad starts refused.
TEST_F(QuantizeCli, SearchedEncodingsKeepTheWeightsAndDoNotLoseOnTheCalibrationImages) {
  ASSERT_EQ(quantize("start.safetensors").exit_code, 0);
  const std::string from = " --from " + quoted(dir_ / "start.safetensors");
  const auto result =
      quantize("searched.safetensors", from + " --search-encodings --search-step 0.1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Model model = load_model(dir_ / "searched.safetensors");
  EXPECT_NE(model.provenance.at("quantization").find("+searched-encodings (against fp32)"),
            std::string::npos);
  const auto& searched = std::get<QuantizedQuickSRNet>(model.net);
  const auto start = std::get<QuantizedQuickSRNet>(load_model(dir_ / "start.safetensors").net);
  EXPECT_EQ(test_support::s8_weights(searched), test_support::s8_weights(start));
  EXPECT_NE(quant::encodings_of(searched), quant::encodings_of(start));
  EXPECT_GT(psnr_against_fp32(searched, dir_ / "calib"), psnr_against_fp32(start, dir_ / "calib"));

  const auto fp32_start = quantize("other.safetensors", " --from " + quoted(kSmallX2));
  EXPECT_EQ(fp32_start.exit_code, 1);
  EXPECT_NE(fp32_start.output.find(kSmallX2.string() + ": --from needs an INT8"), std::string::npos)
      << fp32_start.output;
  const auto cle = quantize("other.safetensors", from + " --cle");
  EXPECT_EQ(cle.exit_code, 1);
  EXPECT_NE(cle.output.find("--cle cannot refine --from"), std::string::npos) << cle.output;
  EXPECT_FALSE(fs::exists(dir_ / "other.safetensors"));
}

TEST_F(QuantizeCli, UpscaleAndEvalRunInt8Models) {
  ASSERT_EQ(quantize("int8.safetensors").exit_code, 0);
  const fs::path input = dir_ / "calib" / "img1.png";
  const auto upscale = run_quicksr("upscale " + quoted(input) + " " + quoted(dir_ / "out.png") +
                                   " --model " + quoted(dir_ / "int8.safetensors"));
  ASSERT_EQ(upscale.exit_code, 0) << upscale.output;
  // The 8-bit output image is the u8 output of the integer reference runtime (output encoding
  // 1/255, zero point 0 for clipped outputs calibrated to reach 1).
  const auto q = std::get<QuantizedQuickSRNet>(load_model(dir_ / "int8.safetensors").net);
  const U8Tensor expected = quant::forward(q, quant::to_u8(to_tensor(read_image(input))));
  const Image written = read_image(dir_ / "out.png");
  ASSERT_EQ(written.width, expected.width);
  std::size_t mismatches = 0;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < expected.height; ++y) {
      for (int x = 0; x < expected.width; ++x) {
        const float real = quant::dequantize(expected.at(c, y, x), q.output);
        const long pixel = std::lround(written.rgb[(y * written.width + x) * 3 + c] * 255.0f);
        mismatches += pixel != std::lround(std::clamp(real, 0.0f, 1.0f) * 255.0f);
      }
    }
  }
  EXPECT_EQ(mismatches, 0u);

  const auto eval = run_quicksr("eval --model " + quoted(dir_ / "int8.safetensors") + " --data " +
                                quoted(dir_ / "calib") + " --compare-fp32 " + quoted(kSmallX2));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("fp32 PSNR"), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("drop"), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("quicksrnet-small-x2-int8"), std::string::npos) << eval.output;
}

// The error line after the progress bars: exactly one line.
std::string error_line(const test_support::RunResult& result) {
  const std::size_t error = result.output.find("quicksr quantize: error: ");
  if (error == std::string::npos) return "no error line in: " + result.output;
  EXPECT_EQ(std::count(result.output.begin() + error, result.output.end(), '\n'), 1)
      << result.output;
  return result.output.substr(error + 25, result.output.find('\n', error) - error - 25);
}

// --degradation point: calibration sees eval's point-sampled LR of the calibration images, so the
// encodings are those of the library's PTQ on those LR images (and not those of bicubic LR); the
// provenance says so, and an unknown degradation is refused in one line.
TEST_F(QuantizeCli, DegradationMakesTheCalibrationLr) {
  const auto point = quantize("point.safetensors", "--scheme tf --degradation point");
  ASSERT_EQ(point.exit_code, 0) << point.output;
  ASSERT_EQ(quantize("bicubic.safetensors", "--scheme tf").exit_code, 0);
  EvalProtocol protocol;
  protocol.degradation = Degradation::point;
  std::vector<Tensor> lr;
  for (const fs::path& file : image_files(dir_ / "calib")) {
    const Tensor hr = crop_to_multiple(to_tensor(read_image(file)), Scale{2, 1});
    lr.push_back(make_lr(hr, Scale{2, 1}, protocol));
  }
  quant::PtqOptions options;
  options.scheme = quant::EncodingScheme::kTf;
  const QuantizedQuickSRNet expected =
      quant::post_training_quantize(std::get<QuickSRNet>(load_model(kSmallX2).net), lr, options);
  const Model model = load_model(dir_ / "point.safetensors");
  const auto& actual = std::get<QuantizedQuickSRNet>(model.net);
  EXPECT_EQ(quant::encodings_of(actual), quant::encodings_of(expected));
  EXPECT_NE(quant::encodings_of(actual), quant::encodings_of(std::get<QuantizedQuickSRNet>(
                                             load_model(dir_ / "bicubic.safetensors").net)));
  EXPECT_NE(model.provenance.at("quantization").find("(LR by point)"), std::string::npos);
  EXPECT_EQ(error_line(quantize("sinc.safetensors", "--degradation sinc")),
            "degradation must be bicubic, point or area, not 'sinc'");
  EXPECT_FALSE(fs::exists(dir_ / "sinc.safetensors"));
}

// Graph models (the baselines): quantize, info, upscale (ABPN on the INT8 engine, equal to the
// integer reference runtime), bench and eval --compare-fp32; an op without INT8 support and the
// QuickSRNet-only options refused in one line.
TEST_F(QuantizeCli, QuantizesGraphModels) {
  for (const char* name : {"abpn", "erfdn"}) {
    save_model(
        Model{.net = build_baseline(name, {.scale = Scale{2, 1}, .seed = 1}), .provenance = {}},
        dir_ / (std::string(name) + ".safetensors"));
  }
  save_model(Model{.net = build_baseline("abpn", {.scale = Scale{3, 1}}), .provenance = {}},
             dir_ / "abpn-x3.safetensors");
  const fs::path fp32 = dir_ / "abpn.safetensors", int8 = dir_ / "abpn-int8.safetensors";
  const auto quantized = run_quicksr("quantize " + quoted(fp32) + " --data " +
                                     quoted(dir_ / "calib") + " --out " + quoted(int8));
  ASSERT_EQ(quantized.exit_code, 0) << quantized.output;
  const auto info = run_quicksr("info " + quoted(int8));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("abpn-x2-int8"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("INT8 (w8a8: s8 weights per channel"), std::string::npos);
  EXPECT_NE(info.output.find("activation encodings"), std::string::npos);
  EXPECT_NE(info.output.find("runtime: INT8 engine (band pipeline)"), std::string::npos)
      << info.output;
  const auto bench = run_quicksr("bench --model " + quoted(int8) +
                                 " --size 24x8 --threads 1 --runs 1 --precision int8 --json");
  if (bench.output.find("built without") == std::string::npos) {
    ASSERT_EQ(bench.exit_code, 0) << bench.output;
    for (const char* field : {"\"precision\":\"int8\"", "\"runtime\":\"engine (band pipeline)\"",
                              "\"engine_ms_min\":", "\"reference_ms_min\":"}) {
      EXPECT_NE(bench.output.find(field), std::string::npos) << field << " in " << bench.output;
    }
  }

  const fs::path input = dir_ / "calib" / "img1.png";
  const auto upscale = run_quicksr("upscale " + quoted(input) + " " + quoted(dir_ / "out.png") +
                                   " --model " + quoted(int8));
  ASSERT_EQ(upscale.exit_code, 0) << upscale.output;
  const auto q = std::get<QuantizedGraph>(load_model(int8).net);
  const U8Tensor expected = quant::forward(q, quant::to_u8(to_tensor(read_image(input))));
  const Image written = read_image(dir_ / "out.png");
  ASSERT_EQ(written.width, expected.width);
  ASSERT_EQ(written.height, expected.height);
  std::size_t mismatches = 0;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < expected.height; ++y) {
      for (int x = 0; x < expected.width; ++x) {
        const float real = quant::dequantize(expected.at(c, y, x), quant::output_encoding(q));
        const long pixel = std::lround(written.rgb[(y * written.width + x) * 3 + c] * 255.0f);
        mismatches += pixel != std::lround(std::clamp(real, 0.0f, 1.0f) * 255.0f);
      }
    }
  }
  EXPECT_EQ(mismatches, 0u);
  const auto eval = run_quicksr("eval --model " + quoted(int8) + " --data " +
                                quoted(dir_ / "calib") + " --compare-fp32 " + quoted(fp32));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("drop"), std::string::npos) << eval.output;

  const std::string calib = " --data " + quoted(dir_ / "calib") + " --out ";
  // ERFDN (LeakyReLU, sigmoid, mul, max pool, bilinear resize) quantizes too, on an image whose
  // LR (20 x 18) is large enough for ESA's strided conv and pool.
  fs::create_directories(dir_ / "calib-erfdn");
  write_calibration_image(dir_ / "calib-erfdn" / "img.png", 40, 36, 0);
  const auto erfdn = run_quicksr("quantize " + quoted(dir_ / "erfdn.safetensors") + " --data " +
                                 quoted(dir_ / "calib-erfdn") + " --out " +
                                 quoted(dir_ / "erfdn-int8.safetensors"));
  ASSERT_EQ(erfdn.exit_code, 0) << erfdn.output;
  EXPECT_EQ(load_model(dir_ / "erfdn-int8.safetensors").name(), "erfdn-x2-int8");
  // ... and runs on the INT8 engine (session 20; before, on the integer reference runtime).
  const auto erfdn_info = run_quicksr("info " + quoted(dir_ / "erfdn-int8.safetensors"));
  ASSERT_EQ(erfdn_info.exit_code, 0) << erfdn_info.output;
  EXPECT_NE(erfdn_info.output.find("runtime: INT8 engine (general-graph path)"), std::string::npos)
      << erfdn_info.output;
  // The paper's naive x1.5 (x3, then a 2x2 average pool): average pooling has no INT8 rule.
  const fs::path pooled = dir_ / "abpn-pooled.safetensors";
  ASSERT_EQ(run_quicksr("convert " + quoted(dir_ / "abpn-x3.safetensors") + " " + quoted(pooled) +
                        " --average-pool 2")
                .exit_code,
            0);
  EXPECT_EQ(
      error_line(run_quicksr("quantize " + quoted(pooled) + calib +
                             quoted(dir_ / "pooled-int8.safetensors"))),
      pooled.string() + ": INT8 graphs do not support op 'average_pool' (node 'average_pool')");
  EXPECT_FALSE(fs::exists(dir_ / "pooled-int8.safetensors"));
  EXPECT_EQ(error_line(run_quicksr("quantize " + quoted(fp32) + calib +
                                   quoted(dir_ / "other.safetensors") + " --optimize-rounding")),
            fp32.string() +
                ": --optimize-rounding is not available for graph models (QuickSRNet "
                "only)");
  EXPECT_FALSE(fs::exists(dir_ / "other.safetensors"));
}

}  // namespace
}  // namespace quicksr
