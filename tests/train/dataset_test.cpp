// Training pairs and patches: hand-computed transforms, alignment of LR and HR patches checked on a
// ramp image (bicubic reproduces linear functions), skipping and counting of unusable files.
#include "train/dataset.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "support/temp_dir.hpp"

namespace quicksr::train {
namespace {

using test_support::TempDir;

// value = (x + 2y) / (width + 2 height): linear, so a bicubic downscale keeps it linear inside.
Image ramp(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.bit_depth = 16;
  image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float v = static_cast<float>(x + 2 * y) / static_cast<float>(width + 2 * height);
      for (int c = 0; c < 3; ++c) image.rgb[(static_cast<std::size_t>(y) * width + x) * 3 + c] = v;
    }
  }
  return image;
}

TEST(CopyTransformedPatch, AppliesTheEightSymmetriesOfTheSquare) {
  Tensor source(1, 3, 4);  // values 10*y + x
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 4; ++x) source.at(0, y, x) = static_cast<float>(10 * y + x);
  }
  // The 2x2 window at (x=1, y=1) is [[11, 12], [21, 22]].
  const std::vector<std::vector<float>> expected = {
      {11, 12, 21, 22},  // identity
      {12, 11, 22, 21},  // flip x
      {21, 22, 11, 12},  // flip y
      {22, 21, 12, 11},  // both (180 degrees)
      {11, 21, 12, 22},  // transpose
      {12, 22, 11, 21},  // transpose, mirror source x: 90 degrees counter-clockwise
      {21, 11, 22, 12},  // transpose, mirror source y: 90 degrees clockwise
      {22, 12, 21, 11},  // anti-transpose
  };
  for (int t = 0; t < 8; ++t) {
    std::vector<float> out(4);
    copy_transformed_patch(source, 1, 1, 2, t, out.data());
    EXPECT_EQ(out, expected[t]) << "transform " << t;
  }
}

double mean(const std::vector<float>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

constexpr double kTruncationBias = 0.5 / 255;

void expect_aligned_patches(Scale scale, int lr_patch) {
  TempDir dir;
  write_image(ramp(150, 120), dir.path() / "ramp.png");
  std::ostringstream log;
  const TrainingSet set({dir.path()}, scale, lr_patch, log);
  ASSERT_EQ(set.summary().loaded, 1);
  const int hr_patch = set.hr_patch();
  EXPECT_EQ(hr_patch * scale.denominator, lr_patch * scale.numerator);
  std::vector<float> lr(3 * lr_patch * lr_patch), hr(3 * hr_patch * hr_patch);
  for (int i = 0; i < 40; ++i) {
    set.sample(9, 3, i, lr.data(), hr.data());
    // A one-pixel HR misalignment moves the mean by >= 1/390. The LR is truncated to 8 bits
    // (lowering it by 0.5/255 on average) and the mirrored borders bend the ramp at the edges.
    EXPECT_NEAR(mean(lr) + kTruncationBias, mean(hr), 1.0 / 800) << "sample " << i;
  }
}

TEST(TrainingSet, LrAndHrPatchesShowTheSameContentX2) { expect_aligned_patches(Scale{2, 1}, 8); }
TEST(TrainingSet, LrAndHrPatchesShowTheSameContentX3) { expect_aligned_patches(Scale{3, 1}, 6); }
TEST(TrainingSet, LrAndHrPatchesShowTheSameContentX1_5) { expect_aligned_patches(Scale{3, 2}, 8); }

// 8-bit noise: exact levels survive the LR's 8-bit truncation, and no two pixels are alike.
Image noise(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  std::uint32_t state = 12345;
  for (int i = 0; i < width * height * 3; ++i) {
    state = state * 1664525u + 1013904223u;
    image.rgb.push_back(static_cast<float>(state >> 24) / 255.0f);
  }
  return image;
}

// How many LR pixels of 30 sampled x2 patches are not `lr_of(footprint)`, where the footprint is
// the 2x2 HR block the LR pixel covers (the same block whatever the flip or rotation).
template <typename LrOfFootprint>
int lr_pixels_unlike(Degradation degradation, const LrOfFootprint& lr_of) {
  TempDir dir;
  write_image(noise(48, 40), dir.path() / "noise.png");
  std::ostringstream log;
  const TrainingSet set({dir.path()}, Scale{2, 1}, 6, log, degradation);
  std::vector<float> lr(3 * 6 * 6), hr(3 * 12 * 12);
  int unlike = 0;
  for (int i = 0; i < 30; ++i) {
    set.sample(4, 1, i, lr.data(), hr.data());
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < 6; ++y) {
        for (int x = 0; x < 6; ++x) {
          const auto at = [&](int dy, int dx) {
            return hr[(c * 12 + 2 * y + dy) * 12 + 2 * x + dx];
          };
          const std::array<float, 4> footprint = {at(0, 0), at(0, 1), at(1, 0), at(1, 1)};
          unlike += !lr_of(footprint, lr[(c * 6 + y) * 6 + x]);
        }
      }
    }
  }
  return unlike;
}

TEST(TrainingSet, PointDegradationCopiesOneHrPixelPerLrPixel) {
  const auto one_of = [](const std::array<float, 4>& footprint, float lr) {
    return std::find(footprint.begin(), footprint.end(), lr) != footprint.end();
  };
  EXPECT_EQ(lr_pixels_unlike(Degradation::point, one_of), 0);
  EXPECT_GT(lr_pixels_unlike(Degradation::bicubic, one_of), 1000);  // the check can fail
}

TEST(TrainingSet, AreaDegradationAveragesTheFootprint) {
  // The mean, truncated to 8 bits like every LR (with the protocol's 1e-3 level of slack).
  const auto mean_of = [](const std::array<float, 4>& footprint, float lr) {
    const double mean = (footprint[0] + footprint[1] + footprint[2] + footprint[3]) / 4.0;
    return std::abs(std::floor(255 * mean + 1e-3) / 255 - lr) < 1e-6;
  };
  EXPECT_EQ(lr_pixels_unlike(Degradation::area, mean_of), 0);
  EXPECT_GT(lr_pixels_unlike(Degradation::point, mean_of), 1000);
}

TEST(TrainingSet, SamplesAreAFunctionOfSeedIterationAndIndex) {
  TempDir dir;
  write_image(ramp(64, 64), dir.path() / "a.png");
  write_image(ramp(80, 48), dir.path() / "b.png");
  std::ostringstream log;
  const TrainingSet set({dir.path()}, Scale{2, 1}, 6, log);
  std::vector<float> lr1(108), hr1(432), lr2(108), hr2(432);
  set.sample(1, 5, 2, lr1.data(), hr1.data());
  set.sample(1, 5, 2, lr2.data(), hr2.data());
  EXPECT_EQ(lr1, lr2);
  EXPECT_EQ(hr1, hr2);
  int different = 0;
  for (int index = 0; index < 8; ++index) {
    set.sample(1, 6, index, lr2.data(), hr2.data());
    different += hr1 != hr2;
  }
  EXPECT_GE(different, 7);  // ramps repeat values, but not whole patches at random offsets
}

TEST(TrainingSet, SkipsAndCountsUnreadableAndTooSmallFiles) {
  TempDir dir;
  write_image(ramp(40, 40), dir.path() / "big.png");
  write_image(ramp(10, 30), dir.path() / "narrow.png");
  std::ofstream(dir.path() / "notes.txt") << "not an image";
  std::ostringstream log;
  const TrainingSet set({dir.path()}, Scale{2, 1}, 8, log);
  EXPECT_EQ(set.summary().loaded, 1);
  EXPECT_EQ(set.summary().unreadable, 1);
  EXPECT_EQ(set.summary().too_small, 1);
  EXPECT_NE(log.str().find("notes.txt"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("narrow.png"), std::string::npos) << log.str();
}

TEST(TrainingSet, ScaleAugmentationAddsDownscaledCopiesThatFitThePatch) {
  TempDir dir;
  write_image(ramp(40, 40), dir.path() / "ramp.png");
  std::ostringstream log;
  // x2, LR patch 8: the 0.5 copy (20x20, LR 10x10) fits, the 0.25 copy (LR 5x5) does not.
  const TrainingSet set({dir.path()}, Scale{2, 1}, 8, log, Degradation::bicubic, {0.5, 0.25});
  EXPECT_EQ(set.summary().loaded, 1);
  EXPECT_EQ(set.summary().scaled_copies, 1);
  ASSERT_EQ(set.pairs().size(), 2u);
  const TrainingPair& copy = set.pairs()[1];
  ASSERT_EQ(copy.hr.width, 20);
  ASSERT_EQ(copy.hr.height, 20);
  EXPECT_EQ(copy.lr.width, 10);
  // Bicubic keeps a linear ramp linear away from the borders: copy pixel (x, y) covers source
  // pixels 2x..2x+1, 2y..2y+1, whose centre is at (2x + 0.5, 2y + 0.5); 8-bit rounding on top.
  const Tensor& source = set.pairs()[0].hr;
  for (int y = 4; y < 16; ++y) {
    for (int x = 4; x < 16; ++x) {
      const float expected = (2 * x + 0.5f + 2 * (2 * y + 0.5f)) / 120.0f;
      EXPECT_NEAR(copy.hr.at(1, y, x), expected, 0.5f / 255 + 1e-5f) << x << "," << y;
    }
  }
  EXPECT_NEAR(source.at(0, 3, 5), (5 + 2 * 3) / 120.0f, 1e-4f);  // the original is untouched
}

TEST(TrainingSet, RejectsAnEmptyOrMissingFolder) {
  TempDir dir;
  std::ostringstream log;
  EXPECT_THROW(TrainingSet({dir.path()}, Scale{2, 1}, 8, log), Error);
  EXPECT_THROW(TrainingSet({dir.path() / "missing"}, Scale{2, 1}, 8, log), Error);
}

}  // namespace
}  // namespace quicksr::train
