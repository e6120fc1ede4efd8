// JPEG reading and writing, checked against libjpeg used directly and hand-built EXIF data.
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "image/reference_codecs.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

namespace quicksr {
namespace {

using test::exif_app1;
using test::RawJpeg;
using test::TempDir;

RawJpeg raw_jpeg(int width, int height, int components) {
  RawJpeg raw;
  raw.width = width;
  raw.height = height;
  raw.components = components;
  return raw;
}

WriteOptions quality(int jpeg_quality) {
  WriteOptions options;
  options.quality = jpeg_quality;
  return options;
}

RawJpeg noise_jpeg(int width, int height, int components) {
  RawJpeg raw = raw_jpeg(width, height, components);
  const std::size_t count = static_cast<std::size_t>(width) * height * components;
  for (std::size_t i = 0; i < count; ++i) {
    raw.samples.push_back(static_cast<std::uint8_t>((i * 40503u + 17u) % 256));
  }
  return raw;
}

// A smooth colour gradient: the kind of content JPEG reproduces closely.
Image gradient_image(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float u = static_cast<float>(x) / (width - 1);
      const float v = static_cast<float>(y) / (height - 1);
      image.rgb.insert(image.rgb.end(), {u, v, 0.5f * (1.0f - u) + 0.25f * v});
    }
  }
  return image;
}

float max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

TEST(ImageJpegTest, ReadsColourExactlyAsLibjpegDecodes) {
  TempDir dir;
  test::write_reference_jpeg(dir / "in.jpg", noise_jpeg(37, 23, 3), 85);
  const RawJpeg reference = test::read_reference_jpeg(dir / "in.jpg");
  const Image image = read_image(dir / "in.jpg");
  ASSERT_EQ(image.width, 37);
  ASSERT_EQ(image.height, 23);
  EXPECT_FALSE(image.gray);
  EXPECT_FALSE(image.has_alpha());
  EXPECT_EQ(image.bit_depth, 8);
  ASSERT_EQ(image.rgb.size(), reference.samples.size());
  for (std::size_t i = 0; i < image.rgb.size(); ++i) {
    EXPECT_EQ(image.rgb[i], reference.samples[i] / 255.0f) << "sample " << i;
  }
}

TEST(ImageJpegTest, ReadsGrayJpegAsGray) {
  TempDir dir;
  test::write_reference_jpeg(dir / "gray.jpg", noise_jpeg(20, 9, 1), 90);
  const RawJpeg reference = test::read_reference_jpeg(dir / "gray.jpg");
  ASSERT_EQ(reference.components, 1);
  const Image image = read_image(dir / "gray.jpg");
  EXPECT_TRUE(image.gray);
  ASSERT_EQ(image.rgb.size(), 20u * 9u * 3u);
  for (std::size_t i = 0; i < 20 * 9; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_EQ(image.rgb[i * 3 + c], reference.samples[i] / 255.0f);
  }
}

TEST(ImageJpegTest, ColourRoundTripStaysClose) {
  TempDir dir;
  const Image image = gradient_image(64, 48);
  write_image(image, dir / "out.jpg", quality(95));
  EXPECT_EQ(test::read_reference_jpeg(dir / "out.jpg").components, 3);
  const Image back = read_image(dir / "out.jpg");
  ASSERT_EQ(back.width, 64);
  ASSERT_EQ(back.height, 48);
  EXPECT_FALSE(back.gray);
  // Quality 95 with 4:2:0 chroma on a smooth gradient: a few levels out of 255 at most.
  EXPECT_LT(max_abs_difference(back.rgb, image.rgb), 6.0f / 255.0f);
}

TEST(ImageJpegTest, GrayImageIsWrittenAsOneComponent) {
  TempDir dir;
  Image image = gradient_image(32, 16);
  image.gray = true;
  for (std::size_t i = 0; i < image.rgb.size(); i += 3)
    image.rgb[i + 1] = image.rgb[i + 2] = image.rgb[i];
  write_image(image, dir / "gray.jpeg");
  const RawJpeg reference = test::read_reference_jpeg(dir / "gray.jpeg");
  EXPECT_EQ(reference.components, 1);
  const Image back = read_image(dir / "gray.jpeg");
  EXPECT_TRUE(back.gray);
  EXPECT_LT(max_abs_difference(back.rgb, image.rgb), 3.0f / 255.0f);
}

TEST(ImageJpegTest, QualityChangesFileSize) {
  TempDir dir;
  const Image image = read_image([&] {
    test::write_reference_jpeg(dir / "noise.jpg", noise_jpeg(64, 64, 3), 100);
    return dir / "noise.jpg";
  }());
  write_image(image, dir / "q10.jpg", quality(10));
  write_image(image, dir / "q50.jpg", quality(50));
  write_image(image, dir / "q100.jpg", quality(100));
  const auto q10 = std::filesystem::file_size(dir / "q10.jpg");
  const auto q50 = std::filesystem::file_size(dir / "q50.jpg");
  const auto q100 = std::filesystem::file_size(dir / "q100.jpg");
  EXPECT_LT(q10, q50);
  EXPECT_LT(q50, q100);
}

TEST(ImageJpegTest, AlphaIsDroppedSilently) {
  TempDir dir;
  Image image = gradient_image(16, 16);
  image.alpha.assign(16 * 16, 0.5f);
  write_image(image, dir / "alpha.jpg");
  const Image back = read_image(dir / "alpha.jpg");
  EXPECT_FALSE(back.has_alpha());
  EXPECT_EQ(test::read_reference_jpeg(dir / "alpha.jpg").components, 3);
}

TEST(ImageJpegTest, QualityOutsideOneToHundredIsRejected) {
  TempDir dir;
  const Image image = gradient_image(8, 8);
  EXPECT_THROW(write_image(image, dir / "q0.jpg", quality(0)), Error);
  EXPECT_THROW(write_image(image, dir / "q101.jpg", quality(101)), Error);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ImageJpegTest, CmykIsRejectedWithClearError) {
  TempDir dir;
  test::write_reference_jpeg(dir / "cmyk.jpg", noise_jpeg(16, 16, 4), 90);
  try {
    read_image(dir / "cmyk.jpg");
    FAIL() << "CMYK JPEG was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CMYK"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cmyk.jpg"), std::string::npos) << e.what();
  }
}

struct Colour {
  float r, g, b;
};
constexpr Colour kRed{1, 0, 0}, kGreen{0, 1, 0}, kBlue{0, 0, 1}, kWhite{1, 1, 1};

// Stored 64x32 with quadrants red | green over blue | white (each quadrant whole 16x16 MCUs).
RawJpeg quadrant_jpeg() {
  RawJpeg raw = raw_jpeg(64, 32, 3);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 64; ++x) {
      const Colour c = y < 16 ? (x < 32 ? kRed : kGreen) : (x < 32 ? kBlue : kWhite);
      for (float v : {c.r, c.g, c.b}) raw.samples.push_back(static_cast<std::uint8_t>(v * 255));
    }
  }
  return raw;
}

struct OrientationCase {
  int orientation;
  // Displayed quadrants, worked out by hand from the EXIF 2.3 definition of each value
  // ("row 0 is the visual ..., column 0 is the visual ...").
  Colour top_left, top_right, bottom_left, bottom_right;
};

class ImageExifOrientationTest : public ::testing::TestWithParam<OrientationCase> {};

TEST_P(ImageExifOrientationTest, DisplaysQuadrantsWhereExifSays) {
  const OrientationCase& expected = GetParam();
  TempDir dir;
  // Alternate the TIFF byte order so both are exercised.
  test::write_reference_jpeg(dir / "photo.jpg", quadrant_jpeg(), 95,
                             exif_app1(expected.orientation, expected.orientation % 2 == 0));
  const Image image = read_image(dir / "photo.jpg");
  const bool swapped = expected.orientation >= 5;
  ASSERT_EQ(image.width, swapped ? 32 : 64);
  ASSERT_EQ(image.height, swapped ? 64 : 32);
  const auto check = [&](const char* where, int x, int y, Colour want) {
    const float* px = image.rgb.data() + (static_cast<std::size_t>(y) * image.width + x) * 3;
    EXPECT_NEAR(px[0], want.r, 0.1) << where;
    EXPECT_NEAR(px[1], want.g, 0.1) << where;
    EXPECT_NEAR(px[2], want.b, 0.1) << where;
  };
  const int w = image.width, h = image.height;
  check("top left", w / 4, h / 4, expected.top_left);
  check("top right", 3 * w / 4, h / 4, expected.top_right);
  check("bottom left", w / 4, 3 * h / 4, expected.bottom_left);
  check("bottom right", 3 * w / 4, 3 * h / 4, expected.bottom_right);
}

INSTANTIATE_TEST_SUITE_P(AllEight, ImageExifOrientationTest,
                         ::testing::Values(OrientationCase{1, kRed, kGreen, kBlue, kWhite},
                                           OrientationCase{2, kGreen, kRed, kWhite, kBlue},
                                           OrientationCase{3, kWhite, kBlue, kGreen, kRed},
                                           OrientationCase{4, kBlue, kWhite, kRed, kGreen},
                                           OrientationCase{5, kRed, kBlue, kGreen, kWhite},
                                           OrientationCase{6, kBlue, kRed, kWhite, kGreen},
                                           OrientationCase{7, kWhite, kGreen, kBlue, kRed},
                                           OrientationCase{8, kGreen, kWhite, kRed, kBlue}));

TEST(ImageJpegTest, App1WithoutExifOrientationLeavesImageAsStored) {
  TempDir dir;
  const std::string xmp = "http://ns.adobe.com/xap/1.0/";
  std::vector<unsigned char> app1(xmp.begin(), xmp.end());
  app1.push_back(0);
  test::write_reference_jpeg(dir / "xmp.jpg", quadrant_jpeg(), 95, app1);
  EXPECT_EQ(read_image(dir / "xmp.jpg").width, 64);

  std::vector<unsigned char> out_of_range = exif_app1(9, false);
  test::write_reference_jpeg(dir / "nine.jpg", quadrant_jpeg(), 95, out_of_range);
  const Image image = read_image(dir / "nine.jpg");
  EXPECT_EQ(image.width, 64);
  EXPECT_NEAR(image.rgb[(8 * 64 + 8) * 3], 1.0f, 0.1f);  // red still top left
}

}  // namespace
}  // namespace quicksr
