// Issue 11's memory target: `quicksr upscale` of a 4000x3000 image at x4 (a 16000x12000 output,
// 2.3 GB as float RGB) peaks under 1 GB, because the output is computed and written in bands.
// Measured as the child process's peak RSS (wait4), printed for the log.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "quicksr/image.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace quicksr {
namespace {

struct ChildRun {
  int exit_code = -1;
  double peak_rss_mb = 0;
  double seconds = 0;
};

ChildRun run_child(std::vector<std::string> arguments) {
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return {};
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  ChildRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.peak_rss_mb = usage.ru_maxrss / 1024.0;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

TEST(UpscaleMemory, FourThousandByThreeThousandAtX4StaysUnderOneGigabyte) {
  const test_support::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  Image photo;
  photo.width = 4000;
  photo.height = 3000;
  photo.rgb.resize(static_cast<std::size_t>(photo.width) * photo.height * 3);
  for (int y = 0; y < photo.height; ++y) {
    for (int x = 0; x < photo.width; ++x) {
      float* pixel = &photo.rgb[(static_cast<std::size_t>(y) * photo.width + x) * 3];
      pixel[0] = static_cast<float>(x % 256) / 255.0f;
      pixel[1] = static_cast<float>(y % 256) / 255.0f;
      pixel[2] = static_cast<float>((x ^ y) % 256) / 255.0f;
    }
  }
  write_image(photo, dir / "photo.png");
  for (const char* output : {"photo_x4.jpg"}) {
    const ChildRun run = run_child({QUICKSR_BINARY, "upscale", (dir / "photo.png").string(),
                                    (dir / output).string(), "--scale", "4", "--quiet"});
    std::printf("quicksr upscale 4000x3000 --scale 4 -> %s: peak RSS %.0f MB, %.1f s\n", output,
                run.peak_rss_mb, run.seconds);
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_LT(run.peak_rss_mb, 1024.0);
    EXPECT_GT(std::filesystem::file_size(dir / output), 1u << 20);
  }
}

}  // namespace
}  // namespace quicksr
