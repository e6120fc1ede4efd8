// FSR 1 (EASU + RCAS) against hand-computed pixels and the properties AMD states for it: flat
// stays flat, EASU never leaves the range of its four nearest inputs (so a step stays a
// monotone step), RCAS leaves a neighbourhood without contrast alone and never clips.
#include "quicksr/fsr1.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>

#include "quicksr/error.hpp"
#include "support/random_tensor.hpp"

namespace quicksr {
namespace {

Tensor random_rgb(int width, int height, unsigned seed) {
  return test_support::random_tensor(3, height, width, seed);
}

// Constant (twice-)luma 0.5 R + G + 0.5 B = 1 with R varying: G = 0.5, B = 1 - R. R is a multiple
// of 1/16 so every luma is exactly 1 in float and EASU sees no edge anywhere.
Tensor constant_luma(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> sixteenths(0, 16);
  Tensor t(3, height, width);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float r = static_cast<float>(sixteenths(rng)) / 16.0f;
      t.at(0, y, x) = r;
      t.at(1, y, x) = 0.5f;
      t.at(2, y, x) = 1.0f - r;
    }
  }
  return t;
}

// A gray 3x3 image: `ring` everywhere but `centre` in the middle.
Tensor gray_cross(float ring, float centre) {
  Tensor t(3, 3, 3, ring);
  for (int c = 0; c < 3; ++c) t.at(c, 1, 1) = centre;
  return t;
}

TEST(Fsr1, OutputSizeIsCeilOfScaledInput) {
  const Tensor input = random_rgb(7, 5, 1);
  for (double scale : {1.5, 2.0, 3.0, 4.0}) {
    const Tensor out = fsr1_upscale(input, scale);
    EXPECT_EQ(out.channels, 3);
    EXPECT_EQ(out.width, static_cast<int>(std::ceil(7 * scale))) << scale;
    EXPECT_EQ(out.height, static_cast<int>(std::ceil(5 * scale))) << scale;
    EXPECT_EQ(fsr1_output_length(7, scale), out.width);
  }
  EXPECT_EQ(fsr1_output_length(7, 1.5), 11);  // ceil(10.5)
}

TEST(Fsr1, FlatImageStaysExactlyFlat) {
  for (float value : {0.0f, 0.3f, 0.73f, 1.0f}) {
    const Tensor flat(3, 6, 9, value);
    for (double scale : {1.5, 2.0, 3.0, 4.0}) {
      const Tensor out = fsr1_upscale(flat, scale);
      for (float v : out.data) ASSERT_EQ(v, value) << "value " << value << " scale " << scale;
    }
  }
}

TEST(Fsr1Easu, WithoutLumaEdgesScaleOneIsIdentity) {
  // No edge: the kernel is the isotropic window with lobe 1/2, ending at squared distance 2. At
  // scale 1 every sample sits on its pixel 'f' (weight 1); e, g, b, j are at distance 1 where the
  // base (25/16 (2/5 - 1)^2 - 9/16) is 0, the diagonals at squared distance 2 where the window is
  // 0, the rest clipped to 2: the output is the input (up to float rounding: 2/5 is inexact).
  const Tensor input = constant_luma(6, 5, 2);
  const Tensor out = fsr1_easu(input, 6, 5);
  for (std::size_t i = 0; i < out.data.size(); ++i) ASSERT_NEAR(out.data[i], input.data[i], 1e-6);
}

// FSR's Lanczos-2 stand-in at squared distance d2 for the no-edge kernel (lobe 1/2, clipped at 2).
double isotropic_weight(double d2) {
  d2 = std::min(d2, 2.0);
  const double base = 25.0 / 16.0 * std::pow(2.0 / 5.0 * d2 - 1.0, 2) - 9.0 / 16.0;
  return base * std::pow(0.5 * d2 - 1.0, 2);
}

TEST(Fsr1Easu, WithoutLumaEdgesMatchesHandComputedTwelveTapAverage) {
  // x2: output pixel 5 samples input position (5 + 0.5) / 2 - 0.5 = 2.25, so 'f' = 2 and the
  // fraction is 0.25 on both axes for output (5, 5). Tap offsets from the sample (tap - 0.25):
  // b (0,-1) d2 = 1.625, c (1,-1) 2.125, e (-1,0) 1.625, f (0,0) 0.125, g (1,0) 0.625,
  // h (2,0) 3.125, i (-1,1) 2.125, j (0,1) 0.625, k (1,1) 1.125, l (2,1) 3.625, n (0,2) 3.125,
  // o (1,2) 3.625. E.g. w(0.125) = (25/16 * 0.95^2 - 9/16) * 0.9375^2 = 0.84765625 * 0.87890625.
  const Tensor input = constant_luma(6, 6, 3);
  const Tensor out = fsr1_easu(input, 12, 12);
  struct Tap {
    int dx, dy;
  };
  const std::array<Tap, 12> taps = {{{0, -1},
                                     {1, -1},
                                     {-1, 0},
                                     {0, 0},
                                     {1, 0},
                                     {2, 0},
                                     {-1, 1},
                                     {0, 1},
                                     {1, 1},
                                     {2, 1},
                                     {0, 2},
                                     {1, 2}}};
  EXPECT_NEAR(isotropic_weight(0.125), 0.84765625 * 0.87890625, 1e-12);
  for (int c = 0; c < 3; ++c) {
    double sum = 0.0, weights = 0.0;
    for (const Tap& tap : taps) {
      const double d2 = std::pow(tap.dx - 0.25, 2) + std::pow(tap.dy - 0.25, 2);
      const double w = isotropic_weight(d2);
      sum += w * input.at(c, 2 + tap.dy, 2 + tap.dx);
      weights += w;
    }
    // Dering: within the four nearest input pixels f, g, j, k.
    const std::array<float, 4> nearest = {input.at(c, 2, 2), input.at(c, 2, 3), input.at(c, 3, 2),
                                          input.at(c, 3, 3)};
    const double want = std::clamp(
        sum / weights, static_cast<double>(*std::min_element(nearest.begin(), nearest.end())),
        static_cast<double>(*std::max_element(nearest.begin(), nearest.end())));
    EXPECT_NEAR(out.at(c, 5, 5), want, 1e-6) << "channel " << c;
  }
}

TEST(Fsr1Easu, StepEdgeStaysMonotoneAndInRange) {
  // A vertical step (dark | bright) and one on a slanted line, in every channel.
  for (bool slanted : {false, true}) {
    Tensor step(3, 12, 16);
    for (int y = 0; y < 12; ++y) {
      for (int x = 0; x < 16; ++x) {
        const bool bright = slanted ? 2 * x > y + 10 : x >= 8;
        for (int c = 0; c < 3; ++c) step.at(c, y, x) = bright ? 0.8f : 0.2f;
      }
    }
    for (double scale : {1.5, 2.0, 3.0, 4.0}) {
      SCOPED_TRACE(std::string(slanted ? "slanted" : "vertical") + " x" + std::to_string(scale));
      const Tensor out =
          fsr1_easu(step, fsr1_output_length(16, scale), fsr1_output_length(12, scale));
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < out.height; ++y) {
          for (int x = 0; x < out.width; ++x) {
            ASSERT_GE(out.at(c, y, x), 0.2f);
            ASSERT_LE(out.at(c, y, x), 0.8f);
            if (x > 0) {
              ASSERT_GE(out.at(c, y, x), out.at(c, y, x - 1)) << "row " << y << " x " << x;
            }
          }
        }
      }
    }
  }
}

TEST(Fsr1Easu, StaysWithinTheInputRangeOnNoise) {
  const Tensor input = random_rgb(13, 11, 4);
  const Tensor out = fsr1_easu(input, 26, 22);
  for (float v : out.data) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
}

TEST(Fsr1Rcas, NoContrastIsIdentity) {
  for (float value : {0.0f, 0.25f, 0.6f, 1.0f}) {
    const Tensor flat(3, 4, 5, value);
    for (double sharpness : {0.0, 0.25, 2.0}) {
      const Tensor out = fsr1_rcas(flat, sharpness);
      for (float v : out.data) ASSERT_EQ(v, value);
    }
  }
}

TEST(Fsr1Rcas, BrightCentreMatchesHandComputedLimit) {
  // Ring 0.25, centre 0.75. Lobe limits: from the ring minimum -min(0.25, 0.75) / (4 * 0.25) =
  // -0.25, from the maximum (1 - 0.75) / (4 * 0.25 - 4) = -1/12; the lobe is the larger, -1/12
  // (within the -3/16 limit), times 2^-S. Output: (lobe * 4 * 0.25 + 0.75) / (4 lobe + 1):
  // S = 0: (0.75 - 1/12) / (2/3) = 1 exactly at the limit; S = 1: (0.75 - 1/24) / (5/6) = 0.85.
  EXPECT_NEAR(fsr1_rcas(gray_cross(0.25f, 0.75f), 0.0).at(0, 1, 1), 1.0, 1e-6);
  EXPECT_NEAR(fsr1_rcas(gray_cross(0.25f, 0.75f), 1.0).at(1, 1, 1), 0.85, 1e-6);
}

TEST(Fsr1Rcas, LobeIsLimitedToThreeSixteenths) {
  // Ring 0.4, centre 0.5: limits -0.4 / 1.6 = -0.25 and 0.5 / (1.6 - 4) = -0.2083; the larger is
  // beyond -3/16, so the lobe is -0.1875: 0.5 + (-0.1875 * 4 * -0.1) / (1 - 0.75) = 0.8.
  EXPECT_NEAR(fsr1_rcas(gray_cross(0.4f, 0.5f), 0.0).at(2, 1, 1), 0.8, 1e-6);
}

TEST(Fsr1Rcas, NeverLeavesTheUnitRange) {
  const Tensor input = random_rgb(17, 9, 5);
  const Tensor out = fsr1_rcas(input, 0.0);
  for (float v : out.data) {
    ASSERT_GE(v, -1e-6f);
    ASSERT_LE(v, 1.0f + 1e-6f);
  }
}

TEST(Fsr1, ThreadCountDoesNotChangeTheResult) {
  const Tensor input = random_rgb(31, 23, 6);
  Fsr1Options one;
  one.threads = 1;
  Fsr1Options four;
  four.threads = 4;
  EXPECT_EQ(fsr1_upscale(input, 1.5, one).data, fsr1_upscale(input, 1.5, four).data);
}

TEST(Fsr1, RejectsBadArguments) {
  const Tensor input = random_rgb(4, 4, 7);
  Fsr1Options negative;
  negative.sharpness = -1.0;
  EXPECT_THROW(fsr1_upscale(input, 2.0, negative), Error);
  EXPECT_THROW(fsr1_upscale(input, 0.0), Error);
  EXPECT_THROW(fsr1_upscale(Tensor(1, 4, 4), 2.0), Error);
  EXPECT_THROW(fsr1_easu(input, 0, 4), Error);
}

}  // namespace
}  // namespace quicksr
