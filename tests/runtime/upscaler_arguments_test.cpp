// Upscaler arguments that do not fit give one quicksr::ArgumentError, never a read outside a
// buffer: images and tensors whose buffers do not hold what their size says, sides past the limit,
// rows past the output (also where first_row + rows overflows an int), scales that are not
// upscales, thread counts past the limit. And the thread count reaches graphs that run on the
// reference runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <filesystem>
#include <string>
#include <thread>

#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/upscaler.hpp"
#include "support/graph_builders.hpp"

namespace quicksr {
namespace {

Image ramp(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  for (int i = 0; i < width * height * 3; ++i) image.rgb.push_back((i % 17) / 16.0f);
  return image;
}

TEST(UpscalerArguments, BuffersMustHoldWhatTheSizeSays) {
  for (const Upscaler& upscaler : {Upscaler::bicubic(Scale{2, 1}), Upscaler::builtin()}) {
    Image image = ramp(8, 6);
    image.rgb.resize(3);
    EXPECT_THROW(upscaler.upscale(image), ArgumentError) << upscaler.name();
    EXPECT_THROW(upscaler.upscale_rows(image, 0, 2), ArgumentError) << upscaler.name();
    image = ramp(8, 6);
    image.alpha.resize(10);
    EXPECT_THROW(upscaler.upscale(image), ArgumentError) << upscaler.name();
    image.alpha.assign(48, 0.5f);
    EXPECT_EQ(upscaler.upscale(image).width, 16) << upscaler.name();

    Tensor tensor(3, 6, 8);
    tensor.data.resize(5);
    EXPECT_THROW(upscaler.upscale(tensor), ArgumentError) << upscaler.name();
    Image wide;  // refused by its size, before anything is allocated or read
    wide.width = (1 << 24) + 1;
    wide.height = 1;
    EXPECT_THROW(upscaler.upscale(wide), ArgumentError) << upscaler.name();
    EXPECT_THROW(upscaler.output_length(INT_MAX), ArgumentError) << upscaler.name();
  }
}

TEST(UpscalerArguments, RowsPastTheOutputAreRefusedWithoutOverflow) {
  const Image image = ramp(8, 8);
  // The OpenCV flavour runs whole images: the rows are cut from the whole output.
  const Upscaler upscaler = Upscaler::bicubic(Scale{2, 1}, BicubicFlavour::opencv);
  EXPECT_THROW(upscaler.upscale_rows(image, INT_MAX - 1, 2), Error);
  EXPECT_THROW(upscaler.upscale_rows(image, 14, 4), Error);
  EXPECT_EQ(upscaler.upscale_rows(image, 14, 2).height, 2);
}

TEST(UpscalerArguments, ScalesThatAreNotUpscalesAreRefused) {
  for (const Scale scale :
       {Scale{1, 0}, Scale{0, 1}, Scale{1, 1}, Scale{-2, 1}, Scale{2, 3}, Scale{40, 1}}) {
    const std::string text =
        std::to_string(scale.numerator) + "/" + std::to_string(scale.denominator);
    EXPECT_THROW(Upscaler::bicubic(scale), ArgumentError) << text;
    EXPECT_THROW(Upscaler::fsr1(scale), ArgumentError) << text;
  }
  EXPECT_EQ(Upscaler::bicubic(Scale{3, 2}).output_length(10), 15);
}

// The x1.5 form as a general graph (space-to-depth 2, conv 12 -> 27, depth-to-space 3, clip):
// the engine runs no graph of a non-integer scale, so it runs on the reference runtime.
Model reference_runtime_graph() {
  Graph graph;
  graph.architecture = "test";
  graph.scale = {3, 2};
  graph.convs = {Conv2d::zeros(12, 27, 3, 1)};
  for (std::size_t i = 0; i < graph.convs[0].weight.size(); ++i) {
    graph.convs[0].weight[i] = static_cast<float>(i % 7) / 50 - 0.05f;
  }
  GraphNode to_depth = test_support::graph_node(OpType::kSpaceToDepth, "s2d", {"input"}, "a");
  to_depth.block_size = 2;
  GraphNode conv = test_support::graph_node(OpType::kConv, "conv", {"a"}, "b");
  conv.conv = 0;
  GraphNode to_space = test_support::graph_node(OpType::kDepthToSpace, "d2s", {"b"}, "c");
  to_space.block_size = 3;
  graph.nodes = {to_depth, conv, to_space,
                 test_support::graph_node(OpType::kClip, "clip", {"c"}, "out")};
  graph.output = "out";
  EXPECT_TRUE(graph_unsupported_reason(graph).has_value()) << "the engine runs it now";
  return Model{std::move(graph), {}};
}

TEST(UpscalerArguments, ThreadCountsPastTheLimitAreRefused) {
  for (const int threads : {-1, kMaxThreads + 1}) {
    EXPECT_THROW(Upscaler::builtin(Scale{2, 1}, {.threads = threads}), ArgumentError) << threads;
  }
  EXPECT_THROW(Upscaler::from_model(reference_runtime_graph(), {.threads = kMaxThreads + 1}),
               ArgumentError);
}

int threads_of_this_process() {
  const auto tasks = std::filesystem::directory_iterator("/proc/self/task");
  return static_cast<int>(std::distance(tasks, std::filesystem::directory_iterator()));
}

// With threads = 1 a graph on the reference runtime runs on the calling thread alone (before, its
// ops started a thread per core whatever the option said), and gives the same output.
TEST(UpscalerArguments, ThreadCountReachesGraphsOnTheReferenceRuntime) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: nothing to limit";
  const Model graph = reference_runtime_graph();
  const Upscaler one_thread = Upscaler::from_model(graph, {.threads = 1});
  const Image image = ramp(240, 200);  // each conv plane runs long enough to be seen
  const int before = threads_of_this_process();
  std::atomic<bool> done = false;
  Image output;
  std::thread runner([&] {
    for (int run = 0; run < 4; ++run) output = one_thread.upscale(image);
    done = true;
  });
  int most = 0;
  while (!done) {
    most = std::max(most, threads_of_this_process());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  runner.join();
  EXPECT_LE(most, before + 1) << "threads besides the runner";
  EXPECT_EQ(output.rgb, Upscaler::from_model(graph).upscale(image).rgb);
}

}  // namespace
}  // namespace quicksr
