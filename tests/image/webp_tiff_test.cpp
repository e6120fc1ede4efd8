// WebP and TIFF reading and writing, and ICC/EXIF carried through every format that holds them,
// checked against libwebp and libtiff used directly.
#include <tiffio.h>
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "image/reference_codecs.hpp"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

namespace quicksr {
namespace {

using test::TempDir;

// Distinct, non-monotonic 8-bit samples.
std::vector<std::uint8_t> pattern(std::size_t count) {
  std::vector<std::uint8_t> samples(count);
  for (std::size_t i = 0; i < count; ++i) samples[i] = static_cast<std::uint8_t>(i * 97 + 13);
  return samples;
}

// Bytes no codec interprets (WebP and TIFF store the ICC profile as an opaque blob).
std::vector<unsigned char> fake_icc_profile() {
  std::vector<unsigned char> profile(300);
  for (std::size_t i = 0; i < profile.size(); ++i) profile[i] = static_cast<unsigned char>(i * 7);
  return profile;
}

// A smooth 8-bit RGB image with alpha that lossy codecs reproduce closely.
Image gradient_image(int width, int height, bool alpha) {
  Image image;
  image.width = width;
  image.height = height;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.rgb.push_back(static_cast<float>(x) / (width - 1));
      image.rgb.push_back(static_cast<float>(y) / (height - 1));
      image.rgb.push_back(0.5f);
      if (alpha) image.alpha.push_back(std::round(255.0f * (x + y) / (width + height)) / 255.0f);
    }
  }
  return image;
}

std::vector<unsigned char> webp_chunk(const std::string& bytes, const char* fourcc) {
  const WebPData data{reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
  WebPMux* mux = WebPMuxCreate(&data, 0);
  WebPData chunk{};
  std::vector<unsigned char> result;
  if (mux && WebPMuxGetChunk(mux, fourcc, &chunk) == WEBP_MUX_OK) {
    result.assign(chunk.bytes, chunk.bytes + chunk.size);
  }
  WebPMuxDelete(mux);
  return result;
}

TEST(ImageWebpTest, ReadsLosslessWebpExactly) {
  TempDir dir;
  const int width = 7, height = 5;
  const std::vector<std::uint8_t> rgba = pattern(width * height * 4);
  std::uint8_t* encoded = nullptr;
  const std::size_t size = WebPEncodeLosslessRGBA(rgba.data(), width, height, width * 4, &encoded);
  ASSERT_GT(size, 0u);
  test::write_bytes(dir / "in.WEBP", std::string(reinterpret_cast<char*>(encoded), size));
  WebPFree(encoded);

  const Image image = read_image(dir / "in.WEBP");
  ASSERT_EQ(image.width, width);
  ASSERT_EQ(image.height, height);
  ASSERT_TRUE(image.has_alpha());
  for (int i = 0; i < width * height; ++i) {
    // Lossless WebP may change the colour of fully transparent pixels.
    if (rgba[i * 4 + 3] == 0) continue;
    for (int c = 0; c < 3; ++c) EXPECT_EQ(image.rgb[i * 3 + c] * 255.0f, rgba[i * 4 + c]) << i;
    EXPECT_EQ(image.alpha[i] * 255.0f, rgba[i * 4 + 3]) << i;
  }
}

TEST(ImageWebpTest, WritesWhatLibwebpDecodesClosely) {
  TempDir dir;
  const Image image = gradient_image(32, 24, true);
  write_image(image, dir / "out.webp");
  const std::string bytes = test::read_bytes(dir / "out.webp");
  int width = 0, height = 0;
  std::uint8_t* rgba = WebPDecodeRGBA(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                      bytes.size(), &width, &height);
  ASSERT_NE(rgba, nullptr);
  ASSERT_EQ(width, 32);
  ASSERT_EQ(height, 24);
  double error = 0;
  for (int i = 0; i < width * height; ++i) {
    for (int c = 0; c < 3; ++c) error += std::abs(rgba[i * 4 + c] - image.rgb[i * 3 + c] * 255);
    EXPECT_EQ(rgba[i * 4 + 3], std::lround(image.alpha[i] * 255)) << "alpha is lossless at " << i;
  }
  WebPFree(rgba);
  EXPECT_LT(error / (width * height * 3), 2.0) << "mean absolute error in 8-bit levels";
}

TEST(ImageWebpTest, KeepsIccAndExifChunks) {
  TempDir dir;
  Image image = gradient_image(16, 16, false);
  image.icc_profile = fake_icc_profile();
  image.exif = test::exif_app1(1, false);
  image.exif.erase(image.exif.begin(), image.exif.begin() + 6);  // without "Exif\0\0"
  write_image(image, dir / "meta.webp");
  const std::string bytes = test::read_bytes(dir / "meta.webp");
  EXPECT_EQ(webp_chunk(bytes, "ICCP"), image.icc_profile);
  EXPECT_EQ(webp_chunk(bytes, "EXIF"), image.exif);
  const Image back = read_image(dir / "meta.webp");
  EXPECT_EQ(back.icc_profile, image.icc_profile);
  EXPECT_EQ(back.exif, image.exif);
}

TEST(ImageWebpTest, CorruptFileIsRejectedWithItsName) {
  TempDir dir;
  test::write_bytes(dir / "bad.webp", std::string("RIFF\x20\0\0\0WEBPVP8 garbage", 23));
  try {
    read_image(dir / "bad.webp");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.webp"), std::string::npos) << e.what();
  }
}

// Writes `samples` (interleaved, native order) as an uncompressed strip TIFF with libtiff.
void write_reference_tiff(const std::filesystem::path& path, int width, int height,
                          int samples_per_pixel, int bits, const void* samples) {
  TIFF* tiff = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tiff, nullptr);
  TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, samples_per_pixel);
  TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, bits);
  TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC,
               samples_per_pixel >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
  TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  if (samples_per_pixel == 2 || samples_per_pixel == 4) {
    const std::uint16_t kind = EXTRASAMPLE_UNASSALPHA;
    TIFFSetField(tiff, TIFFTAG_EXTRASAMPLES, 1, &kind);
  }
  const std::size_t row_bytes = static_cast<std::size_t>(width) * samples_per_pixel * bits / 8;
  for (int y = 0; y < height; ++y) {
    const auto* row = static_cast<const unsigned char*>(samples) + y * row_bytes;
    ASSERT_GE(TIFFWriteScanline(tiff, const_cast<unsigned char*>(row), y, 0), 0);
  }
  TIFFClose(tiff);
}

TEST(ImageTiffTest, Reads16BitRgbaExactly) {
  TempDir dir;
  const int width = 5, height = 3;
  std::vector<std::uint16_t> samples(width * height * 4);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    samples[i] = static_cast<std::uint16_t>(i * 40503u + 17u);
  }
  write_reference_tiff(dir / "in.TIF", width, height, 4, 16, samples.data());
  const Image image = read_image(dir / "in.TIF");
  ASSERT_EQ(image.width, width);
  ASSERT_EQ(image.height, height);
  EXPECT_EQ(image.bit_depth, 16);
  ASSERT_TRUE(image.has_alpha());
  for (int i = 0; i < width * height; ++i) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(std::lround(image.rgb[i * 3 + c] * 65535), samples[i * 4 + c]) << i;
    }
    EXPECT_EQ(std::lround(image.alpha[i] * 65535), samples[i * 4 + 3]) << i;
  }
}

TEST(ImageTiffTest, Reads8BitGrayAsGray) {
  TempDir dir;
  const std::vector<std::uint8_t> samples = pattern(6 * 4);
  write_reference_tiff(dir / "gray.tiff", 6, 4, 1, 8, samples.data());
  const Image image = read_image(dir / "gray.tiff");
  EXPECT_TRUE(image.gray);
  EXPECT_EQ(image.bit_depth, 8);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(std::lround(image.rgb[i * 3 + 1] * 255), samples[i]) << i;
  }
}

TEST(ImageTiffTest, WritesSixteenBitsAndIccThatLibtiffReads) {
  TempDir dir;
  Image image;
  image.width = 4;
  image.height = 3;
  image.bit_depth = 16;
  image.icc_profile = fake_icc_profile();
  for (int i = 0; i < 4 * 3 * 3; ++i)
    image.rgb.push_back(static_cast<float>(i * 1801 % 65536) / 65535);
  write_image(image, dir / "out.TIFF");

  TIFF* tiff = TIFFOpen((dir / "out.TIFF").c_str(), "r");
  ASSERT_NE(tiff, nullptr);
  std::uint16_t bits = 0, samples_per_pixel = 0;
  TIFFGetField(tiff, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetField(tiff, TIFFTAG_SAMPLESPERPIXEL, &samples_per_pixel);
  EXPECT_EQ(bits, 16);
  EXPECT_EQ(samples_per_pixel, 3);
  std::uint32_t profile_size = 0;
  void* profile = nullptr;
  ASSERT_TRUE(TIFFGetField(tiff, TIFFTAG_ICCPROFILE, &profile_size, &profile));
  const auto* profile_bytes = static_cast<const unsigned char*>(profile);
  EXPECT_EQ(std::vector<unsigned char>(profile_bytes, profile_bytes + profile_size),
            image.icc_profile);
  std::vector<std::uint16_t> row(4 * 3);
  for (int y = 0; y < 3; ++y) {
    ASSERT_GE(TIFFReadScanline(tiff, row.data(), y, 0), 0);
    for (int i = 0; i < 12; ++i) {
      EXPECT_EQ(row[i], std::lround(image.rgb[y * 12 + i] * 65535)) << y << " " << i;
    }
  }
  TIFFClose(tiff);
}

TEST(ImageTiffTest, TruncatedFileIsRejectedWithItsName) {
  TempDir dir;
  const std::vector<std::uint8_t> samples = pattern(64 * 64 * 3);
  write_reference_tiff(dir / "full.tif", 64, 64, 3, 8, samples.data());
  const std::string bytes = test::read_bytes(dir / "full.tif");
  test::write_bytes(dir / "cut.tif", bytes.substr(0, bytes.size() / 2));
  try {
    read_image(dir / "cut.tif");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.tif"), std::string::npos) << e.what();
  }
}

// An 8-bit RGB TIFF of deflate-compressed `tile` x `tile` tiles, written with libtiff.
void write_tiled_tiff(const std::filesystem::path& path, int width, int height, int tile,
                      const std::vector<std::uint8_t>& rgb) {
  TIFF* tiff = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tiff, nullptr);
  TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tiff, TIFFTAG_TILEWIDTH, tile);
  TIFFSetField(tiff, TIFFTAG_TILELENGTH, tile);
  TIFFSetField(tiff, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  std::vector<std::uint8_t> block(static_cast<std::size_t>(tile) * tile * 3);
  for (int ty = 0; ty < height; ty += tile) {
    for (int tx = 0; tx < width; tx += tile) {
      std::fill(block.begin(), block.end(), 0);
      for (int y = ty; y < std::min(ty + tile, height); ++y) {
        for (int x = tx; x < std::min(tx + tile, width); ++x) {
          for (int c = 0; c < 3; ++c) {
            block[((y - ty) * tile + (x - tx)) * 3 + c] = rgb[(y * width + x) * 3 + c];
          }
        }
      }
      ASSERT_GE(TIFFWriteTile(tiff, block.data(), tx, ty, 0, 0), 0);
    }
  }
  TIFFClose(tiff);
}

// Tiled files go through libtiff's RGBA path: pixels exact.
TEST(ImageTiffTest, ReadsTiledRgbExactly) {
  TempDir dir;
  const int width = 40, height = 24;
  const std::vector<std::uint8_t> rgb = pattern(width * height * 3);
  write_tiled_tiff(dir / "tiled.tif", width, height, 16, rgb);
  const Image image = read_image(dir / "tiled.tif");
  ASSERT_EQ(image.width, width);
  ASSERT_EQ(image.height, height);
  for (std::size_t i = 0; i < rgb.size(); ++i) {
    EXPECT_EQ(std::lround(image.rgb[i] * 255), rgb[i]) << i;
  }
}

// libtiff allocates a whole strip or tile before decoding it, sized by the file's tags: a file
// whose strip or tile is out of proportion with its pixels is refused before that allocation.
TEST(ImageTiffTest, RefusesStripsAndTilesOutOfProportionWithTheImage) {
  TempDir dir;
  const auto error_of = [](const std::filesystem::path& path) {
    try {
      read_image(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // fuzz_image_read's reproducer: 61 x 65523 pixels of 2561 samples, a 10 GB strip.
  const unsigned char reproducer[] = {
      0x49, 0x49, 0x2a, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x78, 0x9c, 0xeb, 0x14, 0x7a, 0x3f,
      0x5b, 0xe0, 0xde, 0x74, 0x26, 0xf3, 0x19, 0xf6, 0x01, 0x24, 0xcb, 0xd7, 0x05, 0xca,
      0x0b, 0x00, 0x00, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3d, 0x00, 0x00, 0x00,
      0x01, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0xf3, 0xff, 0xff, 0xff, 0x02, 0x01,
      0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03, 0x01, 0x03, 0x00,
      0x01, 0x00, 0x00, 0x00, 0x08, 0xef, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x01, 0x00,
      0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x11, 0x01, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,
      0x08, 0x00, 0x00, 0x00, 0x15, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a,
      0x00, 0x00, 0x1b, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0xaa, 0x0a, 0x00, 0x00,
      0x17, 0x01, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x1c, 0x01,
      0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3d, 0x01, 0x03, 0x00,
      0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  test::write_bytes(dir / "samples.tif",
                    std::string(reinterpret_cast<const char*>(reproducer), sizeof reproducer));
  std::string message = error_of(dir / "samples.tif");
  EXPECT_EQ(message.rfind((dir / "samples.tif").string() + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("2561 samples per pixel"), std::string::npos) << message;
  // A 2x2 image with one 4096x4096 tile (48 MB).
  write_tiled_tiff(dir / "tile.tif", 2, 2, 4096, pattern(2 * 2 * 3));
  message = error_of(dir / "tile.tif");
  EXPECT_EQ(message.rfind((dir / "tile.tif").string() + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("a tile of 50331648 bytes"), std::string::npos) << message;
}

TEST(ImageMetadataTest, JpegKeepsIccAndExifWithOrientationApplied) {
  TempDir dir;
  test::RawJpeg raw;
  raw.width = 16;
  raw.height = 8;
  raw.samples = pattern(16 * 8 * 3);
  test::write_reference_jpeg(dir / "turned.jpg", raw, 95, test::exif_app1(6, true));
  Image image = read_image(dir / "turned.jpg");
  EXPECT_EQ(image.width, 8) << "orientation 6 turns the image";
  std::vector<unsigned char> expected_exif = test::exif_app1(1, true);
  expected_exif.erase(expected_exif.begin(), expected_exif.begin() + 6);
  EXPECT_EQ(image.exif, expected_exif) << "the orientation tag is reset to 1, the rest kept";

  image.icc_profile = fake_icc_profile();
  for (const char* name : {"out.jpg", "out.png", "out.webp"}) {
    write_image(image, dir / name);
    const Image back = read_image(dir / name);
    EXPECT_EQ(back.width, 8) << name << ": not turned a second time";
    EXPECT_EQ(back.exif, expected_exif) << name;
    if (std::string(name) != "out.png") {
      EXPECT_EQ(back.icc_profile, image.icc_profile) << name;
    }
  }
}

TEST(ImageMetadataTest, UpperCaseExtensionsAreWritable) {
  for (const char* name : {"a.PNG", "a.Jpg", "a.JPEG", "a.WebP", "a.TIF", "a.tiff"}) {
    EXPECT_TRUE(is_writable_image_path(name)) << name;
  }
  EXPECT_FALSE(is_writable_image_path("a.gif"));
  EXPECT_FALSE(is_writable_image_path("png"));
}

}  // namespace
}  // namespace quicksr
