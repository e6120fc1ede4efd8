// End-to-end checks of the quicksr command: exit codes, messages, and that files are never lost.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "quicksr/engine.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/reference.hpp"
#include "support/random_tensor.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

using quicksr::test_support::run_quicksr;
using quicksr::test_support::RunResult;

class CliTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A small image with a horizontal ramp in R and a vertical ramp in G.
  std::string write_sample(const std::string& name, int w, int h, bool alpha = false,
                           int bit_depth = 8) {
    quicksr::Image image;
    image.width = w;
    image.height = h;
    image.bit_depth = bit_depth;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        image.rgb.insert(image.rgb.end(), {x / float(w), y / float(h), 0.5f});
        if (alpha) image.alpha.push_back((x + y) % 2 ? 1.0f : 0.25f);
      }
    }
    quicksr::write_image(image, path(name));
    return path(name);
  }

  std::size_t file_count() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }

  quicksr::test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(CliTest, VersionAndHelpOfEveryCommand) {
  EXPECT_EQ(run_quicksr("--version").exit_code, 0);
  const RunResult help = run_quicksr("--help");
  ASSERT_EQ(help.exit_code, 0);
  for (const char* command : {"upscale", "info"}) {
    EXPECT_NE(help.output.find(command), std::string::npos) << command;
    const RunResult sub = run_quicksr(std::string(command) + " --help");
    EXPECT_EQ(sub.exit_code, 0) << command;
    EXPECT_NE(sub.output.find("usage: quicksr"), std::string::npos) << sub.output;
  }
  EXPECT_NE(run_quicksr("no-such-command").exit_code, 0);
}

// video, train and bench run the helper executables beside quicksr (quicksr-video, always built
// with quicksr; quicksr-train and quicksr-bench, built when LibTorch and oneDNN are there).
TEST_F(CliTest, HelperCommandsRunTheExecutableBesideQuicksr) {
  for (const std::string command : {"video", "train", "bench"}) {
    const fs::path helper = fs::path(QUICKSR_BINARY).parent_path() / ("quicksr-" + command);
    if (!fs::exists(helper)) {
      EXPECT_NE(command, "video") << "quicksr-video is built with quicksr";
      continue;
    }
    const RunResult help = run_quicksr(command + " --help");
    EXPECT_EQ(help.exit_code, 0) << help.output;
    EXPECT_EQ(help.output.rfind("usage: quicksr " + command, 0), 0u) << help.output;
    const RunResult bad = run_quicksr(command + " --bogus");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(bad.output, "quicksr " + command + ": error: unknown option --bogus (see quicksr " +
                              command + " --help)\n");
  }
}

// An option given where its value belongs ("--json --overwrite" would write a file named
// --overwrite) and an unknown short option are errors naming them, not a value or a positional;
// a fraction where a whole number belongs says so.
TEST_F(CliTest, AnOptionInPlaceOfAValueAndUnknownShortOptionsAreNamed) {
  const std::string eval = "eval --method bicubic --scale 2 --data " + dir_.string();
  const RunResult swallowed = run_quicksr(eval + " --json --overwrite");
  EXPECT_EQ(swallowed.exit_code, 1);
  EXPECT_EQ(swallowed.output,
            "quicksr eval: error: option --json needs a value, not the option --overwrite\n");
  EXPECT_FALSE(fs::exists("--overwrite"));
  const RunResult fraction = run_quicksr("init fsrcnn " + path("x.safetensors") + " --scale 1.5");
  EXPECT_EQ(fraction.exit_code, 1);
  EXPECT_NE(fraction.output.find("option --scale: '1.5' is not a whole number"), std::string::npos)
      << fraction.output;
  const RunResult short_option = run_quicksr("upscale in.png out.png -x");
  EXPECT_EQ(short_option.exit_code, 1);
  EXPECT_EQ(short_option.output,
            "quicksr upscale: error: unknown option -x (see quicksr upscale --help)\n");
}

TEST_F(CliTest, MissingHelperIsOneClearLine) {
  const fs::path alone = dir_ / "quicksr";
  fs::copy_file(QUICKSR_BINARY, alone);
  for (const std::string command : {"video", "train", "bench"}) {
    const RunResult result =
        quicksr::test_support::run_program(alone.string(), command + " --help");
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_EQ(result.output.find("quicksr " + command + ": error: " + (dir_ / "quicksr-").string() +
                                 command + " is missing"),
              0u)
        << result.output;
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  }
}

TEST_F(CliTest, CorruptInputGivesClearErrorAndNoOutput) {
  const std::string input = path("corrupt.png");
  std::ofstream(input) << "\x89PNG\r\n\x1a\n this is not a png";
  const RunResult upscale = run_quicksr("upscale " + input + " " + path("out.png"));
  EXPECT_EQ(upscale.exit_code, 1);
  EXPECT_NE(upscale.output.find("corrupt.png"), std::string::npos) << upscale.output;
  EXPECT_FALSE(fs::exists(path("out.png")));
  EXPECT_EQ(file_count(), 1u) << "no temporary files may be left behind";
}

TEST_F(CliTest, MissingInputNamesTheFile) {
  const RunResult result = run_quicksr("upscale " + path("absent.png") + " " + path("out.png"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("absent.png"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(path("out.png")));
}

TEST_F(CliTest, NeverOverwritesInputAndAsksBeforeReplacingOutput) {
  const std::string input = write_sample("in.png", 6, 4);
  const auto before = fs::file_size(input);
  EXPECT_EQ(run_quicksr("upscale " + input + " " + input + " --overwrite").exit_code, 1);
  EXPECT_EQ(fs::file_size(input), before);

  const std::string output = path("out.png");
  std::ofstream(output) << "keep me";
  const RunResult refused = run_quicksr("upscale " + input + " " + output);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("--overwrite"), std::string::npos) << refused.output;
  EXPECT_EQ(fs::file_size(output), 7u);

  EXPECT_EQ(run_quicksr("upscale " + input + " " + output + " --overwrite --quiet").exit_code, 0);
  EXPECT_EQ(quicksr::read_image(output).width, 12);
}

// A folder at the output path is refused before any work, even with --overwrite (the final rename
// could not replace it), and left as it was.
TEST_F(CliTest, FolderAtTheOutputPathIsRefusedBeforeTheWork) {
  const std::string input = write_sample("in.png", 6, 4);
  fs::create_directory(path("out.png"));
  std::ofstream(path("out.png/kept")) << "kept";
  const RunResult refused =
      run_quicksr("upscale " + input + " " + path("out.png") + " --overwrite");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find(path("out.png") + ": is a folder; name the file to write"),
            std::string::npos)
      << refused.output;
  EXPECT_TRUE(fs::exists(path("out.png/kept")));
}

TEST_F(CliTest, BicubicScalesAndKeepsGrayAlphaAndDepth) {
  const std::string rgba16 = write_sample("rgba16.png", 5, 3, /*alpha=*/true, /*bit_depth=*/16);
  ASSERT_EQ(run_quicksr("upscale " + rgba16 + " " + path("x3.png") + " --method bicubic --scale 3")
                .exit_code,
            0);
  const quicksr::Image x3 = quicksr::read_image(path("x3.png"));
  EXPECT_EQ(x3.width, 15);
  EXPECT_EQ(x3.height, 9);
  EXPECT_TRUE(x3.has_alpha());
  EXPECT_EQ(x3.bit_depth, 16);

  quicksr::Image gray;
  gray.width = 4;
  gray.height = 4;
  gray.gray = true;
  for (int i = 0; i < 16; ++i) gray.rgb.insert(gray.rgb.end(), 3, i / 15.0f);
  quicksr::write_image(gray, path("gray.png"));
  ASSERT_EQ(
      run_quicksr("upscale " + path("gray.png") + " " + path("gray2.png") + " --method bicubic")
          .exit_code,
      0);
  const quicksr::Image gray2 = quicksr::read_image(path("gray2.png"));
  EXPECT_TRUE(gray2.gray);
  EXPECT_EQ(gray2.width, 8);
}

TEST_F(CliTest, RejectsBadOptionsAndUnknownFormats) {
  const std::string input = write_sample("in.png", 4, 4);
  EXPECT_EQ(run_quicksr("upscale " + input + " " + path("out.gif")).exit_code, 1);
  EXPECT_EQ(run_quicksr("upscale " + input + " " + path("out.png") + " --quality 0").exit_code, 1);
  EXPECT_EQ(run_quicksr("upscale " + input + " " + path("out.png") + " --scale 7").exit_code, 1);
  EXPECT_EQ(run_quicksr("upscale " + input + " " + path("out.png") + " --bogus").exit_code, 1);
  EXPECT_FALSE(fs::exists(path("out.png")));
}

// `quicksr info` names the engine's ISA level and kernels; QUICKSR_ISA forces a level.
TEST_F(CliTest, InfoNamesTheEngineIsaAndQuicksrIsaForcesIt) {
  const quicksr::Model model{
      quicksr::QuickSRNet::initialized(quicksr::QuickSRNetConfig::small({2, 1}), 7), {}};
  quicksr::save_model(model, path("small.safetensors"));
  const std::string command = "info " + path("small.safetensors");
  ::unsetenv("QUICKSR_ISA");
  const RunResult best = run_quicksr(command);
  ASSERT_EQ(best.exit_code, 0) << best.output;
  EXPECT_NE(best.output.find("engine ISA: " + std::string(quicksr::isa_name(quicksr::best_isa()))),
            std::string::npos)
      << best.output;
  ::setenv("QUICKSR_ISA", "scalar", 1);
  const RunResult scalar = run_quicksr(command);
  ::setenv("QUICKSR_ISA", "avx3", 1);
  const RunResult unknown = run_quicksr(command);
  ::unsetenv("QUICKSR_ISA");
  ASSERT_EQ(scalar.exit_code, 0) << scalar.output;
  EXPECT_NE(scalar.output.find("engine ISA: scalar"), std::string::npos) << scalar.output;
  EXPECT_NE(scalar.output.find("f32-conv3x3/scalar"), std::string::npos) << scalar.output;
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("QUICKSR_ISA: unknown instruction set 'avx3'"), std::string::npos)
      << unknown.output;
}

// `quicksr bench --json` on a tiny frame: the ISA it was told, the peak of that ISA's vector width,
// both work counts and a oneDNN baseline whose output matched the engine's.
TEST_F(CliTest, BenchReportsIsaPeakKindAndAVerifiedOneDnnBaseline) {
  const RunResult scalar =
      run_quicksr("bench --size 24x8 --threads 1 --runs 1 --reference-runs 1 --json --isa scalar");
  if (scalar.output.find("built without") != std::string::npos) {
    GTEST_SKIP() << "quicksr was built without the benchmark support: " << scalar.output;
  }
  if (!quicksr::cpu_supports(quicksr::Isa::kAvx2Fma)) {
    GTEST_SKIP() << "the bench's FMA peak needs AVX2+FMA, which this CPU lacks";
  }
  ASSERT_EQ(scalar.exit_code, 0) << scalar.output;
  const nlohmann::json report = nlohmann::json::parse(scalar.output);
  EXPECT_EQ(report["isa"], "scalar");
  EXPECT_EQ(report["precision"], "fp32");
  EXPECT_EQ(report["peak_kind"], "avx2-fma");
  EXPECT_GT(report["peak_gflops"].get<double>(), 0.0);
  // Small x2 at 24x8: 2 * 22752 and 2 * 11808 multiply-adds per pixel.
  EXPECT_NEAR(report["gflop_per_frame"].get<double>(), 2.0 * 22752 * 24 * 8 / 1e9, 1e-12);
  EXPECT_NEAR(report["gflop_executed_per_frame"].get<double>(), 2.0 * 11808 * 24 * 8 / 1e9, 1e-12);
  EXPECT_LE(report["onednn_max_abs_diff"].get<double>(), 1e-4);
  EXPECT_GT(report["speedup_vs_onednn"].get<double>(), 0.0);
  EXPECT_GT(report["speedup_vs_reference"].get<double>(), 0.0);

  const RunResult bad = run_quicksr("bench --size 24x8 --runs 1 --isa avx3");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("unknown instruction set 'avx3'"), std::string::npos) << bad.output;
  for (const char* size : {"99999x8", "24x8x", "24x-8", "x8"}) {  // past the limit, or not WxH
    const RunResult wrong = run_quicksr(std::string("bench --runs 1 --size ") + size);
    EXPECT_EQ(wrong.exit_code, 1) << size;
    EXPECT_NE(wrong.output.find("--size: expected WxH with sides 1..16384"), std::string::npos)
        << wrong.output;
  }
  if (quicksr::cpu_supports(quicksr::Isa::kAvx512)) {
    const RunResult avx512 = run_quicksr(
        "bench --size 24x8 --threads 1 --runs 1 --reference-runs 0 --no-onednn --json --isa "
        "avx512");
    ASSERT_EQ(avx512.exit_code, 0) << avx512.output;
    EXPECT_EQ(nlohmann::json::parse(avx512.output)["peak_kind"], "avx512-fma");
  }
}

// An INT8 model file sets the precision (its dequantized weights serve the fp32 rows); asking
// for fp32 on it is an error naming the file.
TEST_F(CliTest, BenchTakesInt8FromAnInt8ModelFile) {
  quicksr::ActivationEncodings encodings;
  encodings.features.assign(3, quicksr::ActivationEncoding{});
  const quicksr::Model model{
      quicksr::quant::quantize_weights(
          quicksr::QuickSRNet::initialized(quicksr::QuickSRNetConfig::small({2, 1}), 3), encodings,
          quicksr::WeightGranularity::kPerChannel),
      {}};
  quicksr::save_model(model, path("small-int8.safetensors"));
  const std::string bench = "bench --size 24x8 --threads 1 --runs 1 --reference-runs 1 --model " +
                            path("small-int8.safetensors");
  const RunResult run = run_quicksr(bench + " --json");
  if (run.output.find("built without") != std::string::npos) {
    GTEST_SKIP() << "quicksr was built without the benchmark support: " << run.output;
  }
  if (!quicksr::cpu_supports(quicksr::Isa::kAvx2Fma)) {
    GTEST_SKIP() << "the bench's FMA peak needs AVX2+FMA, which this CPU lacks";
  }
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json report = nlohmann::json::parse(run.output);
  EXPECT_EQ(report["precision"], "int8");
  EXPECT_EQ(report["kernel"].get<std::string>().rfind("qu8-conv3x3/", 0), 0u) << report["kernel"];
  // Small x2 at 24x8: 2 * 22752 multiply-adds per pixel, all of them executed (direct convs).
  EXPECT_NEAR(report["gop_per_frame"].get<double>(), 2.0 * 22752 * 24 * 8 / 1e9, 1e-12);
  EXPECT_EQ(report["gop_executed_per_frame"], report["gop_per_frame"]);
  EXPECT_LE(report["onednn_int8_max_abs_diff"].get<double>(), 1.0);
  EXPECT_LE(report["onednn_max_abs_diff"].get<double>(), 1e-4);
  EXPECT_GT(report["speedup_vs_onednn_int8"].get<double>(), 0.0);
  EXPECT_GT(report["speedup_vs_fp32_engine"].get<double>(), 0.0);
  EXPECT_GT(report["speedup_vs_reference"].get<double>(), 0.0);

  const RunResult fp32 = run_quicksr(bench + " --precision fp32");
  EXPECT_EQ(fp32.exit_code, 1);
  EXPECT_NE(fp32.output.find("small-int8.safetensors: an INT8 model"), std::string::npos)
      << fp32.output;
}

TEST_F(CliTest, ModelFileUpscalesAndInfoDescribesIt) {
  const quicksr::Model model{
      quicksr::QuickSRNet::initialized(quicksr::QuickSRNetConfig::small({3, 1}), 7), {}};
  quicksr::save_model(model, path("small.safetensors"));
  const RunResult info = run_quicksr("info " + path("small.safetensors"));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("f32-m2"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("x3"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("activation: relu1 (clamp(x, 0, 1))"), std::string::npos)
      << info.output;
  quicksr::QuickSRNetConfig relu = quicksr::QuickSRNetConfig::small({3, 1});
  relu.activation = quicksr::Activation::kReLU;
  quicksr::save_model({quicksr::QuickSRNet::initialized(relu, 7), {}}, path("relu.safetensors"));
  const RunResult relu_info = run_quicksr("info " + path("relu.safetensors"));
  EXPECT_NE(relu_info.output.find("activation: relu (max(x, 0))"), std::string::npos)
      << relu_info.output;

  const std::string input = write_sample("in.png", 7, 5);
  const std::string args = input + " " + path("out.png") + " --model " + path("small.safetensors");
  ASSERT_EQ(run_quicksr("upscale " + args).exit_code, 0);
  EXPECT_EQ(quicksr::read_image(path("out.png")).width, 21);
  EXPECT_EQ(run_quicksr("upscale " + args + " --overwrite --scale 2").exit_code, 1);

  std::ofstream(path("broken.safetensors")) << "not a model";
  const RunResult broken = run_quicksr("info " + path("broken.safetensors"));
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.output.find("broken.safetensors"), std::string::npos) << broken.output;
}

// `quicksr init` writes an initialised baseline that info describes (conv MACs counted by hand:
// ESPCN x3 is 5x5 3->64, 3x3 64->32, 3x3 32->27 per input pixel) and upscale runs; a bad name or
// an existing output is one clear line and no file.
TEST_F(CliTest, InitWritesABaselineThatInfoAndUpscaleUse) {
  const RunResult init = run_quicksr("init espcn " + path("espcn.safetensors") + " --scale 3");
  ASSERT_EQ(init.exit_code, 0) << init.output;
  const RunResult info = run_quicksr("info " + path("espcn.safetensors"));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  const int macs = 25 * 3 * 64 + 9 * 64 * 32 + 9 * 32 * 27;
  EXPECT_NE(info.output.find("conv MACs per input pixel: " + std::to_string(macs)),
            std::string::npos)
      << info.output;
  EXPECT_NE(info.output.find("tanh 2"), std::string::npos) << info.output;
  const std::string input = write_sample("in.png", 7, 5);
  ASSERT_EQ(run_quicksr("upscale " + input + " " + path("out.png") + " --model " +
                        path("espcn.safetensors"))
                .exit_code,
            0);
  EXPECT_EQ(quicksr::read_image(path("out.png")).width, 21);

  const RunResult exists = run_quicksr("init xlsr " + path("espcn.safetensors"));
  EXPECT_EQ(exists.exit_code, 1);
  EXPECT_NE(exists.output.find("already exists"), std::string::npos) << exists.output;
  const RunResult unknown = run_quicksr("init srcnn " + path("srcnn.safetensors"));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("unknown baseline \"srcnn\""), std::string::npos) << unknown.output;
  EXPECT_FALSE(fs::exists(path("srcnn.safetensors")));
}

// `quicksr info` says which runtime a graph gets: the engine for ESPCN, FSRCNN (its transposed
// conv as phase convs) and ERFDN (ESA's strided conv, pool and resize). (The refusal's reason:
// graph_engine_test's RefusesUnsupportedGraphsWithTheReason.)
TEST_F(CliTest, InfoSaysWhetherTheEngineRunsAGraph) {
  for (const char* name : {"espcn", "fsrcnn", "erfdn"}) {
    const std::string file = path(std::string(name) + ".safetensors");
    ASSERT_EQ(run_quicksr("init " + std::string(name) + " " + file).exit_code, 0);
    const RunResult info = run_quicksr("info " + file);
    ASSERT_EQ(info.exit_code, 0) << info.output;
    EXPECT_NE(info.output.find("runtime: engine"), std::string::npos) << info.output;
    EXPECT_NE(info.output.find("engine kernels: f32-conv3x3/"), std::string::npos) << info.output;
  }
}

// `quicksr bench --model GRAPH`: the engine against the reference for a graph the engine runs
// (ESPCN x3: 5x5 3->64, 3x3 64->32, 3x3 32->27 multiply-adds per pixel; ERFDN); ABPN on the band
// pipeline.
TEST_F(CliTest, BenchTimesGraphsOnTheEngineOrTheReference) {
  ASSERT_EQ(run_quicksr("init espcn " + path("espcn.safetensors") + " --scale 3").exit_code, 0);
  ASSERT_EQ(run_quicksr("init erfdn " + path("erfdn.safetensors")).exit_code, 0);
  const std::string options = " --size 24x8 --threads 1 --runs 1 --json";
  const RunResult espcn = run_quicksr("bench --model " + path("espcn.safetensors") + options);
  if (espcn.output.find("built without") != std::string::npos) {
    GTEST_SKIP() << "quicksr was built without the benchmark support: " << espcn.output;
  }
  ASSERT_EQ(espcn.exit_code, 0) << espcn.output;
  const nlohmann::json report = nlohmann::json::parse(espcn.output);
  EXPECT_EQ(report["runtime"], "engine (general-graph path)");
  const int macs = 25 * 3 * 64 + 9 * 64 * 32 + 9 * 32 * 27;
  EXPECT_NEAR(report["gflop_per_frame"].get<double>(), 2.0 * macs * 24 * 8 / 1e9, 1e-12);
  EXPECT_GT(report["speedup_vs_reference"].get<double>(), 0.0);
  const RunResult erfdn = run_quicksr("bench --model " + path("erfdn.safetensors") +
                                      " --size 24x16 --threads 1 --runs 1 --json");
  ASSERT_EQ(erfdn.exit_code, 0) << erfdn.output;
  const nlohmann::json erfdn_report = nlohmann::json::parse(erfdn.output);
  EXPECT_EQ(erfdn_report["runtime"], "engine (general-graph path)");
  EXPECT_GT(erfdn_report["engine_ms_min"].get<double>(), 0.0);
  EXPECT_GT(erfdn_report["reference_ms_min"].get<double>(), 0.0);
  // ABPN is a QuickSRNet-like conv chain: the engine runs it on the band pipeline.
  ASSERT_EQ(run_quicksr("init abpn " + path("abpn.safetensors")).exit_code, 0);
  const RunResult abpn = run_quicksr("bench --model " + path("abpn.safetensors") + options);
  ASSERT_EQ(abpn.exit_code, 0) << abpn.output;
  EXPECT_EQ(nlohmann::json::parse(abpn.output)["runtime"], "engine (band pipeline)");
}

// `quicksr convert MODEL OUT --average-pool 2` (the paper's naive x1.5: x3, then a 2x2 average
// pool) computes the shipped Small x3's reference output averaged over 2x2 blocks here by hand; an
// INT8 model is refused with one line and no file.
TEST_F(CliTest, ConvertAveragePoolIsTheX3OutputAveragedOverBlocks) {
  const quicksr::Model x3 = quicksr::load_model(fs::path(QUICKSR_SOURCE_DIR) / "models" /
                                                "quicksrnet-small-x3.safetensors");
  const RunResult convert =
      run_quicksr("convert quicksrnet-small-x3 " + path("naive.safetensors") + " --average-pool 2");
  ASSERT_EQ(convert.exit_code, 0) << convert.output;
  const quicksr::Model naive = quicksr::load_model(path("naive.safetensors"));
  ASSERT_TRUE(std::holds_alternative<quicksr::Graph>(naive.net));
  EXPECT_EQ(naive.scale(), (quicksr::Scale{3, 2}));

  const quicksr::Tensor input = quicksr::test_support::random_tensor(3, 6, 8, 5);
  const quicksr::Tensor upscaled =
      quicksr::reference::forward(std::get<quicksr::QuickSRNet>(x3.net), input);
  const quicksr::Tensor pooled =
      quicksr::reference::forward(std::get<quicksr::Graph>(naive.net), input);
  ASSERT_EQ(pooled.channels, 3);
  ASSERT_EQ(pooled.height, 9);
  ASSERT_EQ(pooled.width, 12);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 9; ++y) {
      for (int x = 0; x < 12; ++x) {
        const float mean =
            (upscaled.at(c, 2 * y, 2 * x) + upscaled.at(c, 2 * y, 2 * x + 1) +
             upscaled.at(c, 2 * y + 1, 2 * x) + upscaled.at(c, 2 * y + 1, 2 * x + 1)) /
            4.0f;
        ASSERT_NEAR(pooled.at(c, y, x), mean, 1e-5f) << c << " " << y << " " << x;
      }
    }
  }

  const RunResult int8 = run_quicksr(
      "convert " +
      (fs::path(QUICKSR_SOURCE_DIR) / "models" / "quicksrnet-small-x3-int8.safetensors").string() +
      " " + path("int8.safetensors") + " --average-pool 2");
  EXPECT_EQ(int8.exit_code, 1);
  EXPECT_NE(int8.output.find("--average-pool needs a float model"), std::string::npos)
      << int8.output;
  EXPECT_FALSE(fs::exists(path("int8.safetensors")));
}

// `quicksr models` lists the built-in models and a folder's files, with the validation score of
// the provenance and the Set5 / Set14 / BSD100 column of the model card (hand-written here).
TEST_F(CliTest, ModelsListsBuiltinsAndCardScores) {
  quicksr::Model model{
      quicksr::QuickSRNet::initialized(quicksr::QuickSRNetConfig::small({3, 1}), 7), {}};
  model.provenance["validation_psnr"] = "30.5";
  model.provenance["validation"] = "/data/Kodak24";
  quicksr::save_model(model, path("mine.safetensors"));
  std::ofstream(path("mine.md")) << "# mine\n\n| set | PSNR (dB) | SSIM |\n|---|---|---|\n"
                                    "| Set5 | 31.250 | 0.9 |\n| BSD100 | 27.125 | 0.8 |\n";
  std::ofstream(path("broken.safetensors")) << "junk";  // warned about; the others still listed
  const RunResult run = run_quicksr("models --dir " + dir_.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("warning: " + path("broken.safetensors") + ": too short"),
            std::string::npos)
      << run.output;
  std::istringstream lines(run.output);
  std::map<std::string, std::string> rows;  // first word -> line
  for (std::string line; std::getline(lines, line);) rows[line.substr(0, line.find(' '))] = line;
  ASSERT_TRUE(rows.contains("mine")) << run.output;
  EXPECT_NE(rows["mine"].find("31.250 / - / 27.125"), std::string::npos) << rows["mine"];
  EXPECT_NE(rows["mine"].find("30.5 (Kodak24)"), std::string::npos) << rows["mine"];
  EXPECT_NE(rows["mine"].find("x3"), std::string::npos) << rows["mine"];
  ASSERT_TRUE(rows.contains("quicksrnet-small-x2")) << run.output;
  EXPECT_NE(rows["quicksrnet-small-x2"].find("yes"), std::string::npos);
  EXPECT_EQ(run_quicksr("models --dir " + path("missing")).exit_code, 1);
}

// A name longer than the others keeps every column in line: each row's scale starts under the
// header's "scale".
TEST_F(CliTest, ModelsKeepsColumnsInLineForLongNames) {
  quicksr::Model model{
      quicksr::QuickSRNet::initialized(quicksr::QuickSRNetConfig::small({2, 1}), 7), {}};
  quicksr::save_model(model, path("a-model-name-longer-than-any-shipped-one-x2.safetensors"));
  const RunResult run = run_quicksr("models --dir " + dir_.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::istringstream lines(run.output);
  std::string header;
  std::getline(lines, header);
  const std::size_t scale_column = header.find("scale");
  ASSERT_NE(scale_column, std::string::npos) << header;
  int rows = 0;
  for (std::string line; std::getline(lines, line); ++rows) {
    const std::size_t name_end = line.find(' ');
    EXPECT_EQ(line.find_first_not_of(' ', name_end), scale_column) << run.output;
  }
  EXPECT_GE(rows, 2) << run.output;
}

// Built-in models by name: info, upscale --model (same pixels as --scale) and a clear error.
TEST_F(CliTest, BuiltinModelsByName) {
  const RunResult info = run_quicksr("info quicksrnet-small-x3");
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("scale: x3"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("parameters: "), std::string::npos) << info.output;
  const std::string input = write_sample("in.png", 9, 6);
  ASSERT_EQ(
      run_quicksr("upscale " + input + " " + path("named.png") + " --model quicksrnet-small-x3")
          .exit_code,
      0);
  ASSERT_EQ(run_quicksr("upscale " + input + " " + path("scale.png") + " --scale 3").exit_code, 0);
  EXPECT_EQ(quicksr::read_image(path("named.png")).rgb, quicksr::read_image(path("scale.png")).rgb);
  const RunResult by_model_name = run_quicksr("info quicksrnet-small-x1.5");
  EXPECT_EQ(by_model_name.exit_code, 0) << by_model_name.output;
  EXPECT_NE(by_model_name.output.find("scale: x1.5"), std::string::npos) << by_model_name.output;
  const RunResult unknown = run_quicksr("info quicksrnet-huge-x9");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("quicksrnet-huge-x9: no such file or built-in model"),
            std::string::npos)
      << unknown.output;
}

// Without --model, `upscale --scale S` gives what the shipped Small model of scale S gives.
// The parameter is the scale as written in model file names ("1_5").
class CliBuiltinTest : public CliTest, public testing::WithParamInterface<std::string> {};

TEST_P(CliBuiltinTest, WithoutModelTheShippedSmallOfTheScaleIsUsed) {
  const std::string scale = quicksr::Scale::parse(GetParam()).to_string();
  const fs::path shipped = fs::path(QUICKSR_SOURCE_DIR) / "models" /
                           ("quicksrnet-small-x" + GetParam() + ".safetensors");
  if (!fs::exists(shipped)) GTEST_SKIP() << shipped << " is not shipped yet";
  const std::string input = write_sample("in.png", 10, 6);
  ASSERT_EQ(
      run_quicksr("upscale " + input + " " + path("builtin.png") + " --scale " + scale).exit_code,
      0);
  ASSERT_EQ(
      run_quicksr("upscale " + input + " " + path("file.png") + " --model " + shipped.string())
          .exit_code,
      0);
  const quicksr::Image builtin = quicksr::read_image(path("builtin.png"));
  EXPECT_EQ(builtin.width, std::lround(10 * std::stod(scale)));
  EXPECT_EQ(builtin.rgb, quicksr::read_image(path("file.png")).rgb);
}

INSTANTIATE_TEST_SUITE_P(Scales, CliBuiltinTest, testing::Values("2", "3", "4", "1_5"),
                         [](const auto& info) { return "x" + info.param; });

// Section 4 of issue 11: no file is lost or damaged.
TEST_F(CliTest, OverwriteKeepsTheModeAndTheSymlink) {
  const std::string input = write_sample("in.png", 6, 4);
  const std::string output = path("private.png");
  std::ofstream(output) << "old";
  ASSERT_EQ(::chmod(output.c_str(), 0600), 0);
  ASSERT_EQ(run_quicksr("upscale " + input + " " + output + " --overwrite --quiet").exit_code, 0);
  struct stat status {};
  ASSERT_EQ(::stat(output.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u);

  fs::create_symlink("private.png", path("link.png"));
  ASSERT_EQ(
      run_quicksr("upscale " + input + " " + path("link.png") + " --overwrite --quiet").exit_code,
      0);
  EXPECT_TRUE(fs::is_symlink(path("link.png")));
  EXPECT_EQ(quicksr::read_image(output).width, 12);
}

TEST_F(CliTest, DanglingSymlinkIsAnExistingOutput) {
  const std::string input = write_sample("in.png", 6, 4);
  fs::create_symlink(path("elsewhere.png"), path("out.png"));
  const RunResult refused = run_quicksr("upscale " + input + " " + path("out.png"));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("--overwrite"), std::string::npos) << refused.output;
  EXPECT_TRUE(fs::is_symlink(path("out.png")));
  EXPECT_FALSE(fs::exists(path("elsewhere.png")));
}

TEST_F(CliTest, OutputNamesUpToTheFileSystemLimitAndUpperCaseExtensions) {
  const std::string input = write_sample("in.png", 6, 4);
  for (const std::string& name : {std::string(251, 'o') + ".png", std::string("OUT.PNG"),
                                  std::string("OUT.JPG"), std::string("out.Jpeg")}) {
    const RunResult result = run_quicksr("upscale " + input + " " + path(name) + " --quiet");
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.output;
    EXPECT_EQ(quicksr::read_image(path(name)).width, 12) << name;
  }
  EXPECT_EQ(file_count(), 5u) << "no temporary files may be left behind";
}

TEST_F(CliTest, EvalJsonIsCheckedBeforeTheEvaluationAndNeverReplacedUnasked) {
  fs::create_directories(dir_ / "hr");
  write_sample("hr/a.png", 32, 32);
  const std::string bicubic = "eval --method bicubic --scale 2 --data " + path("hr");
  std::ofstream(path("scores.json")) << "keep me";
  RunResult result = run_quicksr(bicubic + " --json " + path("scores.json"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("scores.json: already exists"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("PSNR"), std::string::npos) << "checked before evaluating";
  EXPECT_EQ(fs::file_size(path("scores.json")), 7u);

  result = run_quicksr(bicubic + " --json " + path("missing/scores.json"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("does not exist"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("PSNR"), std::string::npos) << "checked before evaluating";

  result = run_quicksr(bicubic + " --json " + path("hr/scores.json"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("data folder"), std::string::npos) << result.output;

  result = run_quicksr(bicubic + " --json " + path("scores.json") + " --overwrite");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::ifstream json(path("scores.json"));
  EXPECT_EQ(json.get(), '{');
}

// scripts/int8_selection.sh: a candidate's drop on each folder, and pooled over the images of all
// folders, is the mean of the per-image drops that `quicksr eval --compare-fp32 --json` reports;
// the fp32 model itself drops 0; rows are sorted by the pooled drop; a bad folder fails.
TEST_F(CliTest, Int8SelectionScriptPoolsThePerImageDrops) {
  const fs::path models = fs::path(QUICKSR_SOURCE_DIR) / "models";
  const std::string fp32 = (models / "quicksrnet-small-x2.safetensors").string();
  const std::string int8 = (models / "quicksrnet-small-x2-int8.safetensors").string();
  fs::create_directories(dir_ / "a");
  fs::create_directories(dir_ / "b/HR");  // named "b" in the table, as benchmarks/Set14/HR is Set14
  write_sample("a/one.png", 40, 32);
  write_sample("b/HR/two.png", 24, 24);
  write_sample("b/HR/three.png", 64, 16);
  std::vector<double> drops;  // per folder, then pooled
  double pooled = 0;
  for (const char* folder : {"a", "b/HR"}) {
    const std::string json = path(std::string(folder).substr(0, 1) + ".json");
    const RunResult eval = run_quicksr("eval --model " + int8 + " --data " + path(folder) +
                                       " --compare-fp32 " + fp32 + " --json " + json);
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
    const nlohmann::json scores = nlohmann::json::parse(std::ifstream(json));
    double sum = 0;
    for (std::size_t i = 0; i < scores["images"].size(); ++i) {
      sum += scores["fp32"]["images"][i]["psnr"].get<double>() -
             scores["images"][i]["psnr"].get<double>();
    }
    drops.push_back(sum / static_cast<double>(scores["images"].size()));
    pooled += sum / 3;
  }
  drops.push_back(pooled);

  const std::string script = "QUICKSR=" + std::string(QUICKSR_BINARY) + " " +
                             (fs::path(QUICKSR_SOURCE_DIR) / "scripts/int8_selection.sh").string() +
                             " " + fp32 + " ";
  const RunResult ranking = quicksr::test_support::run_program(
      "env", script + path("a") + "," + path("b/HR") + " " + int8 + " " + fp32);
  ASSERT_EQ(ranking.exit_code, 0) << ranking.output;
  EXPECT_NE(ranking.output.find("| a (1) | b (2) | all |"), std::string::npos) << ranking.output;
  std::map<std::string, std::vector<double>> rows;
  std::vector<double> order;
  std::istringstream lines(ranking.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream cells(line);
    std::string bar, name;
    if (!(cells >> bar >> name) || bar != "|" || !name.ends_with(".safetensors")) continue;
    std::vector<double> values;
    for (double value; cells >> bar >> value;) values.push_back(value);
    order.push_back(values.back());
    rows[name] = values;
  }
  ASSERT_EQ(rows.size(), 2u) << ranking.output;
  EXPECT_EQ(rows[fp32], (std::vector<double>{0, 0, 0})) << ranking.output;
  ASSERT_EQ(rows[int8].size(), 3u) << ranking.output;
  for (std::size_t i = 0; i < 3; ++i) {
    // The script sums the 4-decimal per-image table and prints 4 (pooled: 5) decimals.
    EXPECT_NEAR(rows[int8][i], drops[i], 2e-4) << "column " << i << "\n" << ranking.output;
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << ranking.output;

  const RunResult missing = quicksr::test_support::run_program(
      "env", script + path("none") + "," + path("a") + " " + int8);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find(path("none")), std::string::npos) << missing.output;
}

TEST_F(CliTest, EvalNamesTheImageThatIsTooSmall) {
  fs::create_directories(dir_ / "hr");
  const std::string tiny = write_sample("hr/tiny.png", 1, 3);
  const RunResult result = run_quicksr("eval --method bicubic --scale 2 --data " + path("hr"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("quicksr eval: error: " + tiny + ": image of "), std::string::npos)
      << result.output;
}

// A JPEG whose scan holds 32 one-bits (the all-ones Huffman code is never assigned): libjpeg only
// warns "Corrupt JPEG data" and returns a damaged image.
TEST_F(CliTest, CorruptJpegDataIsAnErrorUnlessLenient) {
  const std::string input = write_sample("in.jpg", 64, 64);
  std::string bytes;
  {
    std::ifstream in(input, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::size_t scan = bytes.find("\xFF\xDA");
  ASSERT_NE(scan, std::string::npos);
  const std::size_t middle = scan + (bytes.size() - scan) / 2;
  bytes.replace(middle, 8, std::string("\xFF\x00\xFF\x00\xFF\x00\xFF\x00", 8));
  std::ofstream(input, std::ios::binary) << bytes;

  const RunResult strict = run_quicksr("upscale " + input + " " + path("out.png"));
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.output.find("in.jpg: invalid JPEG: Corrupt JPEG data"), std::string::npos)
      << strict.output;
  EXPECT_NE(strict.output.find("--lenient"), std::string::npos) << strict.output;
  EXPECT_EQ(std::count(strict.output.begin(), strict.output.end(), '\n'), 1) << strict.output;
  EXPECT_FALSE(fs::exists(path("out.png")));
  EXPECT_EQ(
      run_quicksr("upscale " + input + " " + path("out.png") + " --lenient --quiet").exit_code, 0);
}

// Section 5 of issue 11: one clear line for bad numbers and inputs that are not files.
TEST_F(CliTest, NonFiniteAndNegativeNumbersAreRejected) {
  const std::string input = write_sample("in.png", 4, 4);
  for (const char* value : {"nan", "-nan", "inf", "-1", "1e999"}) {
    const RunResult result =
        run_quicksr("upscale " + input + " " + path("out.png") + " --max-pixels " + value);
    EXPECT_EQ(result.exit_code, 1) << value;
    EXPECT_EQ(result.output.rfind("quicksr upscale: error: option --max-pixels", 0), 0u)
        << result.output;
  }
  EXPECT_EQ(run_quicksr("upscale " + input + " " + path("out.png") + " --threads nan").exit_code,
            1);
  EXPECT_FALSE(fs::exists(path("out.png")));
}

TEST_F(CliTest, FifoOrDeviceInputIsRejectedByItsType) {
  ASSERT_EQ(::mkfifo(path("pipe.png").c_str(), 0600), 0);
  RunResult result = run_quicksr("upscale " + path("pipe.png") + " " + path("out.png"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("pipe.png: is a FIFO"), std::string::npos) << result.output;
  result = run_quicksr("upscale /dev/zero " + path("out.png"));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("/dev/zero: is a character device"), std::string::npos)
      << result.output;
}

}  // namespace
