// Pixel formats and the rounding of [0, 1] values to samples, against hand-written values and
// the branching definition (NaN and negatives to 0, 1 and above to the maximum, else
// value * max + 0.5 truncated) that unit_to_sample (common/samples.hpp) computes without branches.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/samples.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "support/reference_sample.hpp"

namespace quicksr {
namespace {

TEST(Quantize, HandPickedValues) {
  EXPECT_EQ(unit_to_sample(0.5f, 255), 128);  // 127.5 rounds up
  EXPECT_EQ(unit_to_sample(1.0f / 255.0f, 255), 1);
  EXPECT_EQ(unit_to_sample(0.998f, 255), 254);  // 254.49
  EXPECT_EQ(unit_to_sample(1.0f, 65535), 65535);
  EXPECT_EQ(unit_to_sample(7.0f, 255), 255);
  EXPECT_EQ(unit_to_sample(-0.25f, 255), 0);
  EXPECT_EQ(unit_to_sample(-0.0f, 65535), 0);
  EXPECT_EQ(unit_to_sample(std::numeric_limits<float>::quiet_NaN(), 255), 0);
  EXPECT_EQ(unit_to_sample(std::numeric_limits<float>::infinity(), 255), 255);
  EXPECT_EQ(unit_to_sample(-std::numeric_limits<float>::infinity(), 65535), 0);
}

// Floats from -0.01 to 1.01, every 997th bit pattern (about two million), for both depths.
TEST(Quantize, EqualsTheBranchingDefinition) {
  for (const int max_value : {255, 65535}) {
    int checked = 0;
    for (float value = -0.01f; value < 1.01f;) {
      ASSERT_EQ(unit_to_sample(value, max_value), test_support::reference_sample(value, max_value))
          << value << " at max " << max_value;
      std::uint32_t bits;
      std::memcpy(&bits, &value, sizeof bits);
      bits = value < 0.0f ? bits - 997 : bits + 997;  // toward zero below 0, away from it above
      std::memcpy(&value, &bits, sizeof value);
      if (value < 0.0f && value > -1e-30f) value = 0.0f;
      ++checked;
    }
    EXPECT_GT(checked, 1000000);
  }
}

TEST(PixelLayout, FormatsAsDocumented) {
  const PixelLayout bgra = pixel_layout(PixelFormat::kBgra8);
  EXPECT_EQ(bgra.pixel_bytes(), 4u);
  EXPECT_EQ(bgra.offset(0), 2u);  // red third
  EXPECT_EQ(bgra.offset(2), 0u);  // blue first
  EXPECT_EQ(bgra.offset(3), 3u);  // alpha last
  const PixelLayout rgb16 = pixel_layout(PixelFormat::kRgb16);
  EXPECT_EQ(rgb16.pixel_bytes(), 6u);
  EXPECT_EQ(rgb16.offset(1), 2u);
  EXPECT_EQ(rgb16.max_value(), 65535);
  EXPECT_EQ(pixel_layout(PixelFormat::kRgba16).pixel_bytes(), 8u);
  EXPECT_EQ(pixel_layout(PixelFormat::kBgr8).offset(0), 2u);
  EXPECT_EQ(pixel_layout(PixelFormat::kRgba8).offset(3), 3u);
  EXPECT_THROW(pixel_layout(static_cast<PixelFormat>(17)), Error);
}

}  // namespace
}  // namespace quicksr
