// `quicksr train` option handling: settings from a JSON file with the command line on top, the
// saved config.json of a resumed run, and errors for bad options. Runs happen in child processes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "common/file_lock.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "support/temp_dir.hpp"
#include "train/run_log.hpp"
#include "train/trainer.hpp"

namespace quicksr::cli {
namespace {

namespace fs = std::filesystem;

class CmdTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "data");
    Image image;
    image.width = image.height = 32;
    for (int i = 0; i < 32 * 32 * 3; ++i) image.rgb.push_back(static_cast<float>(i % 97) / 96.0f);
    write_image(image, root_ / "data" / "a.png");
  }

  // Runs `quicksr train ARGS` in a child process; returns its exit code.
  int run(std::vector<std::string> args) const {
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::freopen((root_ / "child.stderr").c_str(), "a", stderr);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      try {
        ::_exit(train_command(CommandArgs(argv.data(), argv.size())));
      } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        ::_exit(1);
      }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  }

  test_support::TempDir temp_;
  const fs::path root_ = temp_.path();
};

TEST_F(CmdTrainTest, CommandLineOverridesTheConfigFileAndResumeKeepsTheSavedRun) {
  std::ofstream(root_ / "settings.json") << R"({"batch": 3, "iterations": 4, "patch": 6,
      "log_every": 1, "checkpoint_every": 2, "threads": 1})";
  const std::string run_dir = (root_ / "run").string();
  ASSERT_EQ(run({"--config", (root_ / "settings.json").string(), "--data",
                 (root_ / "data").string(), "--out", run_dir, "--iterations", "2", "--seed", "7"}),
            0);
  nlohmann::json saved = read_json(train::config_path(run_dir));
  EXPECT_EQ(saved["batch"], 3);
  EXPECT_EQ(saved["iterations"], 2);
  EXPECT_EQ(saved["seed"], 7);
  EXPECT_EQ(saved["data"], nlohmann::json::array({(root_ / "data").string()}));
  EXPECT_EQ(train::read_log(fs::path(run_dir) / "log.csv", 100).size(), 2u);

  // Only the folder and a longer run: everything else comes from the saved config.json.
  ASSERT_EQ(run({"--out", run_dir, "--resume", "--iterations", "4"}), 0);
  saved = read_json(train::config_path(run_dir));
  EXPECT_EQ(saved["batch"], 3);
  EXPECT_EQ(saved["seed"], 7);
  EXPECT_EQ(saved["iterations"], 4);
  EXPECT_EQ(train::read_log(fs::path(run_dir) / "log.csv", 100).size(), 4u);
}

TEST_F(CmdTrainTest, ScaleAugmentIsPartOfTheRunItResumes) {
  const std::string run_dir = (root_ / "run").string();
  const std::vector<std::string> tiny = {"--data",      (root_ / "data").string(),
                                         "--out",       run_dir,
                                         "--batch",     "2",
                                         "--patch",     "6",
                                         "--log-every", "1",
                                         "--threads",   "1"};
  auto with = [&tiny](std::vector<std::string> more) {
    more.insert(more.begin(), tiny.begin(), tiny.end());
    return more;
  };
  ASSERT_EQ(run(with({"--iterations", "2", "--scale-augment", "0.5"})), 0);
  EXPECT_EQ(read_json(train::config_path(run_dir))["scale_augment"], 0.5);
  std::ifstream first(root_ / "child.stderr");
  const std::string first_log((std::istreambuf_iterator<char>(first)),
                              std::istreambuf_iterator<char>());
  EXPECT_NE(first_log.find("5 scaled copies"), std::string::npos) << first_log;
  // The same run without augmentation is another run: its checkpoint is not resumed.
  EXPECT_EQ(run(with({"--iterations", "4", "--scale-augment", "1"})), 1);
  std::ifstream second(root_ / "child.stderr");
  const std::string log((std::istreambuf_iterator<char>(second)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("scale_augment"), std::string::npos) << log;
  EXPECT_EQ(run(with({"--iterations", "4"})), 0) << "the saved run keeps its augmentation";
}

TEST_F(CmdTrainTest, BadOptionsAreErrorsNamingTheProblem) {
  const std::string data = (root_ / "data").string();
  const std::string out = (root_ / "run").string();
  auto message = [](std::vector<std::string> args) -> std::string {
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    try {
      train_command(CommandArgs(argv.data(), argv.size()));
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message({"--data", data, "--out", out, "--lr", "fast"}).find("--lr"),
            std::string::npos);
  EXPECT_NE(message({"--data", data, "--out", out, "--batch", "0"}).find("batch"),
            std::string::npos);
  EXPECT_NE(message({"--out", out, "--resume"}).find("checkpoint"), std::string::npos);
  EXPECT_NE(message({"--data", data, "--out", out, "--scale", "8"}).find("scale"),
            std::string::npos);
  EXPECT_NE(message({"--data", data, "--out", out, "--config", (root_ / "none.json").string()})
                .find("none.json"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(out));  // nothing is created before the settings are valid
}

TEST_F(CmdTrainTest, EmptyDataFolderFailsWithExitCodeOne) {
  fs::create_directories(root_ / "empty");
  EXPECT_EQ(run({"--data", (root_ / "empty").string(), "--out", (root_ / "run").string()}), 1);
  std::ifstream in(root_ / "child.stderr");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("no usable training image"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(root_ / "run"));  // the refused run leaves no empty folder
  fs::create_directories(root_ / "mine");   // an existing folder is the user's: it stays
  EXPECT_EQ(run({"--data", (root_ / "empty").string(), "--out", (root_ / "mine").string()}), 1);
  EXPECT_TRUE(fs::is_directory(root_ / "mine"));
}

// A run folder another run uses (here: its lock held by this process) is refused, untouched.
TEST_F(CmdTrainTest, FolderOfARunningRunIsRefused) {
  fs::create_directories(root_ / "run");
  const FileLock running(root_ / "run" / ".lock", "held by the test");
  EXPECT_EQ(run({"--data", (root_ / "data").string(), "--out", (root_ / "run").string(),
                 "--iterations", "1"}),
            1);
  std::ifstream in(root_ / "child.stderr");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("another quicksr train uses this run folder"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(root_ / "run" / "config.json"));
}

}  // namespace
}  // namespace quicksr::cli
