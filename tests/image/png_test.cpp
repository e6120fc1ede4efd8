// PNG reading and writing, checked against files written and decoded by libpng directly.
#include <png.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <tuple>

#include "gtest/gtest.h"
#include "image/reference_codecs.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

namespace quicksr {
namespace {

using test::channels_of;
using test::RawPng;
using test::TempDir;

RawPng raw_png(int width, int height, int color_type, int bit_depth) {
  RawPng raw;
  raw.width = width;
  raw.height = height;
  raw.color_type = color_type;
  raw.bit_depth = bit_depth;
  return raw;
}

// Distinct, non-monotonic sample values that cover the whole range of the bit depth.
RawPng pattern_png(int width, int height, int color_type, int bit_depth, bool interlaced) {
  RawPng raw = raw_png(width, height, color_type, bit_depth);
  raw.interlaced = interlaced;
  const std::uint32_t levels = 1u << bit_depth;
  const std::size_t count = static_cast<std::size_t>(width) * height * channels_of(color_type);
  for (std::size_t i = 0; i < count; ++i) {
    raw.samples.push_back(static_cast<std::uint16_t>((i * 40503u + 17u) % levels));
  }
  return raw;
}

class ImagePngLayoutTest : public ::testing::TestWithParam<std::tuple<int, int, bool>> {};

TEST_P(ImagePngLayoutTest, ReadsFileWrittenByLibpngExactly) {
  const auto [color_type, bit_depth, interlaced] = GetParam();
  TempDir dir;
  const RawPng raw = pattern_png(13, 7, color_type, bit_depth, interlaced);
  test::write_reference_png(dir / "in.png", raw);

  const Image image = read_image(dir / "in.png");
  const int channels = channels_of(color_type);
  const bool gray = channels <= 2;
  const bool alpha = channels == 2 || channels == 4;
  const float max_value = static_cast<float>((1 << bit_depth) - 1);
  ASSERT_EQ(image.width, 13);
  ASSERT_EQ(image.height, 7);
  EXPECT_EQ(image.gray, gray);
  EXPECT_EQ(image.has_alpha(), alpha);
  EXPECT_EQ(image.bit_depth, bit_depth);
  ASSERT_EQ(image.rgb.size(), 13u * 7u * 3u);
  for (std::size_t i = 0; i < 13 * 7; ++i) {
    const std::uint16_t* px = raw.samples.data() + i * channels;
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(image.rgb[i * 3 + c], px[gray ? 0 : c] / max_value) << "pixel " << i;
    }
    if (alpha) {
      EXPECT_EQ(image.alpha[i], px[channels - 1] / max_value) << "pixel " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllLayouts, ImagePngLayoutTest,
    ::testing::Combine(::testing::Values(PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                         PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA),
                       ::testing::Values(8, 16), ::testing::Bool()));

// quicksr writes non-interlaced files only.
class ImagePngWriteLayoutTest : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(ImagePngWriteLayoutTest, WritesLayoutThatLibpngDecodesExactly) {
  const auto [color_type, bit_depth] = GetParam();
  TempDir dir;
  const RawPng raw = pattern_png(11, 5, color_type, bit_depth, false);
  test::write_reference_png(dir / "in.png", raw);
  const Image image = read_image(dir / "in.png");

  write_image(image, dir / "out.png");
  const RawPng written = test::read_reference_png(dir / "out.png");
  EXPECT_EQ(written.width, 11);
  EXPECT_EQ(written.height, 5);
  EXPECT_EQ(written.color_type, color_type);
  EXPECT_EQ(written.bit_depth, bit_depth);
  EXPECT_FALSE(written.interlaced);
  EXPECT_EQ(written.samples, raw.samples);
}

INSTANTIATE_TEST_SUITE_P(
    AllLayouts, ImagePngWriteLayoutTest,
    ::testing::Combine(::testing::Values(PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                         PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA),
                       ::testing::Values(8, 16)));

WriteOptions depth(int bit_depth) {
  WriteOptions options;
  options.bit_depth = bit_depth;
  return options;
}

Image image_with(int width, int height, bool gray, bool alpha, int bit_depth) {
  Image image;
  image.width = width;
  image.height = height;
  image.gray = gray;
  image.bit_depth = bit_depth;
  const std::size_t pixels = static_cast<std::size_t>(width) * height;
  image.rgb.resize(pixels * 3);
  if (alpha) image.alpha.resize(pixels);
  return image;
}

TEST(ImagePngTest, SixteenBitLevelsSurviveRoundTripExactly) {
  TempDir dir;
  // Every 16-bit level k/65535 once: 256 x 256 pixels, gray with alpha running backwards.
  Image image = image_with(256, 256, true, true, 16);
  for (std::size_t k = 0; k < 65536; ++k) {
    const float v = static_cast<float>(k) / 65535.0f;
    image.rgb[k * 3] = image.rgb[k * 3 + 1] = image.rgb[k * 3 + 2] = v;
    image.alpha[k] = static_cast<float>(65535 - k) / 65535.0f;
  }
  write_image(image, dir / "levels.png");
  const Image back = read_image(dir / "levels.png");
  EXPECT_EQ(back.bit_depth, 16);
  EXPECT_TRUE(back.gray);
  EXPECT_EQ(back.rgb, image.rgb);
  EXPECT_EQ(back.alpha, image.alpha);
}

TEST(ImagePngTest, EightBitRgbaRoundTripIsExact) {
  TempDir dir;
  Image image = image_with(64, 64, false, true, 8);
  for (std::size_t i = 0; i < image.rgb.size(); ++i) {
    image.rgb[i] = static_cast<float>((i * 7) % 256) / 255.0f;
  }
  for (std::size_t i = 0; i < image.alpha.size(); ++i) {
    image.alpha[i] = static_cast<float>((i * 3) % 256) / 255.0f;
  }
  write_image(image, dir / "rgba.png");
  const Image back = read_image(dir / "rgba.png");
  EXPECT_EQ(back.rgb, image.rgb);
  EXPECT_EQ(back.alpha, image.alpha);
  EXPECT_FALSE(back.gray);
}

TEST(ImagePngTest, QuantisesWithRoundingAndClamping) {
  TempDir dir;
  Image image = image_with(7, 1, false, false, 8);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 0.5 * 255 = 127.5 rounds up; 10.4 / 255 and 10.6 / 255 round to 10 and 11.
  const float values[7] = {-0.25f, 0.0f, 0.5f, 10.4f / 255.0f, 10.6f / 255.0f, 1.0f, 3.0f};
  for (int x = 0; x < 7; ++x) {
    for (int c = 0; c < 3; ++c) image.rgb[x * 3 + c] = c == 2 ? nan : values[x];
  }
  write_image(image, dir / "q.png");
  const RawPng written = test::read_reference_png(dir / "q.png");
  const std::uint16_t expected[7] = {0, 0, 128, 10, 11, 255, 255};
  for (int x = 0; x < 7; ++x) {
    EXPECT_EQ(written.samples[x * 3], expected[x]) << "x = " << x;
    EXPECT_EQ(written.samples[x * 3 + 2], 0) << "NaN at x = " << x;
  }
}

TEST(ImagePngTest, BitDepthOptionOverridesTheImage) {
  TempDir dir;
  Image image = image_with(2, 1, false, false, 8);
  image.rgb = {0.0f, 0.5f, 1.0f, 0.25f, 0.75f, 1.0f / 65535.0f};
  write_image(image, dir / "deep.png", depth(16));
  const RawPng deep = test::read_reference_png(dir / "deep.png");
  EXPECT_EQ(deep.bit_depth, 16);
  // 0.5 * 65535 = 32767.5 -> 32768; 0.25 * 65535 = 16383.75 -> 16384; 0.75 -> 49151.25 -> 49151.
  EXPECT_EQ(deep.samples, (std::vector<std::uint16_t>{0, 32768, 65535, 16384, 49151, 1}));

  image.bit_depth = 16;
  write_image(image, dir / "shallow.png", depth(8));
  EXPECT_EQ(test::read_reference_png(dir / "shallow.png").bit_depth, 8);
  EXPECT_EQ(test::read_reference_png(dir / "shallow.png").samples,
            (std::vector<std::uint16_t>{0, 128, 255, 64, 191, 0}));

  EXPECT_THROW(write_image(image, dir / "bad.png", depth(12)), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.png"));
}

TEST(ImagePngTest, GrayImageIsWrittenAsOneChannelMean) {
  TempDir dir;
  Image image = image_with(1, 1, true, false, 8);
  image.rgb = {0.2f, 0.4f, 0.6f};  // drifted away from R = G = B: the mean 0.4 is kept
  write_image(image, dir / "gray.png");
  const RawPng written = test::read_reference_png(dir / "gray.png");
  EXPECT_EQ(written.color_type, PNG_COLOR_TYPE_GRAY);
  EXPECT_EQ(written.samples, std::vector<std::uint16_t>{102});  // 0.4 * 255 = 102
}

TEST(ImagePngTest, PaletteWithTransparencyExpandsToRgba) {
  TempDir dir;
  RawPng raw = raw_png(3, 2, PNG_COLOR_TYPE_PALETTE, 2);
  raw.palette = {255, 0, 0, 0, 128, 0, 0, 0, 255, 10, 20, 30};
  raw.palette_alpha = {0, 100};  // entries 2 and 3 are opaque
  raw.samples = {0, 1, 2, 3, 2, 1};
  raw.interlaced = true;
  test::write_reference_png(dir / "palette.png", raw);

  const Image image = read_image(dir / "palette.png");
  ASSERT_EQ(image.width, 3);
  ASSERT_EQ(image.height, 2);
  EXPECT_FALSE(image.gray);
  EXPECT_EQ(image.bit_depth, 8);
  const std::vector<float> expected_rgb = {1, 0, 0, 0,          128 / 255.f, 0,
                                           0, 0, 1, 10 / 255.f, 20 / 255.f,  30 / 255.f,
                                           0, 0, 1, 0,          128 / 255.f, 0};
  EXPECT_EQ(image.rgb, expected_rgb);
  EXPECT_EQ(image.alpha, (std::vector<float>{0, 100 / 255.f, 1, 1, 1, 100 / 255.f}));
}

TEST(ImagePngTest, LowBitDepthGrayExpandsToFullRange) {
  TempDir dir;
  RawPng raw = raw_png(9, 1, PNG_COLOR_TYPE_GRAY, 1);
  raw.samples = {0, 1, 1, 0, 1, 0, 0, 1, 1};
  test::write_reference_png(dir / "bits.png", raw);
  const Image image = read_image(dir / "bits.png");
  EXPECT_TRUE(image.gray);
  EXPECT_EQ(image.bit_depth, 8);
  for (int x = 0; x < 9; ++x) EXPECT_EQ(image.rgb[x * 3 + 1], raw.samples[x] ? 1.0f : 0.0f);
}

TEST(ImagePngTest, FormatComesFromSignatureNotExtension) {
  TempDir dir;
  test::write_reference_png(dir / "looks.jpg", pattern_png(4, 3, PNG_COLOR_TYPE_RGB, 8, false));
  const Image image = read_image(dir / "looks.jpg");
  EXPECT_EQ(image.width, 4);
  EXPECT_EQ(image.height, 3);
}

// CRC-32 of PNG chunks (ISO 3309, as zlib's crc32), bit by bit.
std::uint32_t chunk_crc(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string big_endian(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

// An APNG is a PNG with an acTL chunk before its image data; libpng alone would return its first
// frame, so the reader refuses it and names `quicksr video`. The same file without acTL reads.
TEST(ImagePngTest, AnimatedPngIsRefusedNamingTheVideoCommand) {
  TempDir dir;
  test::write_reference_png(dir / "still.png", pattern_png(4, 3, PNG_COLOR_TYPE_RGB, 8, false));
  std::ifstream in(dir / "still.png", std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string type_and_data = "acTL" + big_endian(2) + big_endian(0);  // 2 frames, loop
  const std::string chunk = big_endian(8) + type_and_data + big_endian(chunk_crc(type_and_data));
  const std::size_t after_ihdr = 8 + 4 + 4 + 13 + 4;  // signature, length, type, data, CRC
  std::ofstream(dir / "animated.png", std::ios::binary)
      << png.substr(0, after_ihdr) + chunk + png.substr(after_ihdr);
  EXPECT_EQ(read_image(dir / "still.png").width, 4);
  try {
    read_image(dir / "animated.png");
    ADD_FAILURE() << "an APNG was read as a still image";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("animated.png: animated PNG (APNG) images are not "
                                         "supported (`quicksr video`"),
              std::string::npos)
        << e.what();
  }
}

TEST(ImagePngTest, GifIsRefusedNamingTheVideoCommand) {
  TempDir dir;
  std::ofstream(dir / "clip.gif", std::ios::binary) << "GIF89a" << std::string(20, '\0');
  try {
    read_image(dir / "clip.gif");
    ADD_FAILURE() << "a GIF was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("clip.gif: GIF images are not supported"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("`quicksr video`"), std::string::npos) << e.what();
  }
}

TEST(ImagePngTest, PixelLimitIsInclusive) {
  TempDir dir;
  test::write_reference_png(dir / "in.png", pattern_png(8, 4, PNG_COLOR_TYPE_RGB, 8, false));
  EXPECT_EQ(read_image(dir / "in.png", {.max_pixels = 32}).width, 8);
  EXPECT_THROW(read_image(dir / "in.png", {.max_pixels = 31}), Error);
}

}  // namespace
}  // namespace quicksr
