// scripts/paper_train.sh, the training queue of the paper's tables, on tiny runs: a finished run
// installs its model and card, a run resumes from its committed checkpoint alone, a done run is
// skipped, SIGTERM leaves a resumable checkpoint, and a retired run (scripts/retire_table_run.sh)
// keeps its evidence and trains again. The data is a stand-in shared folder of 32x32 images;
// TRAIN_ARGS shrinks the recipe.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "quicksr/image.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using test_support::quoted;
using test_support::run_program;
using test_support::run_quicksr;

const std::string kTinyRecipe =
    "--batch 2 --patch 8 --log-every 1 --val-every 2 --checkpoint-every 2 --threads 1";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int count_lines(const fs::path& path) {
  const std::string text = read_text(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class PaperTrainScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int seed = 0;
    for (const char* set :
         {"data/train/T91", "data/train/BSDS200", "data/extra/Kodak24", "data/benchmarks/Set5/HR",
          "data/benchmarks/Set14/HR", "data/benchmarks/BSD100/HR"}) {
      fs::create_directories(shared() / set);
      Image image;
      image.width = image.height = 32;
      ++seed;
      for (int i = 0; i < 32 * 32 * 3; ++i) {
        image.rgb.push_back(static_cast<float>((i * seed) % 97) / 96.0f);
      }
      write_image(image, shared() / set / "a.png");
    }
  }

  fs::path shared() const { return root_ / "shared"; }
  fs::path work() const { return root_ / "work"; }

  // The environment and command line of the script for the runs ONLY at ITERATIONS.
  std::string command(const std::string& only, int iterations,
                      const std::string& extra = "") const {
    return "ROOT=" + quoted(work()) + " ONLY='" + only +
           "' ITERATIONS=" + std::to_string(iterations) + " TRAIN_ARGS='" + kTinyRecipe + "' " +
           extra + " " + quoted(fs::path(QUICKSR_SOURCE_DIR) / "scripts/paper_train.sh") + " " +
           quoted(QUICKSR_BINARY) + " " + quoted(shared());
  }

  test_support::RunResult run_script(const std::string& only, int iterations,
                                     const std::string& extra = "") const {
    return run_program("env", command(only, iterations, extra));
  }

  // The iteration count recorded in a model file's provenance.
  static std::string iterations_of(const fs::path& model) {
    const test_support::RunResult info = run_quicksr("info " + quoted(model));
    const std::size_t at = info.output.find("\niterations: ");
    if (at == std::string::npos) return "none";
    return info.output.substr(at + 13, info.output.find('\n', at + 1) - at - 13);
  }

  test_support::TempDir temp_;
  const fs::path root_ = temp_.path();
};

TEST_F(PaperTrainScriptTest, DryRunListsTheQueueInOrderAndTrainsNothing) {
  const auto result = run_script("quicksrnet-f32-m1-x2 espcn-x2", 4, "DRY_RUN=1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::size_t espcn = result.output.find("espcn-x2: new: quicksr train");
  const std::size_t m1 = result.output.find("quicksrnet-f32-m1-x2: new: quicksr train");
  ASSERT_NE(espcn, std::string::npos) << result.output;
  ASSERT_NE(m1, std::string::npos) << result.output;
  EXPECT_LT(espcn, m1) << "the queue's order, not ONLY's";
  EXPECT_NE(result.output.find("--preset f32-m1 --scale 2"), std::string::npos);
  EXPECT_EQ(result.output.find("edsr"), std::string::npos) << "ONLY keeps only the named runs";
  EXPECT_FALSE(fs::exists(work() / "runs/espcn-x2"));
}

TEST_F(PaperTrainScriptTest, FinishedRunInstallsModelAndCardAndResumesFromCommittedCheckpoint) {
  const std::string name = "quicksrnet-f32-m1-x2";
  auto result = run_script(name, 2);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const fs::path model = work() / "models" / (name + ".safetensors");
  EXPECT_EQ(iterations_of(model), "2");
  EXPECT_NE(run_quicksr("info " + quoted(model)).output.find("quicksrnet-f32-m1-x2"),
            std::string::npos);
  const std::string card = read_text(work() / "models" / (name + ".md"));
  for (const char* row : {"| Set5 |", "| Set14 |", "| BSD100 |", "| Kodak24 |", "--preset f32-m1",
                          "cosine learning rate from 1e-3 to 1e-6"}) {
    EXPECT_NE(card.find(row), std::string::npos) << row << " missing from the card:\n" << card;
  }
  const fs::path saved = work() / "models/checkpoints" / name;
  for (const char* file : {"checkpoint.pt", "config.json", "log.csv", "segments.tsv"}) {
    EXPECT_TRUE(fs::exists(saved / file)) << file;
  }

  // Another machine: only the committed checkpoint, and a longer schedule.
  fs::remove_all(work() / "runs");
  fs::remove(model);
  result = run_script(name, 4);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("resumes models/checkpoints/" + name), std::string::npos)
      << result.output;
  EXPECT_EQ(iterations_of(model), "4");
  EXPECT_TRUE(fs::exists(work() / "models" / (name + "-val-psnr.svg"))) << "two validations";
  EXPECT_NE(read_text(work() / "models" / (name + ".md")).find(name + "-val-psnr.svg"),
            std::string::npos);
  EXPECT_EQ(count_lines(work() / "runs" / name / "log.csv"), 5) << "header and iterations 1-4";
  const std::string segments = read_text(saved / "segments.tsv");
  EXPECT_EQ(count_lines(saved / "segments.tsv"), 2) << segments;
  EXPECT_NE(segments.find("\t0\t2\t"), std::string::npos) << segments;
  EXPECT_NE(segments.find("\t2\t4\t"), std::string::npos) << segments;

  // Done: skipped, the model untouched.
  const auto written = fs::last_write_time(model);
  result = run_script(name, 4);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(name + ": done"), std::string::npos) << result.output;
  EXPECT_EQ(fs::last_write_time(model), written);
}

TEST_F(PaperTrainScriptTest, RetiredRunKeepsItsEvidenceAndTrainsAgainFromScratch) {
  const std::string name = "quicksrnet-f32-m1-x2";
  auto result = run_script(name, 4);  // two validations: a curve
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const fs::path models = work() / "models";
  const auto retire = [&](const std::string& why) {
    return run_program(
        "env", "ROOT=" + quoted(work()) + " " +
                   quoted(fs::path(QUICKSR_SOURCE_DIR) / "scripts/retire_table_run.sh") + " " +
                   name + " lr1e-3 '" + why + "'");
  };
  const test_support::RunResult retired = retire("The recipe changed.");
  ASSERT_EQ(retired.exit_code, 0) << retired.output;
  const fs::path kept = models / "checkpoints" / (name + "-lr1e-3");
  for (const char* file : {"card.md", "config.json", "log.csv", "segments.tsv", "val-psnr.svg"}) {
    EXPECT_TRUE(fs::exists(kept / file)) << file;
  }
  const std::string card = read_text(kept / "card.md");
  EXPECT_EQ(card.find("# " + name + ", lr1e-3 (replaced)\n\nThe recipe changed."), 0u) << card;
  EXPECT_NE(card.find("(val-psnr.svg)"), std::string::npos) << card;
  EXPECT_EQ(card.find("models/checkpoints/" + name + "/"), std::string::npos) << card;
  EXPECT_FALSE(fs::exists(models / (name + ".safetensors")));
  EXPECT_FALSE(fs::exists(models / "checkpoints" / name));
  EXPECT_FALSE(fs::exists(work() / "runs" / name));

  EXPECT_NE(retire("Twice.").exit_code, 0) << "nothing left to retire";

  result = run_script(name, 2);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(name + ": new"), std::string::npos) << result.output;
  EXPECT_EQ(iterations_of(models / (name + ".safetensors")), "2");
}

TEST_F(PaperTrainScriptTest, LargeStartsAtItsOwnLearningRate) {
  const std::string large_x4 = "quicksrnet-f64-m11-x4";
  auto result =
      run_script(large_x4 + " quicksrnet-f64-m11-x3 quicksrnet-f32-m11-x3", 2, "DRY_RUN=1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("--preset f64-m11-anchor --scale 4 --lr 5e-4"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("--preset f64-m11-anchor --scale 3 --lr 5e-4"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("--preset f32-m11 --scale 3 --batch"), std::string::npos)
      << "the other nets keep the recipe's rate:\n"
      << result.output;

  result = run_script(large_x4, 2);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string card = read_text(work() / "models" / (large_x4 + ".md"));
  EXPECT_NE(card.find("cosine learning rate from 5e-4 to 1e-6"), std::string::npos) << card;
}

TEST_F(PaperTrainScriptTest, RecipeArmIsItsOwnModelWithItsChangesAtTheSameBudget) {
  // ITERATIONS=9: the patch-96 arm keeps batch x patch^2 x iterations, 9 x 64^2 / 96^2 = 4.
  const std::string seed2 = "quicksrnet-f32-m2-x2-seed2";
  const std::string shorter = "quicksrnet-f32-m2-x2-patch96-shorter";
  auto result = run_script(seed2 + " " + shorter, 9, "DRY_RUN=1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("--preset f32-m2 --scale 2 --seed 2"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("--preset f32-m2 --scale 2 --patch 96 --iterations 4"),
            std::string::npos)
      << result.output;

  // TRAIN_ARGS's tiny patch wins over the arm's, its iteration count stays.
  result = run_script(shorter, 9);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const fs::path model = work() / "models" / (shorter + ".safetensors");
  EXPECT_EQ(iterations_of(model), "4") << result.output;
  const std::string card = read_text(work() / "models" / (shorter + ".md"));
  EXPECT_NE(card.find("arm `patch96-shorter`"), std::string::npos) << card;
  EXPECT_FALSE(fs::exists(work() / "models/quicksrnet-f32-m2-x2.safetensors"))
      << "an arm never stands in for the table's model";
}

TEST_F(PaperTrainScriptTest, SigtermStopsTheRunWithACommittableCheckpoint) {
  const std::string name = "quicksrnet-f32-m3-x2";
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen((root_ / "script.out").c_str(), "w", stderr);
    const std::string shell_command = "exec env " + command(name, 1000000);
    ::execl("/bin/sh", "sh", "-c", shell_command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Stop it once it has logged a few steps.
  const fs::path log = work() / "runs" / name / "log.csv";
  for (int waited = 0; waited < 1200 && (!fs::exists(log) || count_lines(log) < 4); ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(fs::exists(log)) << read_text(root_ / "script.out");
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 143) << read_text(root_ / "script.out");
  const fs::path saved = work() / "models/checkpoints" / name;
  EXPECT_TRUE(fs::exists(saved / "checkpoint.pt"));
  EXPECT_NE(iterations_of(saved / "last.safetensors"), "none");
  EXPECT_FALSE(fs::exists(work() / "models" / (name + ".safetensors")));
  EXPECT_NE(read_text(root_ / "script.out").find(name + ": stopped at iteration"),
            std::string::npos);
}

}  // namespace
}  // namespace quicksr
