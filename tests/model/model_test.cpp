// Scale, presets, initialisation and shape checks, against values worked out by hand.
#include "quicksr/model.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "quicksr/error.hpp"

namespace quicksr {
namespace {

TEST(Scale, ParsesAndPrints) {
  EXPECT_EQ(Scale::parse("2"), (Scale{2, 1}));
  EXPECT_EQ(Scale::parse("x3"), (Scale{3, 1}));
  EXPECT_EQ(Scale::parse("4"), (Scale{4, 1}));
  EXPECT_EQ(Scale::parse("1.5"), (Scale{3, 2}));
  EXPECT_EQ(Scale::parse("1_5"), (Scale{3, 2}));
  EXPECT_EQ(Scale::parse("x1.5"), (Scale{3, 2}));
  EXPECT_EQ((Scale{3, 2}).to_string(), "1.5");
  EXPECT_EQ((Scale{4, 1}).to_string(), "4");
  EXPECT_DOUBLE_EQ((Scale{3, 2}).value(), 1.5);
  for (const char* bad : {"", "x", "two", "2.5", "0", "1", "5", "-2", "2x", "1.50", "99"}) {
    EXPECT_THROW(Scale::parse(bad), Error) << bad;
  }
}

TEST(QuickSRNetConfig, PresetsMatchThePaper) {
  const auto small = QuickSRNetConfig::small({2, 1});
  EXPECT_EQ(small.features, 32);
  EXPECT_EQ(small.blocks, 2);
  EXPECT_FALSE(small.anchor);
  const auto medium = QuickSRNetConfig::medium({2, 1});
  EXPECT_EQ(medium.features, 32);
  EXPECT_EQ(medium.blocks, 5);
  const auto large = QuickSRNetConfig::large({4, 1});
  EXPECT_EQ(large.features, 64);
  EXPECT_EQ(large.blocks, 11);
  EXPECT_TRUE(large.anchor);
  EXPECT_EQ(QuickSRNetConfig::preset("medium", {3, 2}), QuickSRNetConfig::medium({3, 2}));
  EXPECT_THROW(QuickSRNetConfig::preset("huge", {2, 1}), Error);
}

TEST(QuickSRNetConfig, GridSpecsNameTheirSize) {
  const QuickSRNetConfig m3 = QuickSRNetConfig::preset("f32-m3", {2, 1});
  EXPECT_EQ(m3.features, 32);
  EXPECT_EQ(m3.blocks, 3);
  EXPECT_FALSE(m3.anchor);
  EXPECT_EQ(m3.name(), "quicksrnet-f32-m3-x2");
  const QuickSRNetConfig wide = QuickSRNetConfig::preset("f64-m11-anchor", {4, 1});
  EXPECT_EQ(wide, QuickSRNetConfig::large({4, 1}));
  EXPECT_EQ(QuickSRNetConfig::preset("f32-m2", {3, 1}), QuickSRNetConfig::small({3, 1}));
  EXPECT_EQ(QuickSRNetConfig::preset("f16-m1", {3, 2}).name(), "quicksrnet-f16-m1-x1.5");
  for (const char* bad : {"f32", "f32-m", "f32-m0", "f0-m2", "f32-m3-", "f32-m3x", "f-m3", "F32-M3",
                          "f32-m3-anchorx", "f300-m2", "f32-m65", "f+32-m3"}) {
    EXPECT_THROW(QuickSRNetConfig::preset(bad, {2, 1}), Error) << bad;
  }
}

TEST(QuickSRNetConfig, Names) {
  EXPECT_EQ(QuickSRNetConfig::small({2, 1}).name(), "quicksrnet-small-x2");
  EXPECT_EQ(QuickSRNetConfig::large({3, 2}).name(), "quicksrnet-large-x1.5");
  QuickSRNetConfig custom{.features = 16, .blocks = 3, .scale = {2, 1}};
  EXPECT_EQ(custom.name(), "quicksrnet-f16-m3-x2");
  custom.anchor = true;
  custom.order = ChannelOrder::kDCR;
  EXPECT_EQ(custom.name(), "quicksrnet-f16-m3-anchor-x2-dcr");
}

TEST(QuickSRNet, ZerosHasThePaperShapes) {
  const QuickSRNet x3 = QuickSRNet::zeros(QuickSRNetConfig::large({3, 1}));
  EXPECT_EQ(x3.first.in_channels, 3);
  EXPECT_EQ(x3.first.out_channels, 64);
  EXPECT_EQ(x3.body.size(), 11u);
  EXPECT_EQ(x3.last.out_channels, 27);
  EXPECT_EQ(x3.last.kernel_h, 3);
  ASSERT_EQ(x3.anchor.size(), 1u);
  EXPECT_EQ(x3.anchor[0].kernel_h, 1);
  EXPECT_EQ(x3.anchor[0].out_channels, 27);
  EXPECT_EQ(x3.first.weight.size(), 64u * 3 * 9);

  const QuickSRNet x1_5 = QuickSRNet::zeros(QuickSRNetConfig::large({3, 2}));
  EXPECT_EQ(x1_5.last.in_channels, 256);
  EXPECT_EQ(x1_5.last.out_channels, 27);
  EXPECT_EQ(x1_5.last.kernel_h, 1);
  EXPECT_EQ(x1_5.anchor[0].kernel_h, 3);
  EXPECT_EQ(x1_5.anchor[0].stride, 2);
  EXPECT_EQ(x1_5.anchor[0].pad_top, 1);
  EXPECT_EQ(x1_5.anchor[0].pad_bottom, 1);
}

TEST(QuickSRNet, MacsPerPixelByHand) {
  // Small x2: 3*32*9 + 2*32*32*9 + 32*12*9.
  EXPECT_DOUBLE_EQ(QuickSRNet::zeros(QuickSRNetConfig::small({2, 1})).macs_per_pixel(),
                   864 + 18432 + 3456);
  // Small x1.5: the 1x1 tail (128 -> 27) runs once per 2x2 input block.
  EXPECT_DOUBLE_EQ(QuickSRNet::zeros(QuickSRNetConfig::small({3, 2})).macs_per_pixel(),
                   864 + 18432 + 128 * 27 / 4.0);
  // Large x1.5 adds the stride-2 3x3 anchor 3 -> 27 on the 2x2 grid.
  EXPECT_DOUBLE_EQ(QuickSRNet::zeros(QuickSRNetConfig::large({3, 2})).macs_per_pixel(),
                   3 * 64 * 9 + 11 * 64 * 64 * 9 + 256 * 27 / 4.0 + 3 * 27 * 9 / 4.0);
}

TEST(QuickSRNet, CheckRejectsMismatchedShapes) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  EXPECT_NO_THROW(QuickSRNet::zeros(config).check());
  QuickSRNet missing_block = QuickSRNet::zeros(config);
  missing_block.body.pop_back();
  EXPECT_THROW(missing_block.check(), Error);
  QuickSRNet wrong_last = QuickSRNet::zeros(config);
  wrong_last.last = Conv2d::zeros(32, 27, 3);
  EXPECT_THROW(wrong_last.check(), Error);
  QuickSRNet short_weights = QuickSRNet::zeros(config);
  short_weights.body[0].weight.pop_back();
  EXPECT_THROW(short_weights.check(), Error);
  QuickSRNet unexpected_anchor = QuickSRNet::zeros(config);
  unexpected_anchor.anchor.push_back(Conv2d::zeros(3, 12, 1));
  EXPECT_THROW(unexpected_anchor.check(), Error);
  EXPECT_THROW(QuickSRNet::zeros({.features = 8, .blocks = 1, .scale = {5, 1}}), Error);
  EXPECT_THROW(QuickSRNet::zeros({.features = 2000, .blocks = 1, .scale = {2, 1}}), Error);
}

TEST(IdentityInit, TermsByHand) {
  QuickSRNet net = QuickSRNet::zeros(QuickSRNetConfig::small({2, 1}));
  add_identity_init(net);
  // First conv copies RGB into channels 0..2 through the centre tap; nothing else is set.
  double first_sum = 0;
  for (float v : net.first.weight) first_sum += v;
  EXPECT_EQ(first_sum, 3.0);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(net.first.w(c, c, 1, 1), 1.0f);
  // Body: the full 32-channel diagonal.
  double body_sum = 0;
  for (float v : net.body[1].weight) body_sum += v;
  EXPECT_EQ(body_sum, 32.0);
  EXPECT_EQ(net.body[1].w(31, 31, 1, 1), 1.0f);
  // Last: output o = c * 4 + k reads channel c (repeat-interleave).
  for (int o = 0; o < 12; ++o) EXPECT_EQ(net.last.w(o, o / 4, 1, 1), 1.0f) << o;

  QuickSRNet large = QuickSRNet::zeros(QuickSRNetConfig::large({2, 1}));
  add_identity_init(large);
  for (float v : large.last.weight) EXPECT_EQ(v, 0.0f);  // the anchor carries the input
  for (int o = 0; o < 12; ++o) EXPECT_EQ(large.anchor[0].w(o, o / 4, 0, 0), 1.0f) << o;
}

TEST(Initialized, RandomPartIsBoundedByFanIn) {
  const QuickSRNetConfig config = QuickSRNetConfig::large({3, 2});
  const QuickSRNet net = QuickSRNet::initialized(config, 42);
  QuickSRNet identity = QuickSRNet::zeros(config);
  add_identity_init(identity);
  const auto check_conv = [](const Conv2d& actual, const Conv2d& identity_part, double fan_in) {
    const double bound = 1.0 / std::sqrt(fan_in);
    double sum = 0, sum_squares = 0, largest = 0;
    for (std::size_t i = 0; i < actual.weight.size(); ++i) {
      const double random_part = actual.weight[i] - identity_part.weight[i];
      ASSERT_LE(std::abs(random_part), bound);
      sum += random_part;
      sum_squares += random_part * random_part;
      largest = std::max(largest, std::abs(random_part));
    }
    for (float b : actual.bias) ASSERT_LE(std::abs(b), bound);
    // U(-b, b): mean 0, variance b^2 / 3, extremes near b (loose bounds for n >= 243 draws).
    const double n = static_cast<double>(actual.weight.size());
    EXPECT_LT(std::abs(sum / n), 0.15 * bound);
    EXPECT_NEAR(sum_squares / n, bound * bound / 3, 0.2 * bound * bound / 3);
    EXPECT_GT(largest, 0.9 * bound);
  };
  check_conv(net.first, identity.first, 3 * 9);
  for (std::size_t i = 0; i < net.body.size(); ++i)
    check_conv(net.body[i], identity.body[i], 64 * 9);
  check_conv(net.last, identity.last, 256);
  // The anchor starts as exactly the nearest-neighbour upsampling, bias zero.
  EXPECT_EQ(net.anchor[0].weight, identity.anchor[0].weight);
  EXPECT_EQ(net.anchor[0].bias, identity.anchor[0].bias);
}

// --init default: the same uniform draw without the identity terms, so that identity-init weights
// minus default-init weights are exactly the terms add_identity_init puts on a zero net, and the
// default-init weights themselves stay inside PyTorch's bound 1 / sqrt(fan_in) everywhere (the
// identity init's centre taps, near 1, do not).
TEST(Initialized, DefaultInitIsTheIdentityInitWithoutItsTerms) {
  for (const QuickSRNetConfig& config :
       {QuickSRNetConfig::small({2, 1}), QuickSRNetConfig::small({3, 2}),
        QuickSRNetConfig::large({4, 1})}) {
    const QuickSRNet with_identity = QuickSRNet::initialized(config, 5);
    const QuickSRNet without =
        QuickSRNet::initialized(config, 5, QuickSRNet::Initialization::kDefault);
    QuickSRNet terms = QuickSRNet::zeros(config);
    add_identity_init(terms);
    const auto check = [&](const Conv2d& a, const Conv2d& b, const Conv2d& term) {
      ASSERT_EQ(a.bias, b.bias);
      const double bound =
          1.0 / std::sqrt(static_cast<double>(b.in_channels) * b.kernel_h * b.kernel_w);
      for (std::size_t i = 0; i < a.weight.size(); ++i) {
        ASSERT_EQ(a.weight[i], b.weight[i] + term.weight[i]) << config.name() << " " << i;
        ASSERT_LE(std::abs(b.weight[i]), bound) << config.name() << " " << i;
      }
    };
    check(with_identity.first, without.first, terms.first);
    EXPECT_GT(with_identity.first.w(0, 0, 1, 1), 0.5f);      // the identity term is there...
    EXPECT_LT(std::abs(without.first.w(0, 0, 1, 1)), 0.5f);  // ...and here it is not
    for (std::size_t i = 0; i < without.body.size(); ++i) {
      check(with_identity.body[i], without.body[i], terms.body[i]);
    }
    check(with_identity.last, without.last, terms.last);
    // The anchor is architecture, not init: the upsampling with either initialisation.
    for (std::size_t i = 0; i < without.anchor.size(); ++i) {
      EXPECT_EQ(without.anchor[i].weight, with_identity.anchor[i].weight);
      EXPECT_EQ(without.anchor[i].weight, terms.anchor[i].weight);
    }
  }
}

TEST(Activation, ParsesPrintsAndNamesTheModel) {
  EXPECT_EQ(parse_activation("relu1"), Activation::kReLU1);
  EXPECT_EQ(parse_activation("relu"), Activation::kReLU);
  EXPECT_EQ(activation_name(Activation::kReLU1), "relu1");
  EXPECT_EQ(activation_name(Activation::kReLU), "relu");
  for (const char* bad : {"", "ReLU", "relu6", "clip", "relu1 "}) {
    EXPECT_THROW(parse_activation(bad), Error) << bad;
  }
  EXPECT_EQ(activation_upper_bound(Activation::kReLU1), 1.0f);
  EXPECT_TRUE(std::isinf(activation_upper_bound(Activation::kReLU)));
  QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  EXPECT_EQ(config.activation, Activation::kReLU1);  // the paper's is the default
  config.activation = Activation::kReLU;
  EXPECT_EQ(config.name(), "quicksrnet-small-x2-relu");
  EXPECT_NE(config, QuickSRNetConfig::small({2, 1}));
}

TEST(Initialized, SameSeedSameWeights) {
  const QuickSRNetConfig config = QuickSRNetConfig::small({2, 1});
  const QuickSRNet a = QuickSRNet::initialized(config, 7);
  const QuickSRNet b = QuickSRNet::initialized(config, 7);
  const QuickSRNet c = QuickSRNet::initialized(config, 8);
  EXPECT_EQ(a.first.weight, b.first.weight);
  EXPECT_EQ(a.body[1].bias, b.body[1].bias);
  EXPECT_EQ(a.last.weight, b.last.weight);
  EXPECT_NE(a.first.weight, c.first.weight);
  EXPECT_NE(a.last.bias, c.last.bias);
}

TEST(Model, NameAndScale) {
  const Model quicksrnet{.net = QuickSRNet::zeros(QuickSRNetConfig::medium({3, 1})),
                         .provenance = {}};
  EXPECT_EQ(quicksrnet.name(), "quicksrnet-medium-x3");
  EXPECT_EQ(quicksrnet.scale(), (Scale{3, 1}));
  EXPECT_TRUE(quicksrnet.is_quicksrnet());
  Graph graph;
  graph.architecture = "xlsr";
  graph.scale = {4, 1};
  const Model general{.net = graph, .provenance = {}};
  EXPECT_EQ(general.name(), "xlsr-x4");
  EXPECT_EQ(general.scale(), (Scale{4, 1}));
}

}  // namespace
}  // namespace quicksr
