// Bad input and failed output: every problem is a quicksr::Error naming the file, nothing
// crashes or prints, and failed writes leave nothing behind.
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <random>
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

std::string u32_big_endian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// One PNG chunk: length, type, data and the CRC-32 zlib computes over type and data.
std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const uLong crc =
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return u32_big_endian(static_cast<std::uint32_t>(data.size())) + body +
         u32_big_endian(static_cast<std::uint32_t>(crc));
}

const std::string kPngSignature = "\x89PNG\r\n\x1A\n";

// A hand-built RGB PNG whose header claims width x height; the pixel data is that of a 1x1
// black image, which is all a 1x1 header needs.
std::string png_claiming(std::uint32_t width, std::uint32_t height, char bit_depth = 8,
                         const std::string& extra_chunk = "") {
  // RGB, deflate, adaptive filtering, not interlaced.
  const std::string header =
      u32_big_endian(width) + u32_big_endian(height) + bit_depth + std::string("\2\0\0\0", 4);
  const unsigned char row[4] = {0, 0, 0, 0};  // filter byte + one black pixel
  Bytef compressed[64];
  uLongf compressed_size = sizeof compressed;
  compress(compressed, &compressed_size, row, sizeof row);
  return kPngSignature + png_chunk("IHDR", header) + extra_chunk +
         png_chunk("IDAT",
                   std::string(reinterpret_cast<const char*>(compressed), compressed_size)) +
         png_chunk("IEND", "");
}

std::string random_bytes(std::size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(count, '\0');
  for (auto& b : bytes) b = static_cast<char>(random());
  return bytes;
}

Image noise_image(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (auto& v : image.rgb) v = uniform(random);
  return image;
}

TEST(ImageMalformedTest, HandBuiltPngIsValid) {
  // The structure the malformed variants below start from decodes correctly.
  TempDir dir;
  test::write_bytes(dir / "one.png", png_claiming(1, 1));
  const Image image = read_image(dir / "one.png");
  EXPECT_EQ(image.width, 1);
  EXPECT_EQ(image.rgb, (std::vector<float>{0, 0, 0}));
}

TEST(ImageMalformedTest, EmptyFile) {
  TempDir dir;
  test::write_bytes(dir / "empty.png", "");
  read_error(dir / "empty.png");
}

TEST(ImageMalformedTest, RandomBytes) {
  TempDir dir;
  test::write_bytes(dir / "noise.png", random_bytes(4096, 1));
  read_error(dir / "noise.png");

  const std::string noise = random_bytes(4096, 2);
  test::write_bytes(dir / "png-noise.png", kPngSignature + noise);
  read_error(dir / "png-noise.png");
  test::write_bytes(dir / "jpeg-noise.jpg", "\xFF\xD8\xFF" + noise);
  read_error(dir / "jpeg-noise.jpg");
}

TEST(ImageMalformedTest, TruncatedPngAtEveryStage) {
  TempDir dir;
  write_image(noise_image(40, 30), dir / "whole.png");
  const std::string whole = test::read_bytes(dir / "whole.png");
  ASSERT_GT(whole.size(), 1000u);
  // Inside the signature, inside IHDR, right after IHDR, inside IDAT, inside IEND.
  for (std::size_t cut : {std::size_t{4}, std::size_t{8}, std::size_t{20}, std::size_t{33},
                          std::size_t{41}, whole.size() / 2, whole.size() - 1}) {
    const auto path = dir / ("cut-" + std::to_string(cut) + ".png");
    test::write_bytes(path, whole.substr(0, cut));
    read_error(path);
  }
}

TEST(ImageMalformedTest, TruncatedJpegAtEveryStage) {
  TempDir dir;
  write_image(noise_image(40, 30), dir / "whole.jpg");
  const std::string whole = test::read_bytes(dir / "whole.jpg");
  ASSERT_GT(whole.size(), 1000u);
  // Inside the headers, inside the scan, and without (part of) the EOI marker.
  for (std::size_t cut : {std::size_t{2}, std::size_t{3}, std::size_t{30}, std::size_t{200},
                          whole.size() / 2, whole.size() - 2, whole.size() - 1}) {
    const auto path = dir / ("cut-" + std::to_string(cut) + ".jpg");
    test::write_bytes(path, whole.substr(0, cut));
    read_error(path);
  }
}

// Flips a few random bytes after the signature of `whole`, many times over: each variant must
// either decode or raise quicksr::Error (any other exception escapes and fails the test; a crash
// or memory error kills it, which the sanitizer build checks). Returns how many were rejected.
int count_rejected_corruptions(const TempDir& dir, const std::string& whole,
                               const std::string& extension) {
  std::mt19937 random(42);
  int rejected = 0;
  for (int variant = 0; variant < 100; ++variant) {
    std::string bytes = whole;
    const int flips = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < flips; ++i) {
      bytes[8 + random() % (bytes.size() - 8)] = static_cast<char>(random());
    }
    const auto path = dir / ("variant-" + std::to_string(variant) + extension);
    test::write_bytes(path, bytes);
    try {
      read_image(path);
    } catch (const Error&) {
      ++rejected;
    }
  }
  return rejected;
}

TEST(ImageMalformedTest, RandomCorruptionsOnlyEverRaiseError) {
  TempDir dir;
  write_image(noise_image(24, 16), dir / "whole.png");
  write_image(noise_image(24, 16), dir / "whole.jpg");
  // PNG's CRCs catch nearly every change; JPEG entropy data often decodes to other pixels.
  EXPECT_GT(count_rejected_corruptions(dir, test::read_bytes(dir / "whole.png"), ".png"), 90);
  EXPECT_GT(count_rejected_corruptions(dir, test::read_bytes(dir / "whole.jpg"), ".jpg"), 30);
  // BMP has no checksums: only corrupted header fields are caught (most of this tiny file).
  const std::vector<std::uint8_t> bgr(4 * 3 * 3, 77);
  EXPECT_GT(count_rejected_corruptions(dir, test::reference_bmp(4, 3, 24, bgr), ".bmp"), 10);
}

TEST(ImageMalformedTest, GarbageExifIsIgnored) {
  TempDir dir;
  test::RawJpeg raw;
  raw.width = 8;
  raw.height = 4;
  raw.samples.assign(8 * 4 * 3, 200);
  for (unsigned seed = 0; seed < 20; ++seed) {
    const std::string garbage = std::string("Exif\0\0", 6) + random_bytes(64 + seed * 8, seed);
    const auto path = dir / ("exif-" + std::to_string(seed) + ".jpg");
    test::write_reference_jpeg(path, raw, 90,
                               std::vector<unsigned char>(garbage.begin(), garbage.end()));
    const Image image = read_image(path);
    // Whatever the garbage says, the result is the image in one of its eight orientations.
    EXPECT_TRUE((image.width == 8 && image.height == 4) || (image.width == 4 && image.height == 8));
  }
}

TEST(ImageMalformedTest, JpegWithMarkerInsideScanData) {
  TempDir dir;
  write_image(noise_image(64, 64), dir / "whole.jpg");
  std::string bytes = test::read_bytes(dir / "whole.jpg");
  // An EOI in the middle of the entropy-coded data: libjpeg would fill the rest with grey.
  const std::size_t middle = bytes.size() * 3 / 4;
  bytes[middle] = '\xFF';
  bytes[middle + 1] = '\xD9';
  test::write_bytes(dir / "broken.jpg", bytes);
  read_error(dir / "broken.jpg");
}

TEST(ImageMalformedTest, PngWithCorruptCrcOrHeader) {
  TempDir dir;
  std::string bad_crc = png_claiming(1, 1);
  bad_crc[29] ^= 0x01;  // the IHDR CRC occupies bytes 29..32
  test::write_bytes(dir / "crc.png", bad_crc);
  EXPECT_NE(read_error(dir / "crc.png").find("CRC"), std::string::npos);

  test::write_bytes(dir / "depth.png", png_claiming(1, 1, 7));
  read_error(dir / "depth.png");
  test::write_bytes(dir / "zero.png", png_claiming(0, 1));
  read_error(dir / "zero.png");

  std::string bad_idat = png_claiming(1, 1);
  bad_idat[bad_idat.size() - 20] ^= 0xFF;  // inside the IDAT chunk
  test::write_bytes(dir / "idat.png", bad_idat);
  read_error(dir / "idat.png");
}

TEST(ImageMalformedTest, HugeDeclaredDimensionsAreRejectedBeforeDecoding) {
  TempDir dir;
  test::write_bytes(dir / "huge.png", png_claiming(100000, 100000));
  const auto start = std::chrono::steady_clock::now();
  const std::string message = read_error(dir / "huge.png");
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_NE(message.find("limit"), std::string::npos) << message;
  EXPECT_LT(elapsed.count(), 1.0);

  // JPEG cannot go beyond 65500 per side: patch a real file's SOF0 to claim 60000x60000.
  write_image(noise_image(16, 16), dir / "small.jpg");
  std::string jpeg = test::read_bytes(dir / "small.jpg");
  std::size_t sof = 2;
  while (sof + 9 < jpeg.size() && jpeg.compare(sof, 2, "\xFF\xC0") != 0) ++sof;
  ASSERT_LT(sof + 9, jpeg.size()) << "no SOF0 marker";
  // FF C0, length (2), precision (1), height (2), width (2).
  jpeg.replace(sof + 5, 4, u32_big_endian(60000u << 16 | 60000u));
  test::write_bytes(dir / "huge.jpg", jpeg);
  EXPECT_NE(read_error(dir / "huge.jpg").find("limit"), std::string::npos);
}

// Issue 11: a 220-byte PNG declaring 20000x13000 allocated 896 MB before failing; it is now refused
// from its header (deflate cannot expand 220 bytes that far), and so is a tiny RLE8 BMP bomb.
TEST(ImageMalformedTest, DecompressionBombsAreRefusedBeforeAllocating) {
  TempDir dir;
  const std::string png = png_claiming(20000, 13000);
  ASSERT_LT(png.size(), 256u);
  test::write_bytes(dir / "bomb.png", png);
  // The default limit (8192 x 8192) refuses it first, saying what it has, what is allowed and how
  // to raise the limit.
  const std::string message = read_error(dir / "bomb.png");
  EXPECT_NE(message.find("20000x13000 image (260000000 pixels) exceeds the limit of 67108864"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("--max-pixels N raises it"), std::string::npos) << message;
  // Even with the pixel limit raised past it, the header alone gives it away.
  const ReadOptions unlimited{.max_pixels = 1ull << 40};
  EXPECT_NE(read_error(dir / "bomb.png", unlimited).find("decompression bomb"), std::string::npos);

  // BITMAPINFOHEADER, 8 bits, RLE8, 8000 x 8000, grey palette, data: "end of bitmap" only.
  const std::uint32_t side = 8000;
  std::string bmp = "BM" + test::little_endian(0, 4) + test::little_endian(0, 4) +
                    test::little_endian(14 + 40 + 1024, 4) + test::little_endian(40, 4) +
                    test::little_endian(side, 4) + test::little_endian(side, 4) +
                    std::string("\1\0\10\0", 4) + test::little_endian(1, 4) +
                    test::little_endian(2, 4) + std::string(16, '\0');
  for (int i = 0; i < 256; ++i) bmp += std::string(3, static_cast<char>(i)) + '\0';
  bmp += std::string("\0\1", 2);
  test::write_bytes(dir / "bomb.bmp", bmp);
  EXPECT_NE(read_error(dir / "bomb.bmp").find("decompression bomb"), std::string::npos);
}

// Issue 11: a negative BMP header size wrapped in size_t and read past the buffer.
TEST(ImageMalformedTest, BmpNegativeHeaderSize) {
  TempDir dir;
  const std::vector<std::uint8_t> bgr(2 * 2 * 3, 128);
  std::string bmp = test::reference_bmp(2, 2, 24, bgr);
  for (std::uint32_t size : {0xFFFFFFF0u, 0x80000000u, 0xFFFFFFFFu, 13u}) {
    bmp.replace(14, 4, test::little_endian(size, 4));
    test::write_bytes(dir / "negative.bmp", bmp);
    const std::string message = read_error(dir / "negative.bmp");
    EXPECT_NE(message.find("header size " + std::to_string(size)), std::string::npos) << message;
  }
}

TEST(ImageMalformedTest, MissingFileAndDirectory) {
  TempDir dir;
  EXPECT_NE(read_error(dir / "absent.png").find("No such file"), std::string::npos);
  std::filesystem::create_directory(dir / "folder.png");
  read_error(dir / "folder.png");
}

TEST(ImageMalformedTest, RecoverableWarningsAreSilent) {
  TempDir dir;
  // An ancillary chunk with a bad CRC is skipped by libpng with a warning.
  std::string text = png_chunk("tEXt", std::string("k\0v", 3));
  text.back() ^= 0x01;
  test::write_bytes(dir / "text.png", png_claiming(1, 1, 8, text));
  // Stray bytes before EOI make libjpeg warn but the image is intact.
  write_image(noise_image(16, 16), dir / "stray.jpg");
  std::string jpeg = test::read_bytes(dir / "stray.jpg");
  jpeg.insert(jpeg.size() - 2, "\x12\x34\x56");
  test::write_bytes(dir / "stray.jpg", jpeg);

  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  const Image png = read_image(dir / "text.png");
  const Image with_stray = read_image(dir / "stray.jpg");
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(png.width, 1);
  EXPECT_EQ(with_stray.width, 16);
}

std::string write_error(const Image& image, const std::filesystem::path& path,
                        const WriteOptions& options = {}) {
  try {
    write_image(image, path, options);
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << path << " was written without error";
  return "";
}

TEST(ImageWriteFailureTest, UnwritableLocationsLeaveNothing) {
  TempDir dir;
  const Image image = noise_image(4, 4);
  write_error(image, dir / "missing-folder" / "out.png");
  EXPECT_FALSE(std::filesystem::exists(dir / "missing-folder"));
  test::write_bytes(dir / "file", "x");
  write_error(image, dir / "file" / "out.jpg");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"file"});
}

TEST(ImageWriteFailureTest, FailuresAfterOpeningLeaveNoTempFile) {
  TempDir dir;
  // libjpeg refuses sides above 65500 once the temporary file is already open.
  write_error(noise_image(70000, 1), dir / "wide.jpg");
  Image inconsistent = noise_image(4, 4);
  inconsistent.rgb.pop_back();
  write_error(inconsistent, dir / "short.png");
  write_error(noise_image(4, 4), dir / "image.bmp");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ImageWriteFailureTest, SuccessfulWritesLeaveOnlyTheirOutputs) {
  TempDir dir;
  const Image image = noise_image(8, 8);
  write_image(image, dir / "a.png");
  write_image(image, dir / "b.JPG");
  write_image(image, dir / "c.jpeg");
  write_image(noise_image(3, 2), dir / "a.png");  // replaces the existing file
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"a.png", "b.JPG", "c.jpeg"}));
  EXPECT_EQ(read_image(dir / "a.png").width, 3);
}

}  // namespace
}  // namespace quicksr
