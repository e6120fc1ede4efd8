// BMP (read only) through OpenCV imgcodecs. The header is checked here first, so that the pixel
// limit applies before OpenCV allocates anything and a malformed file gets a precise message.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "image/codecs.hpp"
#include "quicksr/error.hpp"

namespace quicksr::codecs {
namespace {

constexpr std::size_t kFileHeaderSize = 14;
constexpr std::size_t kCoreHeaderSize = 12;  // OS/2 BITMAPCOREHEADER: 16-bit sizes
constexpr std::size_t kInfoHeaderSize = 40;  // BITMAPINFOHEADER and its extensions: 32-bit sizes

std::int64_t little_endian(const std::vector<unsigned char>& bytes, std::size_t at, int size) {
  std::uint32_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = (value << 8) | bytes[at + i];
  return size == 2 ? static_cast<std::int16_t>(value) : static_cast<std::int32_t>(value);
}

struct BmpHeader {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::int64_t bits = 0;
  std::int64_t compression = 0;  // 0 none, 1 RLE8, 2 RLE4, 3 bit fields
  std::int64_t data_offset = 0;
};

BmpHeader parse_header(const std::vector<unsigned char>& bytes, const std::string& name) {
  if (bytes.size() < kFileHeaderSize + 4) throw Error(name + ": invalid BMP: file is truncated");
  // Unsigned: a "negative" size is a huge one, rejected below like any size past the file.
  const std::uint64_t header_size = static_cast<std::uint32_t>(little_endian(bytes, 14, 4));
  const bool core = header_size == kCoreHeaderSize;
  if (!core && (header_size < kInfoHeaderSize || header_size > 1024)) {
    throw Error(name + ": invalid BMP: unknown header size " + std::to_string(header_size));
  }
  if (bytes.size() < kFileHeaderSize + header_size) {
    throw Error(name + ": invalid BMP: file is truncated");
  }
  const int field = core ? 2 : 4;
  BmpHeader header;
  header.width = little_endian(bytes, 18, field);
  header.height = std::abs(little_endian(bytes, 18 + field, field));  // negative: top-down
  header.bits = little_endian(bytes, 18 + 2 * field + 2, 2);
  header.compression = core ? 0 : little_endian(bytes, 30, 4);
  header.data_offset = little_endian(bytes, 10, 4);
  return header;
}

// Everything OpenCV would otherwise only find out while decoding (it then prints to stderr).
void check_header(const BmpHeader& header, std::size_t file_size, const std::string& name,
                  const ReadOptions& options) {
  if (header.width < 1 || header.height < 1) {
    throw Error(name + ": invalid BMP: " + std::to_string(header.width) + "x" +
                std::to_string(header.height) + " image");
  }
  check_pixel_limit(header.width, header.height, name, options);
  const std::int64_t bits = header.bits;
  if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
    throw Error(name + ": invalid BMP: " + std::to_string(bits) + " bits per pixel");
  }
  if (header.compression < 0 || header.compression > 3) {
    throw Error(name + ": unsupported BMP compression " + std::to_string(header.compression));
  }
  const bool uncompressed = header.compression == 0 || header.compression == 3;
  // A run codes at most 255 pixels in 2 bytes; only skips ("delta", end of line) go further, and a
  // small file that skips over gigabytes of pixels is a decompression bomb.
  constexpr std::int64_t kMaxRlePixelsPerByte = 256;
  if (!uncompressed &&
      header.width * header.height / kMaxRlePixelsPerByte > static_cast<std::int64_t>(file_size)) {
    throw Error(name + ": invalid BMP: a " + std::to_string(header.width) + "x" +
                std::to_string(header.height) + " run-length coded image in " +
                std::to_string(file_size) + " bytes (truncated, or a decompression bomb)");
  }
  const std::int64_t row_bytes = (header.width * bits + 31) / 32 * 4;
  if (header.data_offset < 0 || (uncompressed && header.data_offset + row_bytes * header.height >
                                                     static_cast<std::int64_t>(file_size))) {
    throw Error(name + ": invalid BMP: file is truncated");
  }
}

// OpenCV gives 8-bit gray, BGR or BGRA rows.
Image to_image(const cv::Mat& decoded) {
  Image image;
  image.width = decoded.cols;
  image.height = decoded.rows;
  const int channels = decoded.channels();
  image.gray = channels == 1;
  const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
  image.rgb.resize(pixels * 3);
  if (channels == 4) image.alpha.resize(pixels);
  for (int y = 0; y < image.height; ++y) {
    const unsigned char* row = decoded.ptr<unsigned char>(y);
    for (int x = 0; x < image.width; ++x) {
      const unsigned char* pixel = row + x * channels;
      const std::size_t i = static_cast<std::size_t>(y) * image.width + x;
      for (int c = 0; c < 3; ++c) {
        image.rgb[i * 3 + c] = pixel[channels == 1 ? 0 : 2 - c] / 255.0f;
      }
      if (channels == 4) image.alpha[i] = pixel[3] / 255.0f;
    }
  }
  return image;
}

}  // namespace

Image read_bmp(std::FILE* file, const std::string& name, const ReadOptions& options) {
  const std::vector<unsigned char> bytes = read_all(file, name);
  check_header(parse_header(bytes, name), bytes.size(), name, options);
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw Error(name + ": invalid BMP: " + e.msg);
  }
  if (decoded.empty()) throw Error(name + ": invalid BMP: OpenCV cannot decode it");
  if (decoded.depth() != CV_8U) throw Error(name + ": BMP with more than 8 bits per channel");
  return to_image(decoded);
}

}  // namespace quicksr::codecs
