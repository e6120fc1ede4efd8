// quicksr's own BMP decoder against OpenCV imgcodecs (an independent decoder) on every layout the
// format allows: palettes of 1/4/8 bits, RLE4/RLE8, 24 and 32 bits, core and V5 headers, and the
// shared training images. 16-bit and alpha bit fields, where OpenCV differs by design (it shifts
// 5-bit values instead of scaling them, and drops alpha), are checked against hand-computed values.
#include <cmath>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "image/reference_codecs.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

namespace quicksr {
namespace {

using test::little_endian;
using test::TempDir;

struct BmpLayout {
  int header_size = 40;  // 12 (core), 40 (info), 124 (V5)
  int width = 5;
  int height = 3;
  int bits = 24;
  int compression = 0;
  std::vector<std::uint8_t> palette;  // B, G, R per entry
  std::vector<std::uint32_t> masks;   // written after a 40-byte header for compression 3
};

// A BMP file around `data` (the pixel array exactly as stored).
std::string make_bmp(const BmpLayout& layout, const std::string& data) {
  const bool core = layout.header_size == 12;
  std::string palette;
  for (std::size_t i = 0; i < layout.palette.size(); i += 3) {
    palette.append(reinterpret_cast<const char*>(&layout.palette[i]), 3);
    if (!core) palette += '\0';
  }
  std::string header = little_endian(layout.header_size, 4);
  if (core) {
    header += little_endian(layout.width, 2) + little_endian(layout.height, 2) +
              little_endian(1, 2) + little_endian(layout.bits, 2);
  } else {
    header += little_endian(layout.width, 4) + little_endian(layout.height, 4) +
              little_endian(1, 2) + little_endian(layout.bits, 2) +
              little_endian(layout.compression, 4) + little_endian(data.size(), 4) +
              little_endian(2835, 4) + little_endian(2835, 4) +
              little_endian(layout.palette.size() / 3, 4) + little_endian(0, 4);
    for (std::uint32_t mask : layout.masks) header += little_endian(mask, 4);
    header.resize(std::max<std::size_t>(header.size(), layout.header_size), '\0');
  }
  const std::size_t offset = 14 + header.size() + palette.size();
  return "BM" + little_endian(offset + data.size(), 4) + little_endian(0, 4) +
         little_endian(offset, 4) + header + palette + data;
}

std::string random_bytes(std::size_t size, std::mt19937& rng, int max = 255) {
  std::string bytes(size, '\0');
  for (char& b : bytes) b = static_cast<char>(rng() % (max + 1));
  return bytes;
}

std::vector<std::uint8_t> random_palette(int colors, std::mt19937& rng) {
  std::vector<std::uint8_t> palette(colors * 3);
  for (auto& v : palette) v = static_cast<std::uint8_t>(rng());
  return palette;
}

// Our decoding of `file` equals OpenCV's, pixel by pixel (8-bit values).
void expect_matches_opencv(const std::string& file, const std::string& what) {
  TempDir dir;
  test::write_bytes(dir / "a.bmp", file);
  const Image image = read_image(dir / "a.bmp");
  const cv::Mat expected =
      cv::imdecode(std::vector<unsigned char>(file.begin(), file.end()), cv::IMREAD_COLOR);
  ASSERT_FALSE(expected.empty()) << what;
  ASSERT_EQ(image.width, expected.cols) << what;
  ASSERT_EQ(image.height, expected.rows) << what;
  int mismatches = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const cv::Vec3b bgr = expected.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) {
        const float value = image.rgb[(static_cast<std::size_t>(y) * image.width + x) * 3 + c];
        mismatches += std::lround(value * 255.0f) != bgr[2 - c];
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << what;
}

TEST(BmpOpenCvTest, PalettesOfEveryDepthAndWidth) {
  std::mt19937 rng(1);
  for (int bits : {1, 4, 8}) {
    for (int width : {1, 7, 13, 33}) {
      BmpLayout layout{.width = width, .height = 4, .bits = bits};
      layout.palette = random_palette(1 << bits, rng);
      const std::size_t row_bytes = (width * bits + 31) / 32 * 4;
      expect_matches_opencv(make_bmp(layout, random_bytes(row_bytes * 4, rng)),
                            std::to_string(bits) + " bits, width " + std::to_string(width));
    }
  }
}

TEST(BmpOpenCvTest, DirectColourAndCoreAndV5Headers) {
  std::mt19937 rng(2);
  for (int header_size : {12, 40, 124}) {
    BmpLayout layout{.header_size = header_size, .width = 7, .height = 5, .bits = 24};
    expect_matches_opencv(make_bmp(layout, random_bytes(24 * 5, rng)),
                          "24 bits, header " + std::to_string(header_size));
  }
  BmpLayout bgrx{.width = 6, .height = 3, .bits = 32};
  expect_matches_opencv(make_bmp(bgrx, random_bytes(6 * 4 * 3, rng)), "32 bits");
  BmpLayout core_palette{.header_size = 12, .width = 9, .height = 2, .bits = 8};
  core_palette.palette = random_palette(256, rng);
  expect_matches_opencv(make_bmp(core_palette, random_bytes(12 * 2, rng)), "core palette");
}

TEST(BmpOpenCvTest, RunLengthCodedImages) {
  std::mt19937 rng(3);
  BmpLayout rle8{.width = 8, .height = 3, .bits = 8, .compression = 1};
  rle8.palette = random_palette(16, rng);
  // Row 0 (bottom): run of 5 x index 3, literal {1, 2, 9}; row 1: run of 8 x 15; row 2: literal
  // of 3 (padded), run of 5 x 0.
  const std::string rle8_data = std::string("\x05\x03\x00\x03\x01\x02\x09\x00\x00\x00", 10) +
                                std::string("\x08\x0f\x00\x00", 4) +
                                std::string("\x00\x03\x04\x05\x06\x00\x05\x00\x00\x01", 10);
  expect_matches_opencv(make_bmp(rle8, rle8_data), "RLE8");
  BmpLayout rle4{.width = 7, .height = 2, .bits = 4, .compression = 2};
  rle4.palette = random_palette(16, rng);
  // Row 0: run of 4 alternating 1,2, then literal of 3 nibbles {3, 4, 5}; row 1: run of 7 x 6.
  const std::string rle4_data =
      std::string("\x04\x12\x00\x03\x34\x50\x00\x00", 8) + std::string("\x07\x66\x00\x01", 4);
  expect_matches_opencv(make_bmp(rle4, rle4_data), "RLE4");
}

TEST(BmpOpenCvTest, SharedTrainingImagesDecodeLikeOpenCv) {
  const std::filesystem::path t91 = std::filesystem::path(QUICKSR_SHARED_DIR) / "data/train/T91";
  if (!std::filesystem::is_directory(t91)) GTEST_SKIP() << t91 << " is absent";
  int bmp_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(t91)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), {});
    if (!file.starts_with("BM")) continue;
    expect_matches_opencv(file, entry.path().string());
    ++bmp_files;
  }
  if (bmp_files == 0) GTEST_SKIP() << t91 << " holds no BMP file";
}

TEST(BmpBitFieldsTest, SixteenBitsAndAlphaMasksScaleToFullRange) {
  TempDir dir;
  // 16-bit 5-6-5: pure red (31), half green (32 of 63), blue 1 of 31.
  BmpLayout rgb565{
      .width = 1, .height = 1, .bits = 16, .compression = 3, .masks = {0xF800, 0x07E0, 0x001F}};
  const std::uint16_t pixel = (31 << 11) | (32 << 5) | 1;
  test::write_bytes(dir / "a.bmp",
                    make_bmp(rgb565, little_endian(pixel, 2) + std::string(2, '\0')));
  Image image = read_image(dir / "a.bmp");
  EXPECT_FLOAT_EQ(image.rgb[0], 1.0f);
  EXPECT_FLOAT_EQ(image.rgb[1], std::round(32 * 255.0 / 63) / 255.0f);
  EXPECT_FLOAT_EQ(image.rgb[2], std::round(255.0 / 31) / 255.0f);
  EXPECT_FALSE(image.has_alpha());
  // 32-bit with an alpha mask (V5 header): A = 0x80.
  BmpLayout argb{.header_size = 124,
                 .width = 1,
                 .height = 1,
                 .bits = 32,
                 .compression = 3,
                 .masks = {0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000}};
  test::write_bytes(dir / "b.bmp", make_bmp(argb, little_endian(0x80102030, 4)));
  image = read_image(dir / "b.bmp");
  ASSERT_TRUE(image.has_alpha());
  EXPECT_FLOAT_EQ(image.alpha[0], 0x80 / 255.0f);
  EXPECT_FLOAT_EQ(image.rgb[0], 0x10 / 255.0f);
  EXPECT_FLOAT_EQ(image.rgb[2], 0x30 / 255.0f);
}

TEST(BmpBitFieldsTest, CorruptRunsAndIndicesAreErrorsNamingTheFile) {
  TempDir dir;
  std::mt19937 rng(4);
  BmpLayout rle8{.width = 4, .height = 2, .bits = 8, .compression = 1};
  rle8.palette = random_palette(4, rng);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"run past", std::string("\x09\x01\x00\x01", 4)},
      {"index beyond palette", std::string("\x04\x07\x00\x00\x04\x01\x00\x01", 8)},
      {"no end", std::string("\x04\x01", 2)},
      {"skip past", std::string("\x00\x02\x00\x09\x00\x01", 6)}};
  for (const auto& [what, data] : cases) {
    test::write_bytes(dir / "c.bmp", make_bmp(rle8, data));
    try {
      read_image(dir / "c.bmp");
      ADD_FAILURE() << what << ": no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find((dir / "c.bmp").string()), std::string::npos) << what;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace quicksr
