// BMP reading against files built byte by byte here (the format is simple enough to write by
// hand, which makes the expected pixels independent of the decoder under test).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "image/read_error.hpp"
#include "image/reference_codecs.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

namespace quicksr {
namespace {

using test::read_error;
using test::TempDir;

// 3x2 pixels with distinct channel values, as B, G, R bytes, rows top to bottom.
const std::vector<std::uint8_t> kBgr = {10, 20,  30,  40, 50, 60, 70,  80,  90,
                                        0,  128, 255, 1,  2,  3,  200, 100, 0};

void expect_rgb_matches_bgr(const Image& image) {
  ASSERT_EQ(image.width, 3);
  ASSERT_EQ(image.height, 2);
  EXPECT_FALSE(image.gray);
  EXPECT_FALSE(image.has_alpha());
  EXPECT_EQ(image.bit_depth, 8);
  for (std::size_t i = 0; i < 6; ++i) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_FLOAT_EQ(image.rgb[i * 3 + c], kBgr[i * 3 + 2 - c] / 255.0f) << i << " " << c;
    }
  }
}

TEST(BmpTest, ReadsBottomUpTwentyFourBit) {
  TempDir dir;
  test::write_bytes(dir / "a.bmp", test::reference_bmp(3, 2, 24, kBgr));
  expect_rgb_matches_bgr(read_image(dir / "a.bmp"));
}

TEST(BmpTest, ReadsTopDownTwentyFourBit) {
  TempDir dir;
  test::write_bytes(dir / "a.bmp", test::reference_bmp(3, 2, 24, kBgr, /*top_down=*/true));
  expect_rgb_matches_bgr(read_image(dir / "a.bmp"));
}

TEST(BmpTest, GrayPaletteIsGray) {
  TempDir dir;
  const std::vector<std::uint8_t> indices = {0, 7, 255, 128, 64, 32};
  test::write_bytes(dir / "g.bmp", test::reference_bmp(3, 2, 8, indices));
  const Image image = read_image(dir / "g.bmp");
  EXPECT_TRUE(image.gray);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(image.rgb[i * 3 + c], indices[i] / 255.0f);
  }
}

TEST(BmpTest, SignatureNotExtensionDecides) {
  TempDir dir;
  test::write_bytes(dir / "a.png", test::reference_bmp(3, 2, 24, kBgr));
  expect_rgb_matches_bgr(read_image(dir / "a.png"));
}

TEST(BmpTest, HugeDeclaredSizeIsRejectedBeforeDecoding) {
  TempDir dir;
  std::string file = test::reference_bmp(3, 2, 24, kBgr);
  file.replace(18, 8, test::little_endian(100000, 4) + test::little_endian(100000, 4));
  test::write_bytes(dir / "huge.bmp", file);
  EXPECT_NE(read_error(dir / "huge.bmp").find("exceeds the limit"), std::string::npos);
}

TEST(BmpTest, TruncatedAndMalformedFilesAreClearErrors) {
  TempDir dir;
  const std::string file = test::reference_bmp(3, 2, 24, kBgr);
  for (std::size_t size : {2, 10, 20, 40, 54, 60}) {
    test::write_bytes(dir / "t.bmp", file.substr(0, size));
    EXPECT_NE(read_error(dir / "t.bmp").find("BMP"), std::string::npos) << size;
  }
  std::string zero_width = file;
  zero_width.replace(18, 4, test::little_endian(0, 4));
  test::write_bytes(dir / "z.bmp", zero_width);
  EXPECT_NE(read_error(dir / "z.bmp").find("invalid BMP"), std::string::npos);
}

TEST(BmpTest, SharedTrainingImagesDecode) {
  const std::filesystem::path t91 = std::filesystem::path(QUICKSR_SHARED_DIR) / "data/train/T91";
  if (!std::filesystem::is_directory(t91)) GTEST_SKIP() << t91 << " is absent";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(t91)) {
    const Image image = read_image(entry.path());
    EXPECT_GE(image.width, 1) << entry.path();
    ++count;
  }
  EXPECT_EQ(count, 91);
}

}  // namespace
}  // namespace quicksr
