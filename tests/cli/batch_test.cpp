// Batch upscaling: planning (folders, mirroring, shards), the pipelined run (failures skipped),
// and the command line (folders, -o, stdin/stdout, --skip-existing, --format, --suffix).
#include "cli/batch.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace quicksr::cli {
namespace {

using test_support::quoted;
using test_support::run_quicksr;

class BatchTest : public ::testing::Test {
 protected:
  fs::path path(const std::string& name) const { return dir_ / name; }

  // A w x h RGB ramp whose content depends on `seed`, written to `name` (folders created).
  fs::path write_sample(const std::string& name, int w = 12, int h = 8, int seed = 0) {
    Image image;
    image.width = w;
    image.height = h;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        image.rgb.insert(image.rgb.end(), {x / float(w), y / float(h), (seed % 7) / 7.0f});
      }
    }
    fs::create_directories(path(name).parent_path());
    write_image(image, path(name));
    return path(name);
  }

  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST(BatchShardTest, ParsesKOverNAndRejectsTheRest) {
  const Shard shard = parse_shard("2/5");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 5);
  for (const char* bad : {"5/5", "-1/3", "1", "1/0", "a/b", "1/2/3", "1/"}) {
    EXPECT_THROW(parse_shard(bad), Error) << bad;
  }
}

TEST_F(BatchTest, FolderIsMirroredWithSuffixAndFormat) {
  write_sample("in/a.png");
  write_sample("in/B.JPG");
  write_sample("in/sub/c.Webp");
  std::ofstream(path("in/notes.txt")) << "not an image";
  BatchPlanOptions options;
  options.suffix = "_x2";
  std::vector<BatchJob> flat = plan_batch({path("in")}, path("out"), options);
  ASSERT_EQ(flat.size(), 2u) << "without --recursive sub-folders are left out";
  EXPECT_EQ(flat[0].output, path("out/B_x2.JPG"));
  EXPECT_EQ(flat[1].output, path("out/a_x2.png"));

  options.recursive = true;
  options.format = "tiff";
  const std::vector<BatchJob> deep = plan_batch({path("in")}, path("out"), options);
  ASSERT_EQ(deep.size(), 3u);
  EXPECT_EQ(deep[2].input, path("in/sub/c.Webp"));
  EXPECT_EQ(deep[2].output, path("out/sub/c_x2.tiff"));
}

TEST_F(BatchTest, ShardsSplitTheFilesExactly) {
  std::vector<fs::path> inputs;
  for (int i = 0; i < 10; ++i) inputs.push_back(write_sample("f" + std::to_string(i) + ".png"));
  std::multiset<fs::path> seen;
  for (int k = 0; k < 3; ++k) {
    BatchPlanOptions options;
    options.shard = {k, 3};
    const std::vector<BatchJob> jobs = plan_batch(inputs, path("out"), options);
    EXPECT_EQ(jobs.size(), k == 0 ? 4u : 3u) << "shard " << k;
    for (const BatchJob& job : jobs) seen.insert(job.input);
  }
  EXPECT_EQ(seen, std::multiset<fs::path>(inputs.begin(), inputs.end()))
      << "every file in exactly one shard";
}

TEST_F(BatchTest, CollidingOutputsAndMissingInputsAreRefusedUpFront) {
  write_sample("a.png");
  write_sample("a.jpg");
  EXPECT_THROW(plan_batch({path("a.png"), path("a.jpg")}, path("out"), {.format = "png"}), Error);
  EXPECT_THROW(plan_batch({path("absent.png")}, path("out"), {}), Error);
}

// A linked image is named by its link, never by its target: the output stays in the output
// folder (before, the target's path relative to the input folder, "../orig/x", was used).
TEST_F(BatchTest, LinkedImagesAreNamedByTheirLink) {
  write_sample("orig/x.jpg");
  fs::create_directories(path("in"));
  fs::create_symlink("../orig/x.jpg", path("in/a.png"));
  const std::vector<BatchJob> jobs = plan_batch({path("in")}, path("out"), {});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].output, path("out/a.png"));
}

// An output folder inside the input folder is not read again with --recursive, and neither are
// hidden files and folders (".thumbnails", macOS "._x.jpg"): a second run finds the same files.
TEST_F(BatchTest, OutputFolderInsideTheInputAndHiddenEntriesAreNotRead) {
  write_sample("photos/a.png");
  write_sample("photos/sub/b.png");
  write_sample("photos/._a.png");
  write_sample("photos/.thumbnails/t.png");
  write_sample("photos/x2/old.png");  // outputs of an earlier run
  const BatchPlanOptions options{.recursive = true};
  const std::vector<BatchJob> jobs = plan_batch({path("photos")}, path("photos/x2"), options);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].input, path("photos/a.png"));
  EXPECT_EQ(jobs[1].input, path("photos/sub/b.png"));
}

// With --overwrite too, an output may never be another job's input (a.png -> a_x2.png, which is
// an input itself): refused before any work.
TEST_F(BatchTest, AnOutputThatIsAnotherInputIsRefusedUpFront) {
  write_sample("dir/a.png");
  write_sample("dir/a_x2.png");
  try {
    plan_batch({path("dir")}, path("dir"), {.suffix = "_x2"});
    ADD_FAILURE() << "an input would have been replaced";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("would be written over the input"), std::string::npos)
        << error.what();
  }
}

// A write to standard output that fails (here: a full device) is an error, not a silent
// truncation with exit code 0.
TEST_F(BatchTest, FailedWriteToStandardOutputIsAnError) {
  write_sample("a.png");
  std::ofstream(path("full.sh")) << QUICKSR_BINARY << " upscale " << quoted(path("a.png"))
                                 << " - 2>&1 > /dev/full\n";
  const auto run = test_support::run_program("bash", quoted(path("full.sh")));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("standard output: cannot write the image"), std::string::npos)
      << run.output;
}

TEST_F(BatchTest, AFailedFileIsReportedOnceAndTheRestGoOn) {
  std::vector<fs::path> inputs;
  for (int i = 0; i < 5; ++i) inputs.push_back(write_sample(std::to_string(i) + ".png", 12, 8, i));
  std::ofstream(path("2.png"), std::ios::trunc) << "corrupt";
  const std::vector<BatchJob> jobs = plan_batch(inputs, path("out"), {});
  BatchRunOptions options;
  options.progress = false;
  std::ostringstream errors;
  const auto transform = [](const Image& image) {
    if (image.rgb[2] > 3.5f / 7) throw Error("refused by the test transform");  // seed 4
    Image copy = image;
    for (float& v : copy.rgb) v = 1.0f - v;
    return copy;
  };
  const BatchResult result = run_batch(jobs, transform, options, errors);
  EXPECT_EQ(result.written, 3);
  EXPECT_EQ(result.failed, 2);
  const std::string text = errors.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("2.png"), std::string::npos) << text;
  EXPECT_NE(text.find("4.png: refused by the test transform"), std::string::npos) << text;
  for (int i : {0, 1, 3}) {
    const Image out = read_image(path("out/" + std::to_string(i) + ".png"));
    const Image in = read_image(inputs[i]);
    EXPECT_NEAR(out.rgb[5], 1.0f - in.rgb[5], 1.0f / 255) << i;
  }
  EXPECT_FALSE(fs::exists(path("out/2.png")));
  EXPECT_FALSE(fs::exists(path("out/4.png")));
}

// Outputs follow write_atomically's policy: a file that appears at an output while the run works
// (here: made by the transform) and a dangling symbolic link are kept without --overwrite; with it
// the output replaces them, keeping the old file's mode.
TEST_F(BatchTest, OutputsThatAppearMeanwhileOrDanglingLinksAreKept) {
  const std::vector<fs::path> inputs = {write_sample("a.png"), write_sample("b.png")};
  fs::create_directories(path("out"));
  fs::create_symlink(path("nowhere.png"), path("out/b.png"));
  const std::vector<BatchJob> jobs = plan_batch(inputs, path("out"), {});
  const auto appear = [&](const Image& image) {
    std::ofstream(path("out/a.png")) << "appeared";
    return image;
  };
  BatchRunOptions options;
  options.progress = false;
  std::ostringstream errors;
  BatchResult result = run_batch(jobs, appear, options, errors);
  EXPECT_EQ(result.written, 0);
  EXPECT_EQ(result.failed, 2) << errors.str();
  EXPECT_NE(errors.str().find("a.png: already exists"), std::string::npos) << errors.str();
  EXPECT_EQ(fs::file_size(path("out/a.png")), 8u);
  EXPECT_TRUE(fs::is_symlink(path("out/b.png")));
  EXPECT_FALSE(fs::exists(path("nowhere.png")));

  ASSERT_EQ(::chmod(path("out/a.png").c_str(), 0600), 0);
  options.write.existing = ExistingFile::kReplace;
  result = run_batch(
      jobs, [](const Image& image) { return image; }, options, errors);
  EXPECT_EQ(result.written, 2) << errors.str();
  EXPECT_EQ(read_image(path("out/a.png")).width, 12);
  EXPECT_EQ(fs::status(path("out/a.png")).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(fs::is_symlink(path("out/b.png")));
  EXPECT_EQ(read_image(path("nowhere.png")).width, 12);
  EXPECT_EQ(std::distance(fs::directory_iterator(path("out")), fs::directory_iterator()), 2)
      << "no temporary file is left";
}

TEST_F(BatchTest, CommandUpscalesAFolderLikeSingleFiles) {
  write_sample("in/one.png", 12, 8, 1);
  write_sample("in/deep/two.jpg", 10, 6, 2);
  std::ofstream(path("in/broken.png")) << "not a png";
  const std::string bicubic = " --method bicubic --scale 2";
  const auto batch = run_quicksr("upscale " + quoted(path("in")) + " " + quoted(path("out")) +
                                 " --recursive --suffix _x2" + bicubic);
  EXPECT_EQ(batch.exit_code, 1) << batch.output;
  EXPECT_NE(batch.output.find("broken.png"), std::string::npos) << batch.output;
  EXPECT_NE(batch.output.find("1 of 3 files failed"), std::string::npos) << batch.output;
  ASSERT_TRUE(fs::exists(path("out/deep/two_x2.jpg"))) << batch.output;

  ASSERT_EQ(run_quicksr("upscale " + quoted(path("in/one.png")) + " " + quoted(path("single.png")) +
                        bicubic)
                .exit_code,
            0);
  const Image from_batch = read_image(path("out/one_x2.png"));
  const Image single = read_image(path("single.png"));
  EXPECT_EQ(from_batch.width, 24);
  EXPECT_EQ(from_batch.rgb, single.rgb);

  // Existing outputs: refused by default, left alone with --skip-existing.
  const auto again = run_quicksr("upscale " + quoted(path("in/one.png")) + " -o " +
                                 quoted(path("out")) + " --suffix _x2 --quiet" + bicubic);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  EXPECT_EQ(run_quicksr("upscale " + quoted(path("in/one.png")) + " -o " + quoted(path("out")) +
                        " --suffix _x2 --skip-existing --quiet" + bicubic)
                .exit_code,
            0);
}

TEST_F(BatchTest, StdinToStdoutInTheRequestedFormat) {
  const fs::path input = write_sample("in.png", 12, 8, 3);
  const auto result = run_quicksr("upscale - - --format webp --method bicubic < " + quoted(input) +
                                  " > " + quoted(path("out.webp")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const Image out = read_image(path("out.webp"));
  EXPECT_EQ(out.width, 24);
  EXPECT_EQ(out.height, 16);
  const auto garbage = run_quicksr("upscale - " + quoted(path("x.png")) + " < /dev/null");
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_NE(garbage.output.find("standard input: empty, no image data"), std::string::npos)
      << garbage.output;
  std::ofstream(path("junk.bin")) << "not an image";
  const auto junk =
      run_quicksr("upscale - " + quoted(path("x.png")) + " < " + quoted(path("junk.bin")));
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_NE(junk.output.find("standard input: not a PNG"), std::string::npos) << junk.output;
  EXPECT_FALSE(fs::exists(path("x.png")));
}

// Standard input goes through a scratch folder in TMPDIR. A run killed while reading it leaves
// that folder; the next run removes it and leaves nothing of its own.
TEST_F(BatchTest, ScratchFolderOfAKilledStdinRunIsRemovedByTheNextRun) {
  const fs::path input = write_sample("in.png");
  const fs::path tmp = path("tmp");
  fs::create_directories(tmp);
  int feed[2];
  ASSERT_EQ(::pipe(feed), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(feed[0], STDIN_FILENO);
    ::close(feed[1]);
    ::setenv("TMPDIR", tmp.c_str(), 1);
    ::execl(QUICKSR_BINARY, "quicksr", "upscale", "-", "-", "--method", "bicubic", nullptr);
    ::_exit(127);
  }
  ASSERT_GT(child, 0);
  ::close(feed[0]);
  ASSERT_EQ(::write(feed[1], "\x89PNG", 4), 4);  // an image's start; the rest never comes
  for (int i = 0; i < 1000 && fs::is_empty(tmp); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(feed[1]);
  ASSERT_EQ(std::distance(fs::directory_iterator(tmp), fs::directory_iterator()), 1)
      << "the killed run's scratch folder";

  const auto next = test_support::run_program(
      "TMPDIR=" + quoted(tmp) + " " + QUICKSR_BINARY,
      "upscale - - --method bicubic < " + quoted(input) + " > " + quoted(path("out.png")));
  ASSERT_EQ(next.exit_code, 0) << next.output;
  EXPECT_EQ(read_image(path("out.png")).width, 24);
  EXPECT_TRUE(fs::is_empty(tmp)) << fs::directory_iterator(tmp)->path();
}

}  // namespace
}  // namespace quicksr::cli
