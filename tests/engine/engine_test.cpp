// The engine against the reference runtime (quicksr::reference::forward): every QuickSRNet
// variant, many image sizes (odd ones included), every ISA level this CPU has, and several thread
// counts; ISA selection (EngineOptions, QUICKSR_ISA) and its errors. Thread counts and strips
// run in full on the most capable level and once on each other (engine_runs).
#include "quicksr/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine_test_support.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

constexpr float kTolerance = 1e-5f;

Tensor random_image(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Tensor image(3, height, width);
  for (float& v : image.data) v = uniform(rng);
  return image;
}

float max_abs_difference(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.width, b.width);
  if (a.data.size() != b.data.size()) return INFINITY;
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    worst = std::max(worst, std::abs(a.data[i] - b.data[i]));
  }
  return worst;
}

QuickSRNetConfig custom(int features, int blocks, const char* scale, bool anchor,
                        ChannelOrder order = ChannelOrder::kCRD) {
  QuickSRNetConfig config;
  config.features = features;
  config.blocks = blocks;
  config.scale = Scale::parse(scale);
  config.anchor = anchor;
  config.order = order;
  return config;
}

void expect_matches_reference(const QuickSRNetConfig& config,
                              const std::vector<std::pair<int, int>>& sizes) {
  const QuickSRNet net = QuickSRNet::initialized(config, 17);
  for (const auto& [width, height] : sizes) {
    const Tensor input = random_image(width, height, width * 1000 + height);
    const Tensor expected = reference::forward(net, input);
    for (const EngineRun& run : engine_runs(fp32_isas_to_test(), {1, 3})) {
      const Engine engine = make_engine(net, run.isa, run.threads);
      SCOPED_TRACE(net.config.name() + " " + std::to_string(width) + "x" + std::to_string(height) +
                   " " + engine.kernel_names() + " threads " + std::to_string(run.threads));
      EXPECT_LE(max_abs_difference(engine.run(input), expected), kTolerance);
    }
  }
}

const std::vector<std::pair<int, int>> kManySizes = {
    {1, 1}, {1, 7}, {7, 1}, {2, 2}, {5, 3}, {3, 5}, {8, 8}, {9, 2}, {17, 9}, {25, 4}, {33, 65}};
const std::vector<std::pair<int, int>> kFewSizes = {{1, 1}, {5, 3}, {17, 9}};

TEST(Engine, SmallMatchesReferenceAtEveryScaleAndSize) {
  for (const char* scale : {"2", "3", "4", "1.5"}) {
    expect_matches_reference(QuickSRNetConfig::small(Scale::parse(scale)), kManySizes);
  }
}

// ReLU (the paper's ablation): features above 1 pass (clamp_max = +infinity in the fused store).
// The first conv's weights are doubled so that many features exceed 1; the same weights with ReLU1
// give a clearly different output, so a ReLU1 clamp left anywhere would fail this.
TEST(Engine, ReluNetsMatchReference) {
  for (const char* scale : {"2", "1.5"}) {
    QuickSRNet net = relu_net_with_features_above_one(scale, 21);
    QuickSRNet relu1 = net;
    relu1.config.activation = Activation::kReLU1;
    float relu1_difference = 0.0f;
    for (const auto& [width, height] : kFewSizes) {
      const Tensor input = random_image(width, height, width * 1000 + height);
      const Tensor expected = reference::forward(net, input);
      relu1_difference = std::max(relu1_difference,
                                  max_abs_difference(reference::forward(relu1, input), expected));
      for (Isa isa : fp32_isas_to_test()) {
        const Engine engine = make_engine(net, isa, 2);
        SCOPED_TRACE(net.config.name() + " " + std::to_string(width) + "x" +
                     std::to_string(height) + " " + engine.kernel_names());
        EXPECT_LE(max_abs_difference(engine.run(input), expected), 1e-4f);
      }
    }
    EXPECT_GT(relu1_difference, 0.05f) << "ReLU1 and ReLU should differ on these weights";
  }
}

TEST(Engine, MediumAndLargeMatchReference) {
  expect_matches_reference(QuickSRNetConfig::medium(Scale::parse("2")), kFewSizes);
  expect_matches_reference(QuickSRNetConfig::large(Scale::parse("2")), {{7, 5}});
  expect_matches_reference(QuickSRNetConfig::large(Scale::parse("3")), {{3, 4}});
  expect_matches_reference(QuickSRNetConfig::large(Scale::parse("1.5")), {{7, 5}, {1, 1}});
}

TEST(Engine, AnyWidthDepthOrderAndAnchorMatchesReference) {
  expect_matches_reference(custom(8, 1, "2", false, ChannelOrder::kDCR), kManySizes);
  expect_matches_reference(custom(6, 0, "3", false), kFewSizes);
  // No body: the first (direct) conv is the last 3x3 conv in front of the x1.5 tail.
  expect_matches_reference(custom(6, 0, "1.5", false), kFewSizes);
  expect_matches_reference(custom(13, 3, "4", true), kFewSizes);
  expect_matches_reference(custom(16, 2, "1.5", true, ChannelOrder::kDCR), kManySizes);
  expect_matches_reference(custom(5, 1, "1.5", false), {{9, 7}, {2, 1}});
}

TEST(Engine, InterleavedRunMatchesPlanarRun) {
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse("1.5")), 3);
  const Engine engine = Engine::create(net, {.threads = 2});
  const Tensor planar = random_image(31, 13, 5);
  std::vector<float> interleaved(planar.data.size());
  for (int y = 0; y < planar.height; ++y) {
    for (int x = 0; x < planar.width; ++x) {
      for (int c = 0; c < 3; ++c) interleaved[(y * planar.width + x) * 3 + c] = planar.at(c, y, x);
    }
  }
  const Tensor expected = engine.run(planar);
  ASSERT_EQ(expected.width, engine.output_width(31));
  ASSERT_EQ(expected.height, engine.output_height(13));
  ASSERT_EQ(expected.width, 46);
  ASSERT_EQ(expected.height, 19);
  std::vector<float> out(3 * expected.width * expected.height, -1.0f);
  engine.run(interleaved.data(), planar.width, planar.height, out.data());
  for (int y = 0; y < expected.height; ++y) {
    for (int x = 0; x < expected.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(out[(y * expected.width + x) * 3 + c], expected.at(c, y, x));
      }
    }
  }
}

// Views with other steps (a BGRA frame with padded rows) give the planar run's values and leave
// the fourth sample and the padding alone; with an anchor, which reads the input through them.
TEST(Engine, BgraViewsMatchPlanarRun) {
  for (const char* scale : {"2", "1.5"}) {
    const QuickSRNet net = QuickSRNet::initialized(custom(8, 1, scale, true), 6);
    const Engine engine = Engine::create(net, {.threads = 2});
    const Tensor planar = random_image(23, 11, 8);
    const Tensor expected = engine.run(planar);
    const std::ptrdiff_t in_row = 4 * 23 + 5, out_row = 4 * expected.width + 3;
    std::vector<float> in(in_row * 11, -7.0f), out(out_row * expected.height, -7.0f);
    for (int y = 0; y < 11; ++y) {
      for (int x = 0; x < 23; ++x) {
        for (int c = 0; c < 3; ++c) in[y * in_row + x * 4 + 2 - c] = planar.at(c, y, x);
      }
    }
    engine.run(RgbView<const float>{in.data() + 2, in_row, 4, -1, 23, 11},
               RgbView<float>{out.data() + 2, out_row, 4, -1, expected.width, expected.height});
    for (int y = 0; y < expected.height; ++y) {
      for (std::ptrdiff_t i = 0; i < out_row; ++i) {
        const std::ptrdiff_t x = i / 4, slot = i % 4;
        const float want =
            x < expected.width && slot < 3 ? expected.at(2 - int(slot), y, int(x)) : -7.0f;
        ASSERT_EQ(out[y * out_row + i], want) << scale << " row " << y << " byte " << i;
      }
    }
    EXPECT_THROW(engine.run(RgbView<const float>{in.data() + 2, in_row, 4, -1, 23, 11},
                            RgbView<float>{out.data() + 2, out_row, 4, -1, expected.width - 1,
                                           expected.height}),
                 Error);
  }
}

// 8-bit frame buffers run without a float copy: rows converted as they are read and written.
TEST(Engine, EightBitViewsGiveTheFloatRunRounded) {
  const std::vector<QuickSRNetConfig> configs = {QuickSRNetConfig::small(Scale::parse("2")),
                                                 custom(8, 1, "3", false, ChannelOrder::kDCR),
                                                 custom(8, 1, "4", false),
                                                 custom(16, 2, "2", true),
                                                 custom(8, 1, "1.5", true),
                                                 custom(8, 1, "1.5", false)};
  for (const QuickSRNetConfig& config : configs) {
    const QuickSRNet net = QuickSRNet::initialized(config, 12);
    for (Isa isa : fp32_isas_to_test()) {
      const Engine engine = make_engine(net, isa, 2);
      SCOPED_TRACE(config.name());
      expect_eight_bit_views_give_the_float_run_rounded(engine, 29, 13, 1);
      expect_eight_bit_views_give_the_float_run_rounded(engine, 1, 3, 2);
    }
  }
}

// Bands (one per thread) and strips change only the schedule, never the arithmetic.
TEST(Engine, OutputIsBitIdenticalWhateverTheBandsAndStrips) {
  for (const char* scale : {"2", "1.5"}) {
    const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse(scale)), 9);
    const Tensor input = random_image(203, 37, 11);
    const Tensor untiled = make_engine(net, Isa::kScalar, 1, 4096).run(input);
    EXPECT_LE(max_abs_difference(untiled, reference::forward(net, input)), kTolerance);
    std::map<Isa, Tensor> whole;
    for (const EngineRun& run : engine_runs(fp32_isas_to_test(), {2, 5}, {8, 48, 1024})) {
      if (!whole.contains(run.isa)) whole[run.isa] = make_engine(net, run.isa, 1, 4096).run(input);
      SCOPED_TRACE(std::string("x") + scale + " " + std::string(isa_name(run.isa)) + " threads " +
                   std::to_string(run.threads) + " strip " + std::to_string(run.size));
      const Tensor tiled = make_engine(net, run.isa, run.threads, run.size).run(input);
      EXPECT_EQ(tiled.data, whole[run.isa].data);
    }
  }
}

// Band workspaces are kept between runs: one engine running frames of different sizes (larger
// first, so stale rows of the earlier frame lie in the later one's halo) gives what a fresh
// engine gives on each.
TEST(Engine, KeptWorkspacesServeFramesOfAnySize) {
  for (const char* scale : {"2", "1.5"}) {
    const QuickSRNet net =
        QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse(scale)), 12);
    for (Isa isa : fp32_isas_to_test()) {
      const Engine engine = make_engine(net, isa, 2, 48);
      for (const auto& [width, height] : {std::pair{131, 29}, {13, 9}, {70, 3}, {131, 29}}) {
        SCOPED_TRACE(std::string("x") + scale + " " + std::string(isa_name(isa)) + " " +
                     std::to_string(width) + "x" + std::to_string(height));
        const Tensor input = random_image(width, height, width + height);
        EXPECT_EQ(engine.run(input).data, make_engine(net, isa, 2, 48).run(input).data);
      }
    }
  }
}

TEST(Engine, ConcurrentRunsAgree) {
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse("2")), 4);
  const Engine engine = Engine::create(net, {.threads = 2});
  const Tensor input = random_image(40, 21, 8);
  const Tensor expected = engine.run(input);
  std::vector<Tensor> results(4);
  std::vector<std::thread> callers;
  for (Tensor& result : results) callers.emplace_back([&] { result = engine.run(input); });
  for (std::thread& caller : callers) caller.join();
  for (const Tensor& result : results) EXPECT_EQ(result.data, expected.data);
}

// Small: direct first conv 3*32*9 = 864, Winograd body 2 * 32*32*9/2 = 9216; x2 last conv
// Winograd 32*12*9/2 = 1728 (11808 of the model's 22752); x1.5 tail 1x1 on a quarter of the pixels
// 128*27/4 = 864.
TEST(Engine, CountsTheMultiplyAddsItExecutes) {
  for (Isa isa : fp32_isas_to_test()) {
    const QuickSRNet x2 = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse("2")), 1);
    const QuickSRNet x15 = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse("1.5")), 1);
    EXPECT_DOUBLE_EQ(x2.macs_per_pixel(), 22752.0);
    EXPECT_DOUBLE_EQ(make_engine(x2, isa, 1).executed_macs_per_pixel(), 11808.0);
    EXPECT_DOUBLE_EQ(make_engine(x15, isa, 1).executed_macs_per_pixel(), 10944.0);
  }
}

TEST(Engine, RejectsBadInput) {
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse("2")), 4);
  const Engine engine = Engine::create(net);
  EXPECT_THROW(engine.run(Tensor(1, 4, 4)), Error);
  EXPECT_THROW(engine.run(Tensor(3, 0, 4)), Error);
  QuickSRNet broken = net;
  broken.body.pop_back();
  EXPECT_THROW(Engine::create(broken), Error);
}

TEST(Engine, IsaLevelsOfThisCpu) {
  std::string missing;
  for (Isa isa : kAllIsas) {
    if (!cpu_supports(isa)) missing += " " + std::string(isa_name(isa));
  }
  EXPECT_TRUE(cpu_supports(Isa::kScalar));
  EXPECT_TRUE(cpu_supports(best_isa()));
  for (Isa isa : kAllIsas) EXPECT_EQ(parse_isa(isa_name(isa)), isa);
  EXPECT_THROW(parse_isa("avx3"), Error);
  if (!missing.empty()) GTEST_SKIP() << "this CPU lacks" << missing << ": not tested here";
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Engine, IsaComesFromOptionsThenEnvironmentThenCpu) {
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse("2")), 4);
  {
    ScopedEnv env("QUICKSR_ISA", "");
    EXPECT_EQ(Engine::create(net).isa(), best_isa());
  }
  ScopedEnv env("QUICKSR_ISA", "scalar");
  EXPECT_EQ(Engine::create(net).isa(), Isa::kScalar);
  EXPECT_NE(Engine::create(net).kernel_names().find("f32-conv3x3/scalar"), std::string::npos);
  EXPECT_EQ(Engine::create(net, {.isa = best_isa()}).isa(), best_isa());
  {
    ScopedEnv bad("QUICKSR_ISA", "avx3");
    EXPECT_THROW(Engine::create(net), Error);
  }
  for (Isa isa : kAllIsas) {
    if (cpu_supports(isa)) continue;
    ScopedEnv lacking("QUICKSR_ISA", std::string(isa_name(isa)).c_str());
    EXPECT_THROW(Engine::create(net), Error);
    EXPECT_THROW(Engine::create(net, {.isa = isa}), Error);
  }
}

TEST(Engine, RealImageMatchesReference) {
  if (!std::filesystem::exists(butterfly_path())) GTEST_SKIP() << "missing " << butterfly_path();
  const Tensor crop = butterfly_crop();
  for (const char* scale : {"2", "1.5"}) {
    const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse(scale)), 1);
    for (Isa isa : fp32_isas_to_test()) {
      EXPECT_LE(
          max_abs_difference(make_engine(net, isa, 2).run(crop), reference::forward(net, crop)),
          kTolerance);
    }
  }
}

}  // namespace
}  // namespace quicksr
