// `quicksr eval` end to end: the table, the JSON file, the scale check and bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "quicksr/eval.hpp"
#include "quicksr/fsr1.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/resize.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using quicksr::Scale;
using quicksr::Tensor;

namespace {

using quicksr::test_support::run_quicksr;
using quicksr::test_support::RunResult;

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "hr");
    // Two smooth, textured images (odd sizes so that cropping matters).
    for (int n = 0; n < 2; ++n) {
      quicksr::Image image;
      image.width = 41 + 6 * n;
      image.height = 37;
      for (int y = 0; y < image.height; ++y) {
        for (int x = 0; x < image.width; ++x) {
          image.rgb.push_back(0.5f + 0.4f * std::sin(0.3f * x + n));
          image.rgb.push_back(0.5f + 0.4f * std::cos(0.2f * y));
          image.rgb.push_back(0.5f + 0.3f * std::sin(0.15f * (x + y)));
        }
      }
      quicksr::write_image(image, dir_ / "hr" / ("img" + std::to_string(n) + ".png"));
    }
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // An identity-initialised QuickSRNet x2 at `name`: it upscales by pixel replication (paper
  // Eq. 1-3), so its outputs are those of a nearest-neighbour upscaler written out here.
  void save_identity_model(const std::string& name) const {
    quicksr::QuickSRNet net =
        quicksr::QuickSRNet::zeros(quicksr::QuickSRNetConfig::small(Scale{2, 1}));
    quicksr::add_identity_init(net);
    quicksr::Model model;
    model.net = net;
    quicksr::save_model(model, dir_ / name);
  }
  nlohmann::json read_json(const std::string& name) const {
    return nlohmann::json::parse(std::ifstream(dir_ / name));
  }
  quicksr::test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(EvalCli, BicubicWritesTableAndJson) {
  const RunResult run = run_quicksr("eval --method bicubic --scale 2 --data " + path("hr") +
                                    " --json " + path("scores.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("img0"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("mean"), std::string::npos) << run.output;

  const nlohmann::json json = read_json("scores.json");
  EXPECT_EQ(json["scale"].get<double>(), 2.0);
  ASSERT_EQ(json["images"].size(), 2u);
  EXPECT_EQ(json["images"][0]["name"], "img0");
  EXPECT_EQ(json["images"][1]["name"], "img1");
  // The same protocol run in-process with the library's bicubic (clipped like an image).
  const quicksr::EvalResult expected = quicksr::evaluate(
      [](const Tensor& lr) {
        Tensor sr = quicksr::resize_bicubic(lr, 2.0);
        for (float& v : sr.data) v = std::clamp(v, 0.0f, 1.0f);
        return sr;
      },
      dir_ / "hr", Scale{2, 1});
  EXPECT_NEAR(json["mean"]["psnr"].get<double>(), expected.mean_psnr, 0.01);
  EXPECT_NEAR(json["mean"]["ssim"].get<double>(), expected.mean_ssim, 1e-4);
  EXPECT_NEAR(json["images"][1]["psnr"].get<double>(), expected.images[1].psnr, 0.01);
}

TEST_F(EvalCli, ProtocolOptionsReachTheScores) {
  ASSERT_EQ(run_quicksr("eval --method bicubic --scale 3 --protocol basicsr --data " + path("hr") +
                        " --json " + path("basicsr.json"))
                .exit_code,
            0);
  const nlohmann::json json = read_json("basicsr.json");
  EXPECT_EQ(json["protocol"]["border"], 3);
  EXPECT_EQ(json["protocol"]["round_lr"], true);
  ASSERT_EQ(run_quicksr("eval --method bicubic --scale 3 --rgb --border 1 --data " + path("hr") +
                        " --json " + path("rgb.json"))
                .exit_code,
            0);
  const nlohmann::json rgb = read_json("rgb.json");
  EXPECT_EQ(rgb["protocol"]["border"], 1);
  EXPECT_EQ(rgb["protocol"]["rgb"], true);
  EXPECT_NE(rgb["mean"]["psnr"], json["mean"]["psnr"]);
}

Tensor nearest_x2(const Tensor& lr) {
  Tensor sr(3, lr.height * 2, lr.width * 2);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < sr.height; ++y) {
      for (int x = 0; x < sr.width; ++x) sr.at(c, y, x) = lr.at(c, y / 2, x / 2);
    }
  }
  return sr;
}

TEST_F(EvalCli, ModelScoresAndScaleCheck) {
  save_identity_model("identity.safetensors");
  const RunResult run = run_quicksr("eval --model " + path("identity.safetensors") + " --data " +
                                    path("hr") + " --json " + path("model.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const quicksr::EvalResult nearest = quicksr::evaluate(nearest_x2, dir_ / "hr", Scale{2, 1});
  EXPECT_NEAR(read_json("model.json")["mean"]["psnr"].get<double>(), nearest.mean_psnr, 1e-3);

  const RunResult wrong = run_quicksr("eval --model " + path("identity.safetensors") +
                                      " --scale 3 --data " + path("hr"));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("not 3"), std::string::npos) << wrong.output;
}

// --save writes each output as it was scored: under 'basicsr' (outputs rounded to 8 bits) the
// saved files are the nearest-neighbour upscales of the protocol's LR, and score what the JSON
// says.
TEST_F(EvalCli, SaveWritesEachOutputAsScored) {
  save_identity_model("identity.safetensors");
  const std::string command = "eval --model " + path("identity.safetensors") +
                              " --protocol basicsr --data " + path("hr") + " --save " +
                              path("out/sr") + " --json " + path("scores.json") + " --overwrite";
  const RunResult run = run_quicksr(command);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json json = read_json("scores.json");
  const quicksr::EvalProtocol protocol = quicksr::basicsr_protocol(Scale{2, 1});
  for (int n = 0; n < 2; ++n) {
    const std::string name = "img" + std::to_string(n);
    const Tensor hr = quicksr::crop_to_multiple(
        quicksr::to_tensor(quicksr::read_image(dir_ / "hr" / (name + ".png"))), Scale{2, 1});
    const Tensor want = nearest_x2(quicksr::make_lr(hr, Scale{2, 1}, protocol));
    const Tensor saved = quicksr::to_tensor(quicksr::read_image(dir_ / "out/sr" / (name + ".png")));
    ASSERT_EQ(saved.width, want.width);
    ASSERT_EQ(saved.height, want.height);
    for (std::size_t i = 0; i < want.data.size(); ++i) {
      ASSERT_NEAR(saved.data[i], want.data[i], 1e-6) << name << " value " << i;
    }
    EXPECT_NEAR(json["images"][n]["psnr"].get<double>(), quicksr::psnr(saved, hr, protocol), 1e-9);
  }
  // Bicubic's outputs are not 8-bit values: the saved files are the rounded outputs 'basicsr'
  // scored.
  ASSERT_EQ(run_quicksr("eval --method bicubic --scale 2 --protocol basicsr --data " + path("hr") +
                        " --save " + path("bicubic") + " --json " + path("bicubic.json"))
                .exit_code,
            0);
  const Tensor hr = quicksr::crop_to_multiple(
      quicksr::to_tensor(quicksr::read_image(dir_ / "hr/img1.png")), Scale{2, 1});
  const Tensor saved = quicksr::to_tensor(quicksr::read_image(dir_ / "bicubic/img1.png"));
  EXPECT_NEAR(read_json("bicubic.json")["images"][1]["psnr"].get<double>(),
              quicksr::psnr(saved, hr, protocol), 1e-9);
  // The saved files are outputs like any other: kept unless --overwrite, checked before any work.
  const auto written = fs::last_write_time(dir_ / "out/sr/img1.png");
  fs::remove(dir_ / "out/sr/img0.png");
  const RunResult again = run_quicksr("eval --model " + path("identity.safetensors") + " --data " +
                                      path("hr") + " --save " + path("out/sr"));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find(path("out/sr/img1.png")), std::string::npos) << again.output;
  EXPECT_FALSE(fs::exists(dir_ / "out/sr/img0.png"));
  EXPECT_EQ(fs::last_write_time(dir_ / "out/sr/img1.png"), written);
  EXPECT_EQ(run_quicksr(command).exit_code, 0);
}

// With --lr/--hr the files are named by the pair's name (the LR/HR words dropped).
TEST_F(EvalCli, SaveNamesPairsByTheirSharedName) {
  fs::create_directories(dir_ / "pairs");
  const Tensor hr = quicksr::crop_to_multiple(
      quicksr::to_tensor(quicksr::read_image(dir_ / "hr/img0.png")), Scale{2, 1});
  quicksr::write_image(quicksr::from_tensor(hr), dir_ / "pairs/img0_HR.png");
  quicksr::write_image(quicksr::from_tensor(quicksr::make_lr(hr, Scale{2, 1})),
                       dir_ / "pairs/img0_LR.png");
  const RunResult run = run_quicksr("eval --method bicubic --scale 2 --lr " + path("pairs") +
                                    " --hr " + path("pairs") + " --save " + path("out"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const quicksr::Image saved = quicksr::read_image(dir_ / "out/img0.png");
  EXPECT_EQ(saved.width, hr.width);
  EXPECT_EQ(saved.height, hr.height);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "out"), fs::directory_iterator()), 1);
}

// SRGD's native render pair (one folder, LR_270p.png and HR_1080p.png) against the score of the
// library's bicubic computed here.
TEST_F(EvalCli, GivenLrHrPairs) {
  const fs::path pair = fs::path(QUICKSR_SHARED_DIR) / "data/gaming/SRGD/pair";
  if (!fs::exists(pair / "LR_270p.png")) GTEST_SKIP() << pair << " is absent";
  const RunResult run = run_quicksr("eval --method bicubic --scale 4 --lr " + pair.string() +
                                    " --hr " + pair.string() + " --json " + path("pair.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json json = read_json("pair.json");
  ASSERT_EQ(json["images"].size(), 1u);
  Tensor sr =
      quicksr::resize_bicubic(quicksr::to_tensor(quicksr::read_image(pair / "LR_270p.png")), 4.0);
  for (float& v : sr.data) v = std::clamp(v, 0.0f, 1.0f);
  const Tensor hr = quicksr::to_tensor(quicksr::read_image(pair / "HR_1080p.png"));
  EXPECT_NEAR(json["mean"]["psnr"].get<double>(), quicksr::psnr(sr, hr), 1e-3);
  const RunResult half = run_quicksr("eval --lr " + pair.string() + " --scale 4");
  EXPECT_EQ(half.exit_code, 1);
  EXPECT_NE(half.output.find("--lr and --hr go together"), std::string::npos) << half.output;
}

// --method bicubic-opencv, --method fsr1 --sharpness S and --degradation reach the library.
TEST_F(EvalCli, ClassicMethodsScoreTheirLibraryFunctions) {
  quicksr::EvalProtocol point;
  point.degradation = quicksr::Degradation::point;
  const struct {
    std::string arguments;
    quicksr::UpscaleFn upscale;
    quicksr::EvalProtocol protocol = {};
  } cases[] = {
      {"--method bicubic-opencv",
       [](const Tensor& lr) {
         return quicksr::resize_bicubic(lr, 2.0, quicksr::BicubicFlavour::opencv);
       }},
      {"--method fsr1 --sharpness 1.5",
       [](const Tensor& lr) {
         quicksr::Fsr1Options options;
         options.sharpness = 1.5;
         return quicksr::fsr1_upscale(lr, 2.0, options);
       }},
      {"--method bicubic --degradation point",
       [](const Tensor& lr) { return quicksr::resize_bicubic(lr, 2.0); }, point},
  };
  for (const auto& c : cases) {
    const RunResult run = run_quicksr("eval " + c.arguments + " --scale 2 --data " + path("hr") +
                                      " --json " + path("scores.json") + " --overwrite");
    ASSERT_EQ(run.exit_code, 0) << c.arguments << "\n" << run.output;
    const double want =
        quicksr::evaluate(c.upscale, dir_ / "hr", Scale{2, 1}, c.protocol).mean_psnr;
    EXPECT_NEAR(read_json("scores.json")["mean"]["psnr"].get<double>(), want, 1e-6) << c.arguments;
  }
}

TEST_F(EvalCli, BadInputFailsWithAMessage) {
  // An LR that is the HR itself: the pair's sizes do not fit the scale.
  fs::create_directories(dir_ / "lr");
  fs::copy_file(dir_ / "hr" / "img0.png", dir_ / "lr" / "img0_LR.png");
  const struct {
    std::string arguments;
    std::string message;
  } cases[] = {
      {"eval --method bicubic --scale 2", "--data"},
      {"eval --method bicubic --data " + path("hr"), "--scale"},
      {"eval --method bicubic --scale 2 --protocol matlab --data " + path("hr"), "--protocol"},
      {"eval --method lanczos --scale 2 --data " + path("hr"), "--method"},
      {"eval --method bicubic --sharpness 1 --scale 2 --data " + path("hr"), "--sharpness"},
      {"eval --method fsr1 --sharpness -1 --scale 2 --data " + path("hr"), "--sharpness"},
      {"eval --method bicubic --scale 2 --degradation nearest --data " + path("hr"), "degradation"},
      {"eval --method bicubic --scale 2 --data " + path("missing"), "missing"},
      {"eval --model " + path("missing.safetensors") + " --data " + path("hr"),
       "missing.safetensors"},
      {"eval --method bicubic --scale 2 --lr " + path("lr") + " --hr " + path("hr"),
       "img0_LR.png: x2 of this 41x37 LR is 82x74, but its HR " + path("hr/img0.png") +
           " is 41x37"},
  };
  for (const auto& c : cases) {
    const RunResult run = run_quicksr(c.arguments);
    EXPECT_EQ(run.exit_code, 1) << c.arguments << "\n" << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << c.arguments << "\n" << run.output;
  }
  EXPECT_FALSE(fs::exists(dir_ / "scores.json"));
}

// Inputs that used to fail after the work, or as "internal error": each is one line naming the
// path or option; the model to compare with and the --save folder are checked before any image is
// scored.
TEST_F(EvalCli, ProblemsWithPathsAndOptionsFailBeforeTheWork) {
  std::ofstream(dir_ / "file.txt") << "not a folder";
  fs::create_directories(dir_ / "loop");
  fs::copy_file(dir_ / "hr" / "img0.png", dir_ / "loop" / "img0.png");
  fs::create_symlink("x.png", dir_ / "loop" / "x.png");  // a link to itself
  fs::copy(dir_ / "hr", dir_ / "lr");
  const std::string bicubic = "eval --method bicubic --scale 2 ";
  const struct {
    std::string arguments;
    std::string message;
    bool before_the_work = true;
  } cases[] = {
      {"--data " + path("hr") + " --compare-fp32 " + path("missing.safetensors") + " --json " +
           path("compared.json"),
       "missing.safetensors"},
      {"--data " + path("hr") + " --compare-fp32 quicksrnet-small-x3",
       "quicksrnet-small-x3: upscales by 3, not 2"},
      {"--data " + path("hr") + " --save " + path("file.txt/sub"),
       path("file.txt/sub") + ": cannot make the --save folder"},
      {"--data " + path("loop"), path("loop/x.png") + ": ", false},
      {"--lr " + path("lr") + " --hr " + path("hr") + " --round-lr",
       "--round-lr is how the LR of --data is made"},
  };
  for (const auto& c : cases) {
    const RunResult run = run_quicksr(bicubic + c.arguments);
    EXPECT_EQ(run.exit_code, 1) << c.arguments << "\n" << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << c.arguments << "\n" << run.output;
    if (c.before_the_work) {
      EXPECT_EQ(run.output.find("evaluating"), std::string::npos) << c.arguments << "\n"
                                                                  << run.output;
    }
    EXPECT_EQ(run.output.find("internal error"), std::string::npos) << run.output;
  }
  EXPECT_FALSE(fs::exists(dir_ / "compared.json"));
}

// Hidden files (macOS "._img0.png") are not images of the set; a name that is not UTF-8 is kept
// in the JSON with U+FFFD for the bytes JSON cannot hold.
TEST_F(EvalCli, HiddenFilesAreSkippedAndNamesThatAreNotUtf8ReachTheJson) {
  std::ofstream(dir_ / "hr" / "._img0.png") << "macOS resource fork";
  fs::copy_file(dir_ / "hr" / "img1.png", dir_ / "hr" / "caf\xe9.png");
  const RunResult run = run_quicksr("eval --method bicubic --scale 2 --data " + path("hr") +
                                    " --json " + path("scores.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json json = read_json("scores.json");
  ASSERT_EQ(json["images"].size(), 3u);
  EXPECT_EQ(json["images"][0]["name"], "caf\xef\xbf\xbd");
}

TEST_F(EvalCli, SaveRefusesFoldersItMustNotWriteAndSharedNames) {
  fs::create_directories(dir_ / "twins");
  fs::copy_file(dir_ / "hr" / "img0.png", dir_ / "twins" / "img0.png");
  quicksr::write_image(quicksr::read_image(dir_ / "hr" / "img1.png"), dir_ / "twins" / "img0.jpg");
  std::ofstream(dir_ / "file.txt") << "not a folder";
  const std::string bicubic = "eval --method bicubic --scale 2 ";
  const struct {
    std::string arguments;
    std::string message;
  } cases[] = {
      {"--data " + path("hr") + " --save " + path("hr"),
       path("hr") + ": refusing to write into the data folder"},
      {"--data " + path("hr") + " --save " + path("file.txt"),
       path("file.txt") + ": --save needs a folder"},
      {"--data " + path("twins") + " --save " + path("out"),
       path("out/img0.png") + ": two images of " + path("twins") + " are named 'img0'"},
  };
  for (const auto& c : cases) {
    const RunResult run = run_quicksr(bicubic + c.arguments);
    EXPECT_EQ(run.exit_code, 1) << c.arguments << "\n" << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << c.arguments << "\n" << run.output;
  }
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "hr"), fs::directory_iterator()), 2);
}

}  // namespace
