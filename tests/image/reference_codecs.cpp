#include "image/reference_codecs.hpp"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
// clang-format off
#include <jpeglib.h>
// clang-format on

namespace quicksr::test {

int channels_of(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
      return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return 2;
    case PNG_COLOR_TYPE_RGB:
      return 3;
    default:
      return 4;
  }
}

namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

FilePtr open_file(const std::filesystem::path& path, const char* mode) {
  FilePtr file(std::fopen(path.c_str(), mode));
  if (!file) throw std::runtime_error("cannot open " + path.string());
  return file;
}

// Packs samples into PNG rows: big-endian for 16 bits, most significant bits first below 8.
std::vector<png_byte> pack_rows(const RawPng& raw, std::size_t row_bytes) {
  const int channels = channels_of(raw.color_type);
  std::vector<png_byte> bytes(row_bytes * raw.height, 0);
  for (int y = 0; y < raw.height; ++y) {
    png_byte* row = bytes.data() + y * row_bytes;
    for (int i = 0; i < raw.width * channels; ++i) {
      const std::uint16_t v = raw.samples[static_cast<std::size_t>(y) * raw.width * channels + i];
      if (raw.bit_depth == 16) {
        row[2 * i] = static_cast<png_byte>(v >> 8);
        row[2 * i + 1] = static_cast<png_byte>(v & 0xFF);
      } else if (raw.bit_depth == 8) {
        row[i] = static_cast<png_byte>(v);
      } else {
        const int per_byte = 8 / raw.bit_depth;
        const int shift = 8 - raw.bit_depth * (i % per_byte + 1);
        row[i / per_byte] |= static_cast<png_byte>(v << shift);
      }
    }
  }
  return bytes;
}

struct PngWriteJob {
  std::FILE* file;
  const RawPng* raw;
  png_color* palette;
  png_bytepp rows;
};

// libpng longjmps here on error; nothing with a destructor lives in this frame.
bool run_png_write(png_structp png, png_infop info, const PngWriteJob& job) {
  if (setjmp(png_jmpbuf(png))) return false;
  const RawPng& raw = *job.raw;
  png_init_io(png, job.file);
  png_set_IHDR(png, info, raw.width, raw.height, raw.bit_depth, raw.color_type,
               raw.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!raw.palette.empty()) {
    png_set_PLTE(png, info, job.palette, static_cast<int>(raw.palette.size() / 3));
  }
  if (!raw.palette_alpha.empty()) {
    png_set_tRNS(png, info, raw.palette_alpha.data(), static_cast<int>(raw.palette_alpha.size()),
                 nullptr);
  }
  png_write_info(png, info);
  png_set_interlace_handling(png);
  png_write_image(png, job.rows);
  png_write_end(png, info);
  return true;
}

bool run_png_read(png_structp png, png_infop info, std::FILE* file) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, file);
  png_read_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  return true;
}

struct JpegErrors {
  jpeg_error_mgr base;
  std::jmp_buf jump;
};

void jump_on_error(j_common_ptr info) {
  std::longjmp(reinterpret_cast<JpegErrors*>(info->err)->jump, 1);
}

struct JpegWriteJob {
  std::FILE* file;
  const RawJpeg* raw;
  int quality;
  const std::vector<unsigned char>* app1;
};

bool run_jpeg_write(jpeg_compress_struct& info, JpegErrors& errors, const JpegWriteJob& job) {
  if (setjmp(errors.jump)) return false;
  const RawJpeg& raw = *job.raw;
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, job.file);
  info.image_width = raw.width;
  info.image_height = raw.height;
  info.input_components = raw.components;
  info.in_color_space =
      raw.components == 1 ? JCS_GRAYSCALE : (raw.components == 4 ? JCS_CMYK : JCS_RGB);
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, job.quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  if (!job.app1->empty()) {
    jpeg_write_marker(&info, JPEG_APP0 + 1, job.app1->data(),
                      static_cast<unsigned int>(job.app1->size()));
  }
  const std::size_t stride = static_cast<std::size_t>(raw.width) * raw.components;
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPLE*>(raw.samples.data()) + info.next_scanline * stride;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  return true;
}

bool run_jpeg_header(jpeg_decompress_struct& info, JpegErrors& errors, std::FILE* file) {
  if (setjmp(errors.jump)) return false;
  jpeg_create_decompress(&info);
  jpeg_stdio_src(&info, file);
  jpeg_read_header(&info, TRUE);
  jpeg_start_decompress(&info);
  return true;
}

bool run_jpeg_pixels(jpeg_decompress_struct& info, JpegErrors& errors, RawJpeg& raw) {
  if (setjmp(errors.jump)) return false;
  const std::size_t stride = static_cast<std::size_t>(raw.width) * raw.components;
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = raw.samples.data() + info.output_scanline * stride;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  return true;
}

}  // namespace

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write_reference_png(const std::filesystem::path& path, const RawPng& raw) {
  const int bits_per_pixel = channels_of(raw.color_type) * raw.bit_depth;
  const std::size_t row_bytes = (static_cast<std::size_t>(raw.width) * bits_per_pixel + 7) / 8;
  std::vector<png_byte> bytes = pack_rows(raw, row_bytes);
  std::vector<png_bytep> rows(raw.height);
  for (int y = 0; y < raw.height; ++y) rows[y] = bytes.data() + y * row_bytes;
  std::vector<png_color> palette;
  for (std::size_t i = 0; i + 2 < raw.palette.size(); i += 3) {
    palette.push_back({raw.palette[i], raw.palette[i + 1], raw.palette[i + 2]});
  }
  FilePtr file = open_file(path, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  const bool ok = run_png_write(png, info, {file.get(), &raw, palette.data(), rows.data()});
  png_destroy_write_struct(&png, &info);
  if (!ok) throw std::runtime_error("reference libpng write failed: " + path.string());
}

RawPng read_reference_png(const std::filesystem::path& path) {
  FilePtr file = open_file(path, "rb");
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  RawPng raw;
  if (run_png_read(png, info, file.get())) {
    raw.width = static_cast<int>(png_get_image_width(png, info));
    raw.height = static_cast<int>(png_get_image_height(png, info));
    raw.color_type = png_get_color_type(png, info);
    raw.bit_depth = png_get_bit_depth(png, info);
    raw.interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    const int channels = channels_of(raw.color_type);
    png_bytepp rows = png_get_rows(png, info);
    for (int y = 0; y < raw.height; ++y) {
      for (int i = 0; i < raw.width * channels; ++i) {
        raw.samples.push_back(raw.bit_depth == 16 ? (rows[y][2 * i] << 8) | rows[y][2 * i + 1]
                                                  : rows[y][i]);
      }
    }
  }
  png_destroy_read_struct(&png, &info, nullptr);
  if (raw.width == 0) throw std::runtime_error("reference libpng read failed: " + path.string());
  if (raw.bit_depth != 8 && raw.bit_depth != 16) throw std::runtime_error("unexpected bit depth");
  return raw;
}

void write_reference_jpeg(const std::filesystem::path& path, const RawJpeg& raw, int quality,
                          const std::vector<unsigned char>& app1) {
  FilePtr file = open_file(path, "wb");
  jpeg_compress_struct info{};
  JpegErrors errors{};
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = jump_on_error;
  const bool ok = run_jpeg_write(info, errors, {file.get(), &raw, quality, &app1});
  jpeg_destroy_compress(&info);
  if (!ok) throw std::runtime_error("reference libjpeg write failed: " + path.string());
}

RawJpeg read_reference_jpeg(const std::filesystem::path& path) {
  FilePtr file = open_file(path, "rb");
  jpeg_decompress_struct info{};
  JpegErrors errors{};
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = jump_on_error;
  RawJpeg raw;
  bool ok = run_jpeg_header(info, errors, file.get());
  if (ok) {
    raw.width = static_cast<int>(info.output_width);
    raw.height = static_cast<int>(info.output_height);
    raw.components = info.output_components;
    raw.samples.resize(static_cast<std::size_t>(raw.width) * raw.height * raw.components);
    ok = run_jpeg_pixels(info, errors, raw);
  }
  jpeg_destroy_decompress(&info);
  if (!ok) throw std::runtime_error("reference libjpeg read failed: " + path.string());
  return raw;
}

// An APP1 payload: "Exif\0\0", a TIFF header and IFD0 holding only the orientation tag.
std::vector<unsigned char> exif_app1(int orientation, bool big_endian) {
  std::vector<unsigned char> bytes = {'E', 'x', 'i', 'f', 0, 0};
  auto u16 = [&](unsigned v) {
    const unsigned char hi = static_cast<unsigned char>(v >> 8);
    const unsigned char lo = static_cast<unsigned char>(v & 0xFF);
    bytes.push_back(big_endian ? hi : lo);
    bytes.push_back(big_endian ? lo : hi);
  };
  auto u32 = [&](unsigned v) {
    u16(big_endian ? v >> 16 : v & 0xFFFF);
    u16(big_endian ? v & 0xFFFF : v >> 16);
  };
  const unsigned char order = big_endian ? 'M' : 'I';
  bytes.push_back(order);
  bytes.push_back(order);
  u16(42);                                  // TIFF magic
  u32(8);                                   // IFD0 right after the header
  u16(1);                                   // one entry
  u16(0x0112);                              // Orientation
  u16(3);                                   // SHORT
  u32(1);                                   // one value
  u16(static_cast<unsigned>(orientation));  // left-aligned in the 4-byte value field
  u16(0);
  u32(0);  // no IFD1
  return bytes;
}

std::string little_endian(std::uint32_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

std::string reference_bmp(int width, int height, int bits, const std::vector<std::uint8_t>& pixels,
                          bool top_down) {
  const int bytes_per_pixel = bits / 8;
  const int row_size = (width * bytes_per_pixel + 3) / 4 * 4;
  const int palette_size = bits == 8 ? 256 * 4 : 0;
  const int data_offset = 14 + 40 + palette_size;
  std::string file = "BM" + little_endian(data_offset + row_size * height, 4) +
                     little_endian(0, 4) + little_endian(data_offset, 4);
  file += little_endian(40, 4) + little_endian(width, 4) +
          little_endian(top_down ? -height : height, 4) + little_endian(1, 2) +
          little_endian(bits, 2) + little_endian(0, 4) + little_endian(row_size * height, 4) +
          little_endian(2835, 4) + little_endian(2835, 4) + little_endian(0, 4) +
          little_endian(0, 4);
  for (int i = 0; i < palette_size / 4; ++i) file += std::string(3, static_cast<char>(i)) + '\0';
  for (int r = 0; r < height; ++r) {
    const int y = top_down ? r : height - 1 - r;  // bottom-up unless top-down
    const auto* row = pixels.data() + static_cast<std::size_t>(y) * width * bytes_per_pixel;
    file.append(reinterpret_cast<const char*>(row), width * bytes_per_pixel);
    file.append(row_size - width * bytes_per_pixel, '\0');
  }
  return file;
}

}  // namespace quicksr::test
