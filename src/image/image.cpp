// File handling shared by the codecs: opening, format detection by signature, atomic output, and
// the conversions between images and tensors.
#include "quicksr/image.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "image/codecs.hpp"
#include "quicksr/error.hpp"

namespace quicksr {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

enum class Format { kPng, kJpeg, kBmp, kUnknown };

Format detect_format(const unsigned char* head, std::size_t size) {
  static constexpr std::array<unsigned char, 8> kPngSignature = {0x89, 'P',  'N',  'G',
                                                                 '\r', '\n', 0x1A, '\n'};
  static constexpr std::array<unsigned char, 3> kJpegSignature = {0xFF, 0xD8, 0xFF};
  if (size >= kPngSignature.size() &&
      std::equal(kPngSignature.begin(), kPngSignature.end(), head)) {
    return Format::kPng;
  }
  if (size >= kJpegSignature.size() &&
      std::equal(kJpegSignature.begin(), kJpegSignature.end(), head)) {
    return Format::kJpeg;
  }
  if (size >= 2 && head[0] == 'B' && head[1] == 'M') return Format::kBmp;
  return Format::kUnknown;
}

std::string lowercase_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

void check_consistent(const Image& image, const std::string& name) {
  const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
  if (image.width < 1 || image.height < 1 || image.rgb.size() != pixels * 3 ||
      (image.has_alpha() && image.alpha.size() != pixels)) {
    throw Error(name + ": cannot write an empty or inconsistent image (" +
                std::to_string(image.width) + "x" + std::to_string(image.height) + ", " +
                std::to_string(image.rgb.size()) + " RGB values, " +
                std::to_string(image.alpha.size()) + " alpha values)");
  }
}

// Opens `temp` for writing, lets `encode` fill it, and reports close failures (e.g. disk full).
template <typename Encode>
void write_file(const std::filesystem::path& temp, const std::string& name, Encode&& encode) {
  FilePtr file(std::fopen(temp.c_str(), "wb"));
  if (!file) throw Error(name + ": cannot write: " + std::strerror(errno));
  encode(file.get());
  if (std::fclose(file.release()) != 0) {
    throw Error(name + ": cannot write: " + std::strerror(errno));
  }
}

}  // namespace

namespace codecs {

void check_pixel_limit(std::uint64_t width, std::uint64_t height, const std::string& name,
                       const ReadOptions& options) {
  if (width * height > options.max_pixels) {
    throw Error(name + ": " + std::to_string(width) + "x" + std::to_string(height) +
                " image exceeds the limit of " + std::to_string(options.max_pixels) + " pixels");
  }
}

float gray_value(const Image& image, std::size_t pixel) {
  const float* rgb = image.rgb.data() + pixel * 3;
  return (rgb[0] + rgb[1] + rgb[2]) / 3.0f;
}

std::uint16_t quantize(float value, int max_value) {
  if (!(value > 0.0f)) return 0;
  if (value >= 1.0f) return static_cast<std::uint16_t>(max_value);
  return static_cast<std::uint16_t>(value * static_cast<float>(max_value) + 0.5f);
}

}  // namespace codecs

Image read_image(const std::filesystem::path& path, const ReadOptions& options) {
  const std::string name = path.string();
  check_regular_file(path);
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) throw Error(name + ": cannot open: " + std::strerror(errno));

  std::array<unsigned char, 8> head{};
  const std::size_t got = std::fread(head.data(), 1, head.size(), file.get());
  if (std::ferror(file.get())) throw Error(name + ": cannot read: " + std::strerror(errno));
  if (got == 0) throw Error(name + ": empty file, not a PNG, JPEG or BMP image");
  if (std::fseek(file.get(), 0, SEEK_SET) != 0) {
    throw Error(name + ": cannot read: " + std::strerror(errno));
  }
  switch (detect_format(head.data(), got)) {
    case Format::kPng:
      return codecs::read_png(file.get(), name, options);
    case Format::kJpeg:
      return codecs::read_jpeg(file.get(), name, options);
    case Format::kBmp:
      return codecs::read_bmp(file.get(), name, options);
    case Format::kUnknown:
      break;
  }
  throw Error(name + ": not a PNG, JPEG or BMP file (unrecognised signature)");
}

void check_output_format(const std::filesystem::path& path) {
  const std::string ext = lowercase_extension(path);
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg") {
    throw Error(path.string() + ": unknown image format '" + path.extension().string() +
                "' (use .png, .jpg or .jpeg)");
  }
}

void write_image(const Image& image, const std::filesystem::path& path,
                 const WriteOptions& options) {
  const std::string name = path.string();
  const std::string ext = lowercase_extension(path);
  check_output_format(path);
  check_consistent(image, name);
  if (ext == ".png") {
    const int bit_depth = options.bit_depth.value_or(image.bit_depth);
    if (bit_depth != 8 && bit_depth != 16) {
      throw Error(name + ": PNG bit depth must be 8 or 16, not " + std::to_string(bit_depth));
    }
    write_atomically(
        path,
        [&](const std::filesystem::path& temp) {
          write_file(temp, name,
                     [&](std::FILE* file) { codecs::write_png(image, file, name, bit_depth); });
        },
        options.existing);
  } else {
    if (options.jpeg_quality < 1 || options.jpeg_quality > 100) {
      throw Error(name + ": JPEG quality must be in 1..100, not " +
                  std::to_string(options.jpeg_quality));
    }
    write_atomically(
        path,
        [&](const std::filesystem::path& temp) {
          write_file(temp, name, [&](std::FILE* file) {
            codecs::write_jpeg(image, file, name, options.jpeg_quality);
          });
        },
        options.existing);
  }
}

Tensor to_tensor(const Image& image) {
  Tensor tensor(3, image.height, image.width);
  const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
  for (int c = 0; c < 3; ++c) {
    float* plane = tensor.plane(c);
    for (std::size_t i = 0; i < pixels; ++i) plane[i] = image.rgb[i * 3 + c];
  }
  return tensor;
}

Image from_tensor(const Tensor& rgb) {
  if (rgb.channels != 3) {
    throw Error("from_tensor: expected 3 channels (RGB), got " + std::to_string(rgb.channels));
  }
  Image image;
  image.width = rgb.width;
  image.height = rgb.height;
  const std::size_t pixels = static_cast<std::size_t>(rgb.width) * rgb.height;
  image.rgb.resize(pixels * 3);
  for (int c = 0; c < 3; ++c) {
    const float* plane = rgb.plane(c);
    for (std::size_t i = 0; i < pixels; ++i) image.rgb[i * 3 + c] = plane[i];
  }
  return image;
}

}  // namespace quicksr
