// The INT8 engine against the integer reference runtime (quicksr::quant::forward): bit-identical
// u8 output for every preset and scale (x1.5 and the Large anchor included), sizes from 1x1 up,
// nonzero zero points (the padding rule), per-tensor and per-channel weights, the shipped Small x2
// weights, a real image crop, every ISA this CPU has, 1 and 3 threads and several strip widths
// (in full on the most capable level, once on each other: engine_runs).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/kernels/qu8_kernels.hpp"
#include "engine/qu8_channel_order.hpp"
#include "engine/qu8_plan.hpp"
#include "engine_test_support.hpp"
#include "qu8_test_support.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"

namespace quicksr {
namespace {

// Zero points of 0 and not, ranges wider and narrower than [0, 1].
ActivationEncodings test_encodings(int blocks, bool zero_points) {
  ActivationEncodings encodings;
  for (int i = 0; i <= blocks; ++i) {
    const float min = zero_points && i % 2 == 0 ? -0.3f : 0.0f;
    encodings.features.push_back(quant::encoding_from_range(min, 0.8f + 0.15f * i));
  }
  encodings.output = quant::encoding_from_range(zero_points ? -0.1f : 0.0f, 1.0f);
  return encodings;
}

QuantizedQuickSRNet int8_net(const QuickSRNetConfig& config, std::uint64_t seed,
                             bool zero_points = true,
                             WeightGranularity granularity = WeightGranularity::kPerChannel) {
  return quant::quantize_weights(QuickSRNet::initialized(config, seed),
                                 test_encodings(config.blocks, zero_points), granularity);
}

// One engine per ISA and thread count runs every size (engines keep their workspaces between
// frames of any size: KeptWorkspacesServeFramesOfAnySize).
void expect_matches_reference(const QuantizedQuickSRNet& net,
                              const std::vector<std::pair<int, int>>& sizes) {
  std::vector<U8Tensor> inputs;
  std::vector<U8Tensor> expected;
  for (const auto& [width, height] : sizes) {
    inputs.push_back(random_u8_image(width, height, width * 1000 + height));
    expected.push_back(quant::forward(net, inputs.back()));
  }
  for (const EngineRun& run : engine_runs(isas_to_test(), {1, 3})) {
    const Engine engine = make_engine(net, run.isa, run.threads);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      SCOPED_TRACE(net.config.name() + " " + std::to_string(inputs[i].width) + "x" +
                   std::to_string(inputs[i].height) + " " + engine.kernel_names() + " threads " +
                   std::to_string(run.threads));
      expect_identical(run_u8(engine, inputs[i]), expected[i]);
    }
  }
}

const std::vector<std::pair<int, int>> kInt8ManySizes = {
    {1, 1}, {1, 7}, {7, 1}, {2, 2}, {5, 3}, {3, 5}, {17, 9}, {33, 65}, {70, 6}, {113, 4}};
const std::vector<std::pair<int, int>> kInt8FewSizes = {{1, 1}, {5, 3}, {37, 9}};

// ReLU nets: features encoded on [0, 2.5], clamped only to the u8 range (ReLU1 would clamp them at
// the u8 value of 1). The same net read as ReLU1 gives a different output, so the test bites.
TEST(Int8Engine, ReluNetsMatchIntegerReference) {
  for (const char* scale : {"2", "1.5"}) {
    QuickSRNet net = relu_net_with_features_above_one(scale, 8);
    ActivationEncodings encodings;
    encodings.features.assign(static_cast<std::size_t>(net.config.blocks) + 1,
                              quant::encoding_from_range(0.0f, 2.5f));
    const QuantizedQuickSRNet q =
        quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel);
    QuantizedQuickSRNet as_relu1 = q;
    as_relu1.config.activation = Activation::kReLU1;
    const U8Tensor probe = random_u8_image(17, 9, 3);
    EXPECT_NE(quant::forward(q, probe).data, quant::forward(as_relu1, probe).data);
    expect_matches_reference(q, kInt8FewSizes);
  }
}

TEST(Int8Engine, SmallMatchesIntegerReferenceAtEveryScaleAndSize) {
  for (const char* scale : {"2", "3", "4", "1.5"}) {
    expect_matches_reference(int8_net(QuickSRNetConfig::small(Scale::parse(scale)), 5),
                             kInt8ManySizes);
  }
}

TEST(Int8Engine, MediumAndLargeMatchIntegerReference) {
  expect_matches_reference(int8_net(QuickSRNetConfig::medium(Scale::parse("2")), 6), kInt8FewSizes);
  expect_matches_reference(int8_net(QuickSRNetConfig::medium(Scale::parse("1.5")), 6), {{9, 5}});
  for (const char* scale : {"2", "3", "4", "1.5"}) {
    expect_matches_reference(int8_net(QuickSRNetConfig::large(Scale::parse(scale)), 7),
                             {{7, 5}, {1, 1}, {20, 3}});
  }
}

// Trained weights: the shipped Small x2 INT8 model, whose weights leave the AVX2 kernel's split
// packing a residual in about 1-2 % of the body convs' weight words and 8 % of the first conv's
// (after the plan's channel order and red sharing).
TEST(Int8Engine, ShippedWeightsMatchIntegerReference) {
  const std::filesystem::path path =
      std::filesystem::path(QUICKSR_SOURCE_DIR) / "models/quicksrnet-small-x2-int8.safetensors";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  const Model model = load_model(path);
  expect_matches_reference(std::get<QuantizedQuickSRNet>(model.net), {{37, 9}, {70, 6}});
}

// The residual entries of a 3x3 conv packed by the split packing: the last entry start, after
// the main words.
int residual_entries(const std::vector<std::int32_t>& packed, const engine::QU8PackedConv& conv) {
  return packed[static_cast<std::size_t>(conv.padded_out_channels) * conv.in_groups * 9 +
                conv.padded_out_channels];
}

// The plan shares red's weight with the repeated red channel and orders the channels between the
// convs for exact s16 sums: on the shipped Small x2 the split packing then keeps a third fewer
// residual entries than for the convs as they are (89 against 175 when written).
TEST(QU8Plan, LeavesFewerResidualWordsOnShippedWeights) {
  const std::filesystem::path path =
      std::filesystem::path(QUICKSR_SOURCE_DIR) / "models/quicksrnet-small-x2-int8.safetensors";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  const auto net = std::get<QuantizedQuickSRNet>(load_model(path).net);
  const engine::QU8Conv3x3Config* split_config = avx2_split_config();
  if (split_config == nullptr) GTEST_SKIP() << "this build has no x86 kernels";
  const engine::QU8Conv3x3Config& split = *split_config;
  const engine::QU8Plan plan = engine::make_qu8_plan(net, split);
  std::vector<const QConv2d*> originals{&net.first};
  for (const QConv2d& conv : net.body) originals.push_back(&conv);
  originals.push_back(&net.last);
  ASSERT_EQ(plan.convs.size(), originals.size());
  int planned = 0;
  int unplanned = 0;
  for (std::size_t i = 0; i < originals.size(); ++i) {
    planned += residual_entries(plan.convs[i].weights, plan.convs[i]);
    unplanned += residual_entries(split.pack(*originals[i]), plan.convs[i]);
  }
  EXPECT_GT(unplanned, 0);
  EXPECT_LT(3 * planned, 2 * unplanned) << planned << " vs " << unplanned << " residual entries";
}

// The channel-order search on the convs a plan orders (body and last) of wide nets: a permutation
// no worse than the identity, whose inexact count the search kept right (against the plain
// recount), for a bounded amount of work: at most kMaxSumsTried (output channel, tap) sums
// costed per net, ~40 ms in Release at ~0.4 ns a sum and ~1 s at 10 ns (sanitizers). Large x2
// takes 42 M when written; e7314fd's search (every pair in every pass, ~20 ns a sum) 79 M.
TEST(QU8ChannelOrder, SearchIsBoundedOnWideNets) {
  constexpr std::int64_t kMaxSumsTried = 100'000'000;
  for (const QuickSRNetConfig& config :
       {QuickSRNetConfig::medium(Scale::parse("2")), QuickSRNetConfig::large(Scale::parse("2"))}) {
    const QuantizedQuickSRNet net = int8_net(config, 6);
    std::vector<const QConv2d*> consumers;
    for (const QConv2d& conv : net.body) consumers.push_back(&conv);
    consumers.push_back(&net.last);
    std::int64_t sums_tried = 0;
    for (const QConv2d* conv : consumers) {
      const engine::S16ChannelOrder found = engine::s16_friendly_order(*conv);
      std::vector<int> identity(conv->in_channels);
      std::iota(identity.begin(), identity.end(), 0);
      EXPECT_TRUE(std::is_permutation(found.order.begin(), found.order.end(), identity.begin()));
      EXPECT_EQ(found.inexact_sums, engine::inexact_s16_sums(*conv, found.order));
      EXPECT_LE(found.inexact_sums, engine::inexact_s16_sums(*conv, identity));
      EXPECT_LE(found.passes, engine::kS16OrderMaxPasses);
      sums_tried += found.sums_tried;
    }
    EXPECT_LE(sums_tried, kMaxSumsTried) << config.name();
  }
}

TEST(Int8Engine, PerTensorWeightsAndZeroPointsOfZeroMatch) {
  expect_matches_reference(
      int8_net(QuickSRNetConfig::small(Scale::parse("2")), 8, false, WeightGranularity::kPerTensor),
      kInt8FewSizes);
  expect_matches_reference(int8_net(QuickSRNetConfig::small(Scale::parse("1.5")), 8, false,
                                    WeightGranularity::kPerTensor),
                           kInt8FewSizes);
}

TEST(Int8Engine, FloatRunMatchesFloatReference) {
  const QuantizedQuickSRNet net = int8_net(QuickSRNetConfig::small(Scale::parse("2")), 3);
  Tensor input(3, 11, 19);
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> uniform(-0.1f, 1.1f);  // clamped to [0, 1] on the way in
  for (float& v : input.data) v = uniform(rng);
  const Tensor expected = quant::forward(net, input);
  for (Isa isa : isas_to_test()) {
    EXPECT_EQ(make_engine(net, isa, 2).run(input).data, expected.data);
  }
}

// Bands (one per thread) and strips change only the schedule, never the arithmetic.
TEST(Int8Engine, OutputIsBitIdenticalWhateverTheBandsAndStrips) {
  for (const char* scale : {"2", "1.5"}) {
    const QuantizedQuickSRNet net = int8_net(QuickSRNetConfig::small(Scale::parse(scale)), 9);
    const U8Tensor input = random_u8_image(203, 37, 11);
    const U8Tensor expected = quant::forward(net, input);
    for (const EngineRun& run : engine_runs(isas_to_test(), {1, 2, 5}, {8, 48, 1024})) {
      SCOPED_TRACE(std::string("x") + scale + " " + std::string(isa_name(run.isa)) + " threads " +
                   std::to_string(run.threads) + " strip " + std::to_string(run.size));
      expect_identical(run_u8(make_engine(net, run.isa, run.threads, run.size), input), expected);
    }
  }
}

// Band workspaces are kept between runs: one engine running frames of different sizes (larger
// first, so stale rows of the earlier frame lie in the later one's halo) still matches the
// reference on each.
TEST(Int8Engine, KeptWorkspacesServeFramesOfAnySize) {
  for (const char* scale : {"2", "1.5"}) {
    const QuantizedQuickSRNet net = int8_net(QuickSRNetConfig::small(Scale::parse(scale)), 12);
    for (Isa isa : isas_to_test()) {
      const Engine engine = make_engine(net, isa, 2, 48);
      for (const auto& [width, height] : {std::pair{131, 29}, {13, 9}, {70, 3}, {131, 29}}) {
        SCOPED_TRACE(std::string("x") + scale + " " + std::string(isa_name(isa)) + " " +
                     std::to_string(width) + "x" + std::to_string(height));
        const U8Tensor input = random_u8_image(width, height, width + height);
        expect_identical(run_u8(engine, input), quant::forward(net, input));
      }
    }
  }
}

TEST(Int8Engine, RealImageCropMatchesIntegerReference) {
  if (!std::filesystem::exists(butterfly_path())) GTEST_SKIP() << "missing " << butterfly_path();
  const Tensor crop = butterfly_crop();
  const U8Tensor image = quant::to_u8(crop);
  for (const char* scale : {"2", "1.5"}) {
    const QuantizedQuickSRNet net = int8_net(QuickSRNetConfig::small(Scale::parse(scale)), 1);
    const U8Tensor expected = quant::forward(net, image);
    // A meaningful comparison: the output is an image, not a constant.
    EXPECT_GT(std::set<std::uint8_t>(expected.data.begin(), expected.data.end()).size(), 50u);
    for (Isa isa : isas_to_test())
      expect_identical(run_u8(make_engine(net, isa, 2), image), expected);
  }
}

TEST(Int8Engine, ReportsItsPrecisionAndRejectsBadInput) {
  const QuantizedQuickSRNet net = int8_net(QuickSRNetConfig::small(Scale::parse("2")), 4);
  const Engine engine = Engine::create(net);
  EXPECT_EQ(engine.precision(), Precision::kInt8);
  EXPECT_THROW(engine.run(Tensor(1, 4, 4)), Error);
  std::vector<std::uint8_t> out(48);
  EXPECT_THROW(engine.run(out.data(), 0, 4, out.data()), Error);
  QuantizedQuickSRNet broken = net;
  broken.body.pop_back();
  EXPECT_THROW(Engine::create(broken), Error);
  const Engine fp32 =
      Engine::create(QuickSRNet::initialized(QuickSRNetConfig::small(Scale::parse("2")), 1));
  EXPECT_EQ(fp32.precision(), Precision::kFp32);  // its 8-bit runs: Engine.EightBitViews...
}

}  // namespace
}  // namespace quicksr
