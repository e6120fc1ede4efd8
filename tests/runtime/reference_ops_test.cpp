// The reference ops against hand-computed values and hand-written index formulas.
#include <gtest/gtest.h>

#include <random>

#include "quicksr/error.hpp"
#include "quicksr/reference.hpp"

namespace quicksr {
namespace {

// 1x3x3 image  1 2 3 / 4 5 6 / 7 8 9.
Tensor one_to_nine() {
  Tensor x(1, 3, 3);
  for (int i = 0; i < 9; ++i) x.data[i] = static_cast<float>(i + 1);
  return x;
}

Conv2d ones_3x3() {
  Conv2d conv = Conv2d::zeros(1, 1, 3);
  std::fill(conv.weight.begin(), conv.weight.end(), 1.0f);
  return conv;
}

void expect_plane(const Tensor& t, int c, const std::vector<float>& expected) {
  ASSERT_EQ(static_cast<std::size_t>(t.height * t.width), expected.size());
  for (int y = 0; y < t.height; ++y) {
    for (int x = 0; x < t.width; ++x) {
      EXPECT_FLOAT_EQ(t.at(c, y, x), expected[static_cast<std::size_t>(y * t.width + x)])
          << "channel " << c << " at (" << y << ", " << x << ")";
    }
  }
}

Tensor random_tensor(int c, int h, int w, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Tensor t(c, h, w);
  for (float& v : t.data) v = unit(engine);
  return t;
}

TEST(ReferenceConv, SamePaddingWithBias) {
  Conv2d conv = ones_3x3();
  conv.bias = {0.5f};
  // Each output is the sum of the 3x3 neighbourhood (zeros outside) plus 0.5.
  expect_plane(reference::conv2d(one_to_nine(), conv), 0,
               {12.5f, 21.5f, 16.5f, 27.5f, 45.5f, 33.5f, 24.5f, 39.5f, 28.5f});
}

TEST(ReferenceConv, OffCentreTapShiftsTheImage) {
  Conv2d conv = Conv2d::zeros(1, 1, 3);
  conv.w(0, 0, 1, 2) = 1.0f;  // right neighbour
  expect_plane(reference::conv2d(one_to_nine(), conv), 0, {2, 3, 0, 5, 6, 0, 8, 9, 0});
}

TEST(ReferenceConv, StrideTwo) {
  Conv2d conv = ones_3x3();
  conv.stride = 2;
  const Tensor out = reference::conv2d(one_to_nine(), conv);
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.width, 2);
  // Windows centred on the four corners.
  expect_plane(out, 0, {12, 16, 24, 28});
}

TEST(ReferenceConv, AsymmetricPadding) {
  Conv2d conv = ones_3x3();
  conv.pad_top = conv.pad_left = 0;
  conv.pad_bottom = conv.pad_right = 2;
  // Window anchored at its top-left corner.
  expect_plane(reference::conv2d(one_to_nine(), conv), 0, {45, 33, 18, 39, 28, 15, 24, 17, 9});
}

TEST(ReferenceConv, RectangularKernelWithoutPadding) {
  Conv2d conv;
  conv.in_channels = conv.out_channels = 1;
  conv.kernel_h = 1;
  conv.kernel_w = 2;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 0;
  conv.weight = {1.0f, -1.0f};  // x - right neighbour
  const Tensor out = reference::conv2d(one_to_nine(), conv);
  ASSERT_EQ(out.height, 3);
  ASSERT_EQ(out.width, 2);
  expect_plane(out, 0, {-1, -1, -1, -1, -1, -1});
}

TEST(ReferenceConv, GroupsDoNotMix) {
  // 4 constant channels 1, 2, 3, 4; two groups of two; 1x1 weights.
  Tensor x(4, 2, 2);
  for (int c = 0; c < 4; ++c) std::fill_n(x.plane(c), 4, static_cast<float>(c + 1));
  Conv2d conv = Conv2d::zeros(4, 2, 1, 2);
  conv.weight = {1.0f, 10.0f, 100.0f, 1000.0f};
  conv.bias = {0.5f, -0.5f};
  const Tensor out = reference::conv2d(x, conv);
  expect_plane(out, 0, {21.5f, 21.5f, 21.5f, 21.5f});          // 1*1 + 10*2 + 0.5
  expect_plane(out, 1, {4299.5f, 4299.5f, 4299.5f, 4299.5f});  // 100*3 + 1000*4 - 0.5
}

TEST(ReferenceConv, MultiChannelSums) {
  Tensor x(2, 3, 3);
  for (int i = 0; i < 9; ++i) {
    x.data[i] = static_cast<float>(i + 1);
    x.data[9 + i] = 1.0f;
  }
  Conv2d conv = Conv2d::zeros(2, 1, 3);
  conv.w(0, 0, 1, 1) = 2.0f;  // 2 * centre of channel 0
  conv.w(0, 1, 0, 0) = 1.0f;  // + top-left of channel 1 (0 on the top row and left column)
  expect_plane(reference::conv2d(x, conv), 0, {2, 4, 6, 8, 11, 13, 14, 17, 19});
}

// The convolution's definition, written as directly as possible: for every output and every tap,
// read the input (zero outside) and accumulate.
Tensor textbook_conv(const Tensor& x, const Conv2d& conv) {
  const int out_h = (x.height + conv.pad_top + conv.pad_bottom - conv.kernel_h) / conv.stride + 1;
  const int out_w = (x.width + conv.pad_left + conv.pad_right - conv.kernel_w) / conv.stride + 1;
  const int in_per_group = conv.in_channels / conv.groups;
  const int out_per_group = conv.out_channels / conv.groups;
  Tensor y(conv.out_channels, out_h, out_w);
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int oy = 0; oy < out_h; ++oy) {
      for (int ox = 0; ox < out_w; ++ox) {
        double sum = conv.bias.empty() ? 0.0 : conv.bias[o];
        for (int i = 0; i < in_per_group; ++i) {
          for (int ky = 0; ky < conv.kernel_h; ++ky) {
            for (int kx = 0; kx < conv.kernel_w; ++kx) {
              const int iy = oy * conv.stride - conv.pad_top + ky;
              const int ix = ox * conv.stride - conv.pad_left + kx;
              const bool inside = iy >= 0 && iy < x.height && ix >= 0 && ix < x.width;
              const int c = (o / out_per_group) * in_per_group + i;
              sum += conv.w(o, i, ky, kx) * (inside ? static_cast<double>(x.at(c, iy, ix)) : 0.0);
            }
          }
        }
        y.at(o, oy, ox) = static_cast<float>(sum);
      }
    }
  }
  return y;
}

TEST(ReferenceConv, MatchesTextbookDefinitionOnRandomGeometries) {
  std::mt19937 engine(123);
  const auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(engine);
  };
  for (int trial = 0; trial < 200; ++trial) {
    const int groups = pick(1, 3);
    Conv2d conv;
    conv.in_channels = groups * pick(1, 3);
    conv.out_channels = groups * pick(1, 3);
    conv.groups = groups;
    conv.kernel_h = pick(1, 5);
    conv.kernel_w = pick(1, 5);
    conv.stride = pick(1, 3);
    conv.pad_top = pick(0, 3);
    conv.pad_left = pick(0, 3);
    conv.pad_bottom = pick(0, 3);
    conv.pad_right = pick(0, 3);
    const Tensor x = random_tensor(conv.in_channels, pick(1, 9), pick(1, 9), trial);
    if (x.height + conv.pad_top + conv.pad_bottom < conv.kernel_h ||
        x.width + conv.pad_left + conv.pad_right < conv.kernel_w) {
      EXPECT_THROW(reference::conv2d(x, conv), Error);
      continue;
    }
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    conv.weight.resize(static_cast<std::size_t>(conv.out_channels) * (conv.in_channels / groups) *
                       conv.kernel_h * conv.kernel_w);
    for (float& w : conv.weight) w = dist(engine);
    if (pick(0, 1)) conv.bias.assign(conv.out_channels, dist(engine));
    const Tensor expected = textbook_conv(x, conv);
    const Tensor actual = reference::conv2d(x, conv);
    ASSERT_EQ(actual.channels, expected.channels);
    ASSERT_EQ(actual.height, expected.height) << trial;
    ASSERT_EQ(actual.width, expected.width) << trial;
    for (std::size_t i = 0; i < expected.data.size(); ++i) {
      ASSERT_NEAR(actual.data[i], expected.data[i], 1e-5) << "trial " << trial << " index " << i;
    }
  }
}

TEST(ReferenceConv, RejectsWrongChannelCount) {
  EXPECT_THROW(reference::conv2d(Tensor(2, 3, 3), ones_3x3()), Error);
}

TEST(ReferenceOps, ClipAddConcat) {
  Tensor a(1, 1, 3);
  a.data = {-0.5f, 0.25f, 2.0f};
  Tensor clipped = reference::clip(a, 0.0f, 1.0f);
  EXPECT_EQ(clipped.data, (std::vector<float>{0.0f, 0.25f, 1.0f}));
  Tensor b(1, 1, 3);
  b.data = {1.0f, 2.0f, 3.0f};
  EXPECT_EQ(reference::add(a, b).data, (std::vector<float>{0.5f, 2.25f, 5.0f}));
  EXPECT_THROW(reference::add(a, Tensor(1, 3, 1)), Error);
  const Tensor joined = reference::concat({&a, &b});
  EXPECT_EQ(joined.channels, 2);
  EXPECT_EQ(joined.at(0, 0, 2), 2.0f);
  EXPECT_EQ(joined.at(1, 0, 0), 1.0f);
  const Tensor column(1, 3, 1);
  EXPECT_THROW(reference::concat({&a, &column}), Error);
}

TEST(ReferenceDepthToSpace, HandWrittenExample) {
  // CRD: channels a, b, c, d form one 2x2 block a b / c d.
  Tensor x(4, 1, 1);
  x.data = {1, 2, 3, 4};
  EXPECT_EQ(reference::depth_to_space(x, 2, ChannelOrder::kCRD).data,
            (std::vector<float>{1, 2, 3, 4}));
  // DCR with 2 colours: channel = sub_pixel * 2 + colour.
  Tensor y(8, 1, 1);
  y.data = {10, 20, 11, 21, 12, 22, 13, 23};
  const Tensor out = reference::depth_to_space(y, 2, ChannelOrder::kDCR);
  EXPECT_EQ(out.data, (std::vector<float>{10, 11, 12, 13, 20, 21, 22, 23}));
}

TEST(ReferenceDepthToSpace, MatchesIndexFormula) {
  const int r = 3;
  const int colours = 2;
  const Tensor x = random_tensor(colours * r * r, 4, 5, 1);
  const Tensor crd = reference::depth_to_space(x, r, ChannelOrder::kCRD);
  const Tensor dcr = reference::depth_to_space(x, r, ChannelOrder::kDCR);
  ASSERT_EQ(crd.channels, colours);
  ASSERT_EQ(crd.height, 12);
  ASSERT_EQ(crd.width, 15);
  for (int c = 0; c < colours; ++c) {
    for (int y = 0; y < crd.height; ++y) {
      for (int xx = 0; xx < crd.width; ++xx) {
        const int i = y % r, j = xx % r;
        EXPECT_EQ(crd.at(c, y, xx), x.at(c * r * r + i * r + j, y / r, xx / r));
        EXPECT_EQ(dcr.at(c, y, xx), x.at((i * r + j) * colours + c, y / r, xx / r));
      }
    }
  }
}

TEST(ReferenceSpaceToDepth, MatchesIndexFormulaAndInverts) {
  const int r = 2;
  const Tensor x = random_tensor(3, 6, 4, 2);
  for (ChannelOrder order : {ChannelOrder::kCRD, ChannelOrder::kDCR}) {
    const Tensor s2d = reference::space_to_depth(x, r, order);
    ASSERT_EQ(s2d.channels, 12);
    ASSERT_EQ(s2d.height, 3);
    ASSERT_EQ(s2d.width, 2);
    for (int c = 0; c < 3; ++c) {
      for (int i = 0; i < r; ++i) {
        for (int j = 0; j < r; ++j) {
          const int channel =
              order == ChannelOrder::kCRD ? c * r * r + i * r + j : (i * r + j) * 3 + c;
          for (int y = 0; y < 3; ++y) {
            for (int xx = 0; xx < 2; ++xx) {
              EXPECT_EQ(s2d.at(channel, y, xx), x.at(c, y * r + i, xx * r + j));
            }
          }
        }
      }
    }
    EXPECT_EQ(reference::depth_to_space(s2d, r, order).data, x.data);
    const Tensor deep = random_tensor(8, 2, 3, 3);
    EXPECT_EQ(reference::space_to_depth(reference::depth_to_space(deep, r, order), r, order).data,
              deep.data);
  }
  EXPECT_THROW(reference::space_to_depth(Tensor(1, 3, 4), 2, ChannelOrder::kCRD), Error);
  EXPECT_THROW(reference::depth_to_space(Tensor(3, 2, 2), 2, ChannelOrder::kCRD), Error);
}

}  // namespace
}  // namespace quicksr
