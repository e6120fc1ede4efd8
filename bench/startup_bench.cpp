// Start-up cost of the quicksr executable, process creation to exit, as a user meets it:
// `quicksr --version` (target < 50 ms) and `quicksr upscale` of a 64x48 PNG (target < 100 ms).
// Wall time is the benchmark's time; child_cpu_ms is the CPU the child used (user + system), the
// figure that stays meaningful on a loaded machine. Run with --benchmark_repetitions=N to get the
// minimum and median; scripts/test.sh prints them in the CI log.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "quicksr/image.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

// Runs `args` (stdout and stderr to /dev/null); returns the child's CPU milliseconds.
double run_child(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot run " + args[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(args[0] + " " + args[1] + " failed");
  }
  const auto ms = [](timeval t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

void time_command(benchmark::State& state, const std::vector<std::string>& args) {
  double cpu_ms = 0.0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    cpu_ms += run_child(args);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.counters["child_cpu_ms"] = benchmark::Counter(cpu_ms, benchmark::Counter::kAvgIterations);
}

void Version(benchmark::State& state) { time_command(state, {QUICKSR_BINARY, "--version"}); }

void Upscale64x48Png(benchmark::State& state) {
  const fs::path dir = fs::temp_directory_path() / "quicksr-startup-bench";
  fs::create_directories(dir);
  quicksr::Image image;
  image.width = 64;
  image.height = 48;
  for (int i = 0; i < 64 * 48 * 3; ++i) image.rgb.push_back(static_cast<float>(i % 251) / 250.0f);
  quicksr::write_image(image, dir / "in.png");
  time_command(state, {QUICKSR_BINARY, "upscale", (dir / "in.png").string(),
                       (dir / "out.png").string(), "--overwrite", "--quiet"});
  fs::remove_all(dir);
}

double minimum(const std::vector<double>& values) {
  return *std::min_element(values.begin(), values.end());
}

BENCHMARK(Version)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", minimum);
BENCHMARK(Upscale64x48Png)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", minimum);

}  // namespace

BENCHMARK_MAIN();
