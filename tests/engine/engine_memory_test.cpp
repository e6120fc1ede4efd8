// The engine's workspace does not grow with the image: the peak of live heap bytes during run()
// (measured by replacing the global allocator) stays within Engine::workspace_bytes() for very
// wide, very tall and large images alike.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "quicksr/baselines.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/quantsim.hpp"

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};

// Each block carries its size in a 64-byte header so that delete can account for it.
constexpr std::size_t kHeader = 64;

void* counted_allocate(std::size_t bytes, std::size_t alignment) {
  alignment = std::max(alignment, kHeader);
  void* base =
      std::aligned_alloc(alignment, (bytes + alignment + alignment - 1) / alignment * alignment);
  if (base == nullptr) throw std::bad_alloc();
  char* user = static_cast<char*>(base) + alignment;
  reinterpret_cast<std::size_t*>(user - kHeader)[0] = bytes;
  reinterpret_cast<std::size_t*>(user - kHeader)[1] = alignment;
  const std::size_t now = live_bytes += bytes;
  std::size_t peak = peak_bytes.load();
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
  }
  return user;
}

void counted_free(void* p) {
  if (p == nullptr) return;
  char* user = static_cast<char*>(p);
  const std::size_t bytes = reinterpret_cast<std::size_t*>(user - kHeader)[0];
  const std::size_t alignment = reinterpret_cast<std::size_t*>(user - kHeader)[1];
  live_bytes -= bytes;
  std::free(user - alignment);
}

}  // namespace

void* operator new(std::size_t bytes) { return counted_allocate(bytes, alignof(std::max_align_t)); }
void* operator new[](std::size_t bytes) {
  return counted_allocate(bytes, alignof(std::max_align_t));
}
void* operator new(std::size_t bytes, std::align_val_t a) {
  return counted_allocate(bytes, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t bytes, std::align_val_t a) {
  return counted_allocate(bytes, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }

namespace quicksr {
namespace {

// Peak heap growth while running `engine` on a width x height image (buffers allocated before),
// float or (INT8 engines) 8-bit RGB.
template <typename T = float>
std::size_t peak_extra_bytes(const Engine& engine, int width, int height) {
  std::vector<T> input(3ull * width * height, T{});
  std::vector<T> output(3ull * engine.output_width(width) * engine.output_height(height));
  const std::size_t before = live_bytes.load();
  peak_bytes = before;
  engine.run(input.data(), width, height, output.data());
  return peak_bytes.load() - before;
}

// Runs `engine` on 8-bit or float frames of many shapes: the live heap never grows by more than
// the workspace bound (plus headroom for the job bookkeeping, a few small allocations, not for
// image-sized buffers), and the bound is far below one 2048x1536 feature map.
template <typename T>
void expect_bounded(const Engine& engine, std::size_t max_bound) {
  const std::size_t bound = engine.workspace_bytes();
  constexpr std::size_t kSlack = 4096;
  for (const auto& [width, height] : {std::pair{64, 64}, {8192, 16}, {16, 8192}, {2048, 1536}}) {
    SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
    EXPECT_LE(peak_extra_bytes<T>(engine, width, height), bound + kSlack);
  }
  EXPECT_LT(bound, max_bound);
}

// Thin networks keep the runs short; the bound's shape is the same for every network.
QuickSRNetConfig thin_config(const char* scale) {
  QuickSRNetConfig config;
  config.features = 4;
  config.blocks = 1;
  config.scale = Scale::parse(scale);
  return config;
}

TEST(EngineMemory, PeakExtraMemoryStaysWithinTheWorkspaceBoundForAnyImageSize) {
  for (const char* scale : {"2", "1.5"}) {
    SCOPED_TRACE(std::string("x") + scale);
    const QuickSRNet net = QuickSRNet::initialized(thin_config(scale), 1);
    expect_bounded<float>(Engine::create(net, {.threads = 2}), 8u << 20);
    // 8-bit frames too: rows are converted in the workspace, no float copy of the frame.
    expect_bounded<std::uint8_t>(Engine::create(net, {.threads = 2}), 8u << 20);
  }
}

TEST(EngineMemory, Int8PeakExtraMemoryStaysWithinTheWorkspaceBoundForAnyImageSize) {
  for (const char* scale : {"2", "1.5"}) {
    SCOPED_TRACE(std::string("x") + scale);
    ActivationEncodings encodings;
    encodings.features.assign(2, ActivationEncoding{});
    const QuantizedQuickSRNet net = quant::quantize_weights(
        QuickSRNet::initialized(thin_config(scale), 1), encodings, WeightGranularity::kPerChannel);
    expect_bounded<std::uint8_t>(Engine::create(net, {.threads = 2}), 2u << 20);
  }
}

using Sizes = std::vector<std::pair<int, int>>;

// An 8x8 image of spread values to quantize the graphs on.
Tensor calibration_image() {
  Tensor image(3, 8, 8);
  for (std::size_t i = 0; i < image.data.size(); ++i) image.data[i] = (i * 37 % 101) / 100.0f;
  return image;
}

// General graphs run band by band: per width, the peak stays within workspace_bytes(width,
// height), which does not depend on the height (SESR-M3 x2, EDSR-baseline x4 with its tensors at
// 2x and 4x the input's size, fp32 and INT8), up to `slack` bytes of bookkeeping (a few small
// vectors per tensor and job: EDSR has ~60 tensors, SESR-M3 ~10).
template <typename T, typename Net>
void expect_graph_bounded(const Net& net,
                          const Sizes& sizes = {{64, 64}, {2048, 16}, {16, 2048}, {256, 256}},
                          std::size_t slack = 4096, bool height_free = true) {
  const Engine engine = Engine::create(net, {.threads = 2});
  for (const auto& [width, height] : sizes) {
    SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
    const std::size_t bound = engine.workspace_bytes(width, height);
    if (height_free) {
      EXPECT_EQ(bound, engine.workspace_bytes(width, 1));
    }
    EXPECT_LE(peak_extra_bytes<T>(engine, width, height), bound + slack);
  }
}

TEST(EngineMemory, GraphPeakExtraMemoryStaysWithinTheWorkspaceBoundForAnyHeight) {
  const Graph graph = build_baseline("sesr-m3", {.scale = {2, 1}});
  expect_graph_bounded<float>(graph);
  expect_graph_bounded<std::uint8_t>(graph);  // fp32 on 8-bit frames
  expect_graph_bounded<std::uint8_t>(
      quant::post_training_quantize(graph, {calibration_image()}, {}));
}

// EDSR costs ~1.4 M multiply-adds per input pixel: smaller frames, the same shapes. 16 KiB of
// slack is far below one of its tensors at 24x24 (64 channels: 147 KB in fp32, 37 KB in u8).
TEST(EngineMemory, EdsrPeakExtraMemoryStaysWithinTheWorkspaceBoundForAnyHeight) {
  const Graph graph = build_baseline("edsr-baseline", {.scale = {4, 1}});
  const Sizes sizes = {{24, 24}, {512, 4}, {4, 512}, {64, 48}};
  constexpr std::size_t kSlack = 16 << 10;
  expect_graph_bounded<float>(graph, sizes, kSlack);
  expect_graph_bounded<std::uint8_t>(
      quant::post_training_quantize(graph, {calibration_image()}, {}), sizes, kSlack);
}

// ERFDN's rings are sized per height (graph_engine_test: bounded over heights), so only the peak
// against workspace_bytes(width, height) holds. Slack: ~120 tensors' bookkeeping and the resize
// taps (one per output row and column of each of 4 resizes, 12 bytes: linear in the size, 19
// KB at 256 rows), below one of its 50-channel rows at 256 columns (~54 KB).
// INT8 (session 20): the taps are 16 bytes, computed once per run for both jobs.
TEST(EngineMemory, ErfdnPeakExtraMemoryStaysWithinTheWorkspaceBound) {
  const Graph graph = build_baseline("erfdn", {.scale = {2, 1}});
  const Sizes sizes = {{20, 20}, {256, 16}, {16, 256}, {48, 40}};
  expect_graph_bounded<float>(graph, sizes, 32 << 10, false);
  Tensor calibration(3, 16, 16);  // ESA's strided conv and pool take 15 x 15 pixels or more
  for (std::size_t i = 0; i < calibration.data.size(); ++i) {
    calibration.data[i] = (i * 37 % 101) / 100.0f;
  }
  expect_graph_bounded<std::uint8_t>(quant::post_training_quantize(graph, {calibration}, {}), sizes,
                                     32 << 10, false);
}

}  // namespace
}  // namespace quicksr
