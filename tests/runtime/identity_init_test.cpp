// Paper Eq. 1-3: with the random part zero, identity init makes QuickSRNet a nearest-neighbour
// upscaler. Checked against simple nearest-neighbour loops written here.
#include <gtest/gtest.h>

#include <cmath>

#include "quicksr/reference.hpp"
#include "support/random_tensor.hpp"

namespace quicksr {
namespace {

// Nearest neighbour for any scale s: output pixel Y samples input floor((Y + 0.5) / s), i.e. the
// input pixel containing the output pixel's centre.
Tensor nearest_upscale(const Tensor& x, double s) {
  const int h = static_cast<int>(std::floor(x.height * s));
  const int w = static_cast<int>(std::floor(x.width * s));
  Tensor y(x.channels, h, w);
  for (int c = 0; c < x.channels; ++c) {
    for (int row = 0; row < h; ++row) {
      for (int col = 0; col < w; ++col) {
        const int sy = static_cast<int>(std::floor((row + 0.5) / s));
        const int sx = static_cast<int>(std::floor((col + 0.5) / s));
        y.at(c, row, col) = x.at(c, sy, sx);
      }
    }
  }
  return y;
}

void expect_nearest_neighbour(const QuickSRNetConfig& config, int h, int w) {
  QuickSRNet net = QuickSRNet::zeros(config);
  add_identity_init(net);
  const Tensor input = test_support::random_tensor(3, h, w, static_cast<unsigned>(h * 100 + w));
  const Tensor output = reference::forward(net, input);
  const Tensor expected = nearest_upscale(input, config.scale.value());
  ASSERT_EQ(output.channels, 3);
  ASSERT_EQ(output.height, expected.height) << config.name();
  ASSERT_EQ(output.width, expected.width) << config.name();
  for (std::size_t i = 0; i < output.data.size(); ++i) {
    ASSERT_EQ(output.data[i], expected.data[i]) << config.name() << " at flat index " << i;
  }
}

TEST(IdentityInit, SmallAndMediumAreNearestNeighbourAtIntegerScales) {
  for (int s : {2, 3, 4}) {
    expect_nearest_neighbour(QuickSRNetConfig::small({s, 1}), 7, 9);
    expect_nearest_neighbour(QuickSRNetConfig::medium({s, 1}), 6, 5);
  }
}

TEST(IdentityInit, LargeWithAnchorIsNearestNeighbour) {
  for (int s : {2, 3, 4}) expect_nearest_neighbour(QuickSRNetConfig::large({s, 1}), 5, 6);
}

TEST(IdentityInit, OneAndAHalfIsNearestNeighbourOnEvenAndOddSizes) {
  for (const auto& config : {QuickSRNetConfig::small({3, 2}), QuickSRNetConfig::medium({3, 2}),
                             QuickSRNetConfig::large({3, 2})}) {
    expect_nearest_neighbour(config, 6, 8);
    expect_nearest_neighbour(config, 7, 9);
    expect_nearest_neighbour(config, 1, 2);
  }
}

TEST(IdentityInit, DcrOrderIsNearestNeighbourToo) {
  for (Scale scale : {Scale{2, 1}, Scale{3, 2}}) {
    for (bool anchor : {false, true}) {
      QuickSRNetConfig config{.features = 8, .blocks = 1, .scale = scale, .anchor = anchor};
      config.order = ChannelOrder::kDCR;
      expect_nearest_neighbour(config, 5, 4);
    }
  }
}

TEST(IdentityInit, ClipsInputOutsideUnitRangeLikeTheNetwork) {
  // ReLU1 after the first conv: values outside [0, 1] reach the output clamped.
  QuickSRNet net = QuickSRNet::zeros(QuickSRNetConfig::small({2, 1}));
  add_identity_init(net);
  Tensor input(3, 1, 1);
  input.data = {-0.5f, 0.5f, 1.5f};
  const Tensor output = reference::forward(net, input);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(output.plane(0)[i], 0.0f);
    EXPECT_EQ(output.plane(1)[i], 0.5f);
    EXPECT_EQ(output.plane(2)[i], 1.0f);
  }
}

}  // namespace
}  // namespace quicksr
