// The batch pipeline against its parts: decode (PNG), upscale (built-in Small x2) and encode
// (PNG) of 1280x720 images, each alone and all three overlapped by run_batch. Images/s of the
// pipeline vs 1 / (sum of the per-image times of the parts) shows how much the overlap buys.
// QUICKSR_BATCH_BENCH_IMAGES sets the number of images (default 8).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/batch.hpp"
#include "quicksr/image.hpp"
#include "quicksr/upscaler.hpp"

namespace {

namespace fs = std::filesystem;

// Folders of input PNGs and outputs, made once and removed at exit.
struct Workload {
  fs::path root;
  std::vector<fs::path> inputs;
  quicksr::Upscaler upscaler = quicksr::Upscaler::builtin();

  Workload() {
    root = fs::temp_directory_path() / ("quicksr-batch-bench-" + std::to_string(::getpid()));
    fs::create_directories(root / "in");
    const char* count = std::getenv("QUICKSR_BATCH_BENCH_IMAGES");
    const int images = count ? std::atoi(count) : 8;
    for (int i = 0; i < images; ++i) {
      inputs.push_back(root / "in" / ("frame" + std::to_string(i) + ".png"));
      quicksr::write_image(photo_like(1280, 720, i), inputs.back());
    }
  }
  ~Workload() { fs::remove_all(root); }

  // Smooth shapes plus fine texture, so PNG compresses it about as hard as a photo.
  static quicksr::Image photo_like(int width, int height, int seed) {
    quicksr::Image image;
    image.width = width;
    image.height = height;
    unsigned noise = 12345u + seed;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        noise = noise * 1664525u + 1013904223u;
        const float grain = static_cast<float>(noise >> 24) / 255.0f * 0.08f;
        for (int c = 0; c < 3; ++c) {
          const float wave = 0.5f + 0.4f * std::sin(0.01f * (x * (c + 1) + y * (3 - c) + seed));
          image.rgb.push_back(wave * 0.9f + grain);
        }
      }
    }
    return image;
  }
};

Workload& workload() {
  static Workload instance;
  return instance;
}

std::vector<quicksr::Image> decode_all() {
  std::vector<quicksr::Image> images;
  for (const fs::path& input : workload().inputs) images.push_back(quicksr::read_image(input));
  return images;
}

void finish(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(workload().inputs.size()));
  state.counters["images"] = static_cast<double>(workload().inputs.size());
}

void BM_Decode(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(decode_all());
  finish(state);
}

void BM_Upscale(benchmark::State& state) {
  const std::vector<quicksr::Image> images = decode_all();
  for (auto _ : state) {
    for (const quicksr::Image& image : images) {
      benchmark::DoNotOptimize(workload().upscaler.upscale(image));
    }
  }
  finish(state);
}

void BM_Encode(benchmark::State& state) {
  std::vector<quicksr::Image> outputs;
  for (const quicksr::Image& image : decode_all())
    outputs.push_back(workload().upscaler.upscale(image));
  fs::create_directories(workload().root / "encoded");
  for (auto _ : state) {
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      quicksr::write_image(outputs[i], workload().root / "encoded" / (std::to_string(i) + ".png"));
    }
  }
  finish(state);
}

void BM_Pipeline(benchmark::State& state) {
  const std::vector<quicksr::cli::BatchJob> jobs =
      quicksr::cli::plan_batch(workload().inputs, workload().root / "out", {});
  quicksr::cli::BatchRunOptions options;
  options.write.existing = quicksr::ExistingFile::kReplace;
  options.progress = false;
  std::ostringstream errors;
  for (auto _ : state) {
    quicksr::cli::run_batch(
        jobs, [](const quicksr::Image& image) { return workload().upscaler.upscale(image); },
        options, errors);
  }
  finish(state);
}

BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Upscale)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Pipeline)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
