#pragma once
// Independent PNG/JPEG encoders and decoders for the image tests, written directly against
// libpng's and libjpeg's own APIs (no quicksr code), a hand-built BMP writer, and small file
// helpers.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace quicksr::test {

using test_support::TempDir;

// Whole files as byte strings (std::string: GCC 12 misreports bounds on small byte vectors).
std::string read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// A PNG as stored: samples interleaved row-major, one value per channel (0..2^bit_depth - 1).
struct RawPng {
  int width = 0;
  int height = 0;
  int color_type = 0;  // PNG_COLOR_TYPE_*
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<std::uint16_t> samples;       // palette images: indices
  std::vector<std::uint8_t> palette;        // RGB triples
  std::vector<std::uint8_t> palette_alpha;  // tRNS entries
};

// Samples per pixel of a PNG_COLOR_TYPE_* (a palette image stores one index).
int channels_of(int color_type);

void write_reference_png(const std::filesystem::path& path, const RawPng& png);
// Decodes without any transformation (8- and 16-bit files only).
RawPng read_reference_png(const std::filesystem::path& path);

// A JPEG's samples as libjpeg takes or returns them (gray, RGB, or CMYK for writing), 8 bits.
struct RawJpeg {
  int width = 0;
  int height = 0;
  int components = 3;
  std::vector<std::uint8_t> samples;
};

// `app1` (if not empty) is written as an APP1 marker right after the JFIF header.
void write_reference_jpeg(const std::filesystem::path& path, const RawJpeg& jpeg, int quality,
                          const std::vector<unsigned char>& app1 = {});
RawJpeg read_reference_jpeg(const std::filesystem::path& path);

// An APP1 payload: "Exif\0\0", a TIFF header and IFD0 holding only the orientation tag.
std::vector<unsigned char> exif_app1(int orientation, bool big_endian);

// `value` as `bytes` little-endian bytes.
std::string little_endian(std::uint32_t value, int bytes);

// An uncompressed BMP with a BITMAPINFOHEADER, built byte by byte. `pixels` holds rows top to
// bottom: 3 bytes (B, G, R) per pixel for 24 bits, or 1 palette index for 8 bits (with a
// 256-entry gray palette). Rows are stored bottom-up unless `top_down`.
std::string reference_bmp(int width, int height, int bits, const std::vector<std::uint8_t>& pixels,
                          bool top_down = false);

}  // namespace quicksr::test
