// BMP (read only), decoded here: OS/2 core and Windows info headers (V1 to V5), 1/4/8-bit
// palettes (uncompressed, RLE4, RLE8), 16/32-bit bit fields and 24-bit BGR. Our own decoder
// rather than OpenCV's: linking OpenCV imgcodecs loads ~130 shared libraries (GDAL, Poppler,
// ...) and cost every quicksr start about half a second (docs/architecture.md).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "image/codecs.hpp"
#include "quicksr/error.hpp"

namespace quicksr::codecs {
namespace {

constexpr std::size_t kFileHeaderSize = 14;
constexpr std::uint64_t kCoreHeaderSize = 12;  // OS/2 BITMAPCOREHEADER: 16-bit sizes
constexpr std::uint64_t kInfoHeaderSize = 40;  // BITMAPINFOHEADER and its extensions
constexpr std::uint64_t kMaxHeaderSize = 1024;
enum Compression : std::uint32_t { kRgb = 0, kRle8 = 1, kRle4 = 2, kBitFields = 3 };

using Bytes = std::vector<unsigned char>;

std::uint32_t little_endian(const Bytes& bytes, std::size_t at, int size) {
  std::uint32_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = (value << 8) | bytes[at + i];
  return value;
}

struct BmpHeader {
  std::int64_t width = 0;
  std::int64_t height = 0;
  bool top_down = false;
  int bits = 0;
  std::uint32_t compression = kRgb;
  std::uint64_t data_offset = 0;
  std::uint64_t palette_offset = 0;
  int palette_entry_size = 4;             // BGRX; 3 (BGR) in core headers
  std::uint64_t colors = 0;               // palette entries
  std::uint32_t masks[4] = {0, 0, 0, 0};  // R, G, B, A for 16/32-bit pixels
};

void read_masks(BmpHeader& header, const Bytes& bytes, std::uint64_t header_size,
                const std::string& name) {
  if (header.bits == 16 && header.compression == kRgb) {
    header.masks[0] = 0x7C00, header.masks[1] = 0x03E0, header.masks[2] = 0x001F;
  } else if (header.bits == 32 && header.compression == kRgb) {
    header.masks[0] = 0xFF0000, header.masks[1] = 0xFF00, header.masks[2] = 0xFF;
  } else if (header.compression == kBitFields) {
    // In V2+ headers the masks are part of the header; after a plain info header they follow it.
    const std::uint64_t at = kFileHeaderSize + kInfoHeaderSize;
    const int count = header_size >= 56 ? 4 : 3;
    if (bytes.size() < at + 4 * count) throw Error(name + ": invalid BMP: file is truncated");
    for (int i = 0; i < count; ++i) header.masks[i] = little_endian(bytes, at + 4 * i, 4);
  }
}

BmpHeader parse_header(const Bytes& bytes, const std::string& name) {
  if (bytes.size() < kFileHeaderSize + 4) throw Error(name + ": invalid BMP: file is truncated");
  const std::uint64_t header_size = little_endian(bytes, 14, 4);
  const bool core = header_size == kCoreHeaderSize;
  if (!core && (header_size < kInfoHeaderSize || header_size > kMaxHeaderSize)) {
    throw Error(name + ": invalid BMP: unknown header size " + std::to_string(header_size));
  }
  if (bytes.size() < kFileHeaderSize + header_size) {
    throw Error(name + ": invalid BMP: file is truncated");
  }
  BmpHeader header;
  header.data_offset = little_endian(bytes, 10, 4);
  header.palette_offset = kFileHeaderSize + header_size;
  if (core) {
    header.width = little_endian(bytes, 18, 2);
    header.height = little_endian(bytes, 20, 2);
    header.bits = static_cast<int>(little_endian(bytes, 24, 2));
    header.palette_entry_size = 3;
  } else {
    header.width = static_cast<std::int32_t>(little_endian(bytes, 18, 4));
    const std::int64_t height = static_cast<std::int32_t>(little_endian(bytes, 22, 4));
    header.top_down = height < 0;
    header.height = height < 0 ? -height : height;
    header.bits = static_cast<int>(little_endian(bytes, 28, 2));
    header.compression = little_endian(bytes, 30, 4);
    header.colors = little_endian(bytes, 46, 4);
  }
  if (header.bits <= 8 && header.colors == 0) header.colors = std::uint64_t{1} << header.bits;
  read_masks(header, bytes, header_size, name);
  return header;
}

std::string size_text(const BmpHeader& header) {
  return std::to_string(header.width) + "x" + std::to_string(header.height);
}

// Everything that can be checked before any pixel is allocated.
void check_header(const BmpHeader& header, std::size_t file_size, const std::string& name,
                  const ReadOptions& options) {
  if (header.width < 1 || header.height < 1 || header.height > INT32_MAX) {
    throw Error(name + ": invalid BMP: " + size_text(header) + " image");
  }
  check_pixel_limit(header.width, header.height, name, options);
  const int bits = header.bits;
  if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
    throw Error(name + ": invalid BMP: " + std::to_string(bits) + " bits per pixel");
  }
  const bool rle = header.compression == kRle8 || header.compression == kRle4;
  if (header.compression > kBitFields || (header.compression == kRle8 && bits != 8) ||
      (header.compression == kRle4 && bits != 4) ||
      (header.compression == kBitFields && bits != 16 && bits != 32)) {
    throw Error(name + ": unsupported BMP: compression " + std::to_string(header.compression) +
                " with " + std::to_string(bits) + " bits per pixel");
  }
  if (rle && header.top_down) throw Error(name + ": invalid BMP: top-down run-length coding");
  if (bits <= 8 &&
      (header.colors > (std::uint64_t{1} << bits) ||
       header.palette_offset + header.colors * header.palette_entry_size > file_size)) {
    throw Error(name + ": invalid BMP: palette of " + std::to_string(header.colors) +
                " colours does not fit");
  }
  // A run codes at most 255 pixels in 2 bytes; only skips go further, and a small file that skips
  // over gigabytes of pixels is a decompression bomb.
  constexpr std::int64_t kMaxRlePixelsPerByte = 256;
  if (rle &&
      header.width * header.height / kMaxRlePixelsPerByte > static_cast<std::int64_t>(file_size)) {
    throw Error(name + ": invalid BMP: a " + size_text(header) + " run-length coded image in " +
                std::to_string(file_size) + " bytes (truncated, or a decompression bomb)");
  }
  const std::uint64_t row_bytes = (header.width * bits + 31) / 32 * 4;
  if (header.data_offset > file_size ||
      (!rle && header.data_offset + row_bytes * header.height > file_size)) {
    throw Error(name + ": invalid BMP: file is truncated");
  }
}

// Palette indices of an RLE4/RLE8 image, rows top to bottom; skipped pixels keep index 0.
std::vector<std::uint8_t> decode_rle(const Bytes& bytes, const BmpHeader& header,
                                     const std::string& name) {
  const std::size_t width = header.width;
  const std::size_t height = header.height;
  std::vector<std::uint8_t> indices(width * height, 0);
  const bool four_bit = header.compression == kRle4;
  std::size_t at = header.data_offset;
  std::size_t x = 0;
  std::size_t row = 0;  // counted from the bottom
  const auto corrupt = [&](const char* what) {
    return Error(name + ": invalid BMP: " + what + " in the run-length data");
  };
  const auto put = [&](std::uint8_t index) {
    if (x >= width || row >= height) throw corrupt("a run past the image");
    indices[(height - 1 - row) * width + x++] = index;
  };
  const auto byte = [&]() -> std::uint8_t {
    if (at >= bytes.size()) throw Error(name + ": invalid BMP: file is truncated");
    return bytes[at++];
  };
  for (;;) {
    const std::uint8_t count = byte();
    const std::uint8_t value = byte();
    if (count > 0) {  // a run of `count` pixels (RLE4: the two nibbles alternate)
      for (int i = 0; i < count; ++i) put(four_bit ? (i % 2 ? value & 15 : value >> 4) : value);
    } else if (value == 0) {  // end of line
      x = 0;
      ++row;
    } else if (value == 1) {  // end of bitmap
      return indices;
    } else if (value == 2) {  // move right and up
      x += byte();
      row += byte();
      if (row > height || (row == height && x > 0)) throw corrupt("a skip past the image");
    } else {  // `value` literal pixels, padded to a 16-bit boundary
      const std::size_t data_bytes = four_bit ? (value + 1) / 2 : value;
      if (at + data_bytes > bytes.size()) throw Error(name + ": invalid BMP: file is truncated");
      for (int i = 0; i < value; ++i) {
        const std::uint8_t packed = bytes[at + (four_bit ? i / 2 : i)];
        put(four_bit ? (i % 2 ? packed & 15 : packed >> 4) : packed);
      }
      at += data_bytes + data_bytes % 2;
    }
  }
}

// Palette indices of an uncompressed 1/4/8-bit image, rows top to bottom.
std::vector<std::uint8_t> decode_indices(const Bytes& bytes, const BmpHeader& header) {
  const std::size_t width = header.width;
  const std::size_t height = header.height;
  const std::size_t row_bytes = (width * header.bits + 31) / 32 * 4;
  const int per_byte = 8 / header.bits;
  const int mask = (1 << header.bits) - 1;
  std::vector<std::uint8_t> indices(width * height);
  for (std::size_t y = 0; y < height; ++y) {
    const std::size_t stored_row = header.top_down ? y : height - 1 - y;
    const unsigned char* row = bytes.data() + header.data_offset + stored_row * row_bytes;
    for (std::size_t x = 0; x < width; ++x) {
      const int shift = 8 - header.bits * (1 + static_cast<int>(x % per_byte));
      indices[y * width + x] = (row[x / per_byte] >> shift) & mask;
    }
  }
  return indices;
}

Image from_palette(const Bytes& bytes, const BmpHeader& header,
                   const std::vector<std::uint8_t>& indices, const std::string& name) {
  Image image;
  image.width = static_cast<int>(header.width);
  image.height = static_cast<int>(header.height);
  image.gray = true;
  std::vector<float> palette(header.colors * 3);
  for (std::size_t i = 0; i < header.colors; ++i) {
    const unsigned char* bgr = bytes.data() + header.palette_offset + i * header.palette_entry_size;
    for (int c = 0; c < 3; ++c) palette[i * 3 + c] = bgr[2 - c] / 255.0f;
    image.gray = image.gray && bgr[0] == bgr[1] && bgr[1] == bgr[2];
  }
  image.rgb.resize(indices.size() * 3);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= header.colors) {
      throw Error(name + ": invalid BMP: colour index " + std::to_string(indices[i]) +
                  " beyond the palette of " + std::to_string(header.colors));
    }
    std::copy_n(palette.begin() + indices[i] * 3, 3, image.rgb.begin() + i * 3);
  }
  return image;
}

// One bit-field channel of `pixel` in [0, 1], rounded to 8 bits like every 8-bit source.
float channel(std::uint32_t pixel, std::uint32_t mask) {
  if (mask == 0) return 0.0f;
  const std::uint32_t max = mask >> std::countr_zero(mask);
  const std::uint32_t value = (pixel & mask) >> std::countr_zero(mask);
  return static_cast<float>((static_cast<std::uint64_t>(value) * 255 + max / 2) / max) / 255.0f;
}

// 16, 24 and 32-bit pixels.
Image from_direct_colour(const Bytes& bytes, const BmpHeader& header) {
  Image image;
  image.width = static_cast<int>(header.width);
  image.height = static_cast<int>(header.height);
  const std::size_t width = header.width;
  const std::size_t pixels = width * header.height;
  const std::size_t row_bytes = (width * header.bits + 31) / 32 * 4;
  const std::size_t pixel_bytes = header.bits / 8;
  const bool alpha = header.bits == 32 && header.masks[3] != 0;
  image.rgb.resize(pixels * 3);
  if (alpha) image.alpha.resize(pixels);
  for (std::size_t y = 0; y < static_cast<std::size_t>(header.height); ++y) {
    const std::size_t stored_row = header.top_down ? y : header.height - 1 - y;
    const unsigned char* row = bytes.data() + header.data_offset + stored_row * row_bytes;
    for (std::size_t x = 0; x < width; ++x) {
      const unsigned char* p = row + x * pixel_bytes;
      float* rgb = image.rgb.data() + (y * width + x) * 3;
      if (header.bits == 24) {
        for (int c = 0; c < 3; ++c) rgb[c] = p[2 - c] / 255.0f;
        continue;
      }
      std::uint32_t value = p[0] | (p[1] << 8);
      if (header.bits == 32) value |= (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
      for (int c = 0; c < 3; ++c) rgb[c] = channel(value, header.masks[c]);
      if (alpha) image.alpha[y * width + x] = channel(value, header.masks[3]);
    }
  }
  return image;
}

}  // namespace

Image read_bmp(std::FILE* file, const std::string& name, const ReadOptions& options) {
  const Bytes bytes = read_all(file, name);
  const BmpHeader header = parse_header(bytes, name);
  check_header(header, bytes.size(), name, options);
  if (header.bits > 8) return from_direct_colour(bytes, header);
  const bool rle = header.compression == kRle8 || header.compression == kRle4;
  return from_palette(bytes, header,
                      rle ? decode_rle(bytes, header, name) : decode_indices(bytes, header), name);
}

}  // namespace quicksr::codecs
