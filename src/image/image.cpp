// File handling shared by the codecs: opening, format detection by signature, atomic output, and
// the conversions between images and tensors.
#include "quicksr/image.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

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

enum class Format { kPng, kJpeg, kBmp, kWebp, kTiff, kGif, kUnknown };

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
  if (size >= 12 && std::memcmp(head, "RIFF", 4) == 0 && std::memcmp(head + 8, "WEBP", 4) == 0) {
    return Format::kWebp;
  }
  if (size >= 4 && (std::memcmp(head, "II*\0", 4) == 0 || std::memcmp(head, "MM\0*", 4) == 0)) {
    return Format::kTiff;
  }
  if (size >= 6 && (std::memcmp(head, "GIF87a", 6) == 0 || std::memcmp(head, "GIF89a", 6) == 0)) {
    return Format::kGif;
  }
  return Format::kUnknown;
}

// The pixels turned as the EXIF orientation says (which becomes 1).
Image oriented(Image image) {
  if (image.exif.empty()) return image;
  const int orientation = codecs::take_exif_orientation(image.exif);
  return codecs::apply_orientation(std::move(image), orientation);
}

Image decode(std::FILE* file, Format format, const std::string& name, const ReadOptions& options) {
  switch (format) {
    case Format::kPng:
      return codecs::read_png(file, name, options);
    case Format::kJpeg:
      return codecs::read_jpeg(file, name, options);
    case Format::kBmp:
      return codecs::read_bmp(file, name, options);
    case Format::kWebp:
      return codecs::read_webp(file, name, options);
    case Format::kTiff:
      return codecs::read_tiff(file, name, options);
    case Format::kGif:  // mostly animations: 8-bit palettes are no input for a photo upscaler
      throw Error(name +
                  ": GIF images are not supported (convert a still to PNG; `quicksr video` " +
                  "upscales an animated GIF)");
    case Format::kUnknown:
      break;
  }
  throw Error(name + ": not a PNG, JPEG, WebP, TIFF or BMP file (unrecognised signature)");
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
    throw Error(name + ": " + std::to_string(width) + "x" + std::to_string(height) + " image (" +
                std::to_string(width * height) + " pixels) exceeds the limit of " +
                std::to_string(options.max_pixels) +
                " pixels (--max-pixels N raises it; reading needs ~16 bytes per pixel)");
  }
}

void for_each_band(const ImageLayout& layout, const BandSource& next_band, const std::string& name,
                   const std::function<void(const Image& band, int first_row)>& write_rows) {
  for (int first_row = 0; first_row < layout.height;) {
    const Image& band = next_band(first_row);
    const std::size_t pixels = static_cast<std::size_t>(band.width) * band.height;
    if (band.width != layout.width || band.height < 1 || band.height > layout.height - first_row ||
        band.rgb.size() != pixels * 3 || band.alpha.size() != (layout.alpha ? pixels : 0)) {
      throw Error(name + ": inconsistent rows " + std::to_string(first_row) + ".." +
                  std::to_string(first_row + band.height) + " (" + std::to_string(band.width) +
                  " wide, " + std::to_string(band.rgb.size()) + " RGB values) for a " +
                  std::to_string(layout.width) + "x" + std::to_string(layout.height) + " image");
    }
    write_rows(band, first_row);
    first_row += band.height;
  }
}

Image gather_bands(const ImageLayout& layout, const BandSource& next_band,
                   const std::string& name) {
  Image image;
  image.width = layout.width;
  image.height = layout.height;
  image.gray = layout.gray;
  image.bit_depth = layout.bit_depth;
  image.icc_profile = layout.icc_profile;
  image.exif = layout.exif;
  for_each_band(layout, next_band, name, [&](const Image& band, int) {
    image.rgb.insert(image.rgb.end(), band.rgb.begin(), band.rgb.end());
    image.alpha.insert(image.alpha.end(), band.alpha.begin(), band.alpha.end());
  });
  return image;
}

float gray_value(const Image& image, std::size_t pixel) {
  const float* rgb = image.rgb.data() + pixel * 3;
  return (rgb[0] + rgb[1] + rgb[2]) / 3.0f;
}

std::vector<unsigned char> read_all(std::FILE* file, const std::string& name) {
  std::vector<unsigned char> bytes;
  std::array<unsigned char, 65536> chunk{};
  while (const std::size_t got = std::fread(chunk.data(), 1, chunk.size(), file)) {
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  }
  if (std::ferror(file)) throw Error(name + ": cannot read: " + std::strerror(errno));
  return bytes;
}

}  // namespace codecs

Image read_image(const std::filesystem::path& path, const ReadOptions& options) {
  const std::string name = path.string();
  check_regular_file(path);
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) throw Error(name + ": cannot open: " + std::strerror(errno));

  std::array<unsigned char, 12> head{};
  const std::size_t got = std::fread(head.data(), 1, head.size(), file.get());
  if (std::ferror(file.get())) throw Error(name + ": cannot read: " + std::strerror(errno));
  if (got == 0) throw Error(name + ": empty file, not an image");
  if (std::fseek(file.get(), 0, SEEK_SET) != 0) {
    throw Error(name + ": cannot read: " + std::strerror(errno));
  }
  try {
    return oriented(decode(file.get(), detect_format(head.data(), got), name, options));
  } catch (const std::bad_alloc&) {
    throw Error(name + ": out of memory while decoding (--max-pixels N refuses such images first)");
  }
}

void check_output_format(const std::filesystem::path& path) {
  if (!is_writable_image_path(path)) {
    throw Error(path.string() + ": unknown image format '" + path.extension().string() +
                "' (use .png, .jpg, .jpeg, .webp, .tif or .tiff)");
  }
}

void write_image(const Image& image, const std::filesystem::path& path,
                 const WriteOptions& options) {
  check_consistent(image, path.string());
  write_image_bands(
      layout_of(image), path, [&](int) -> const Image& { return image; }, options);
}

ImageLayout layout_of(const Image& image) {
  return {.width = image.width,
          .height = image.height,
          .gray = image.gray,
          .alpha = image.has_alpha(),
          .bit_depth = image.bit_depth,
          .icc_profile = image.icc_profile,
          .exif = image.exif};
}

void write_image_bands(const ImageLayout& layout, const std::filesystem::path& path,
                       const BandSource& next_band, const WriteOptions& options) {
  const std::string name = path.string();
  const std::string ext = lowercase_extension(path);
  check_output_format(path);
  if (layout.width < 1 || layout.height < 1) {
    throw Error(name + ": cannot write an empty " + std::to_string(layout.width) + "x" +
                std::to_string(layout.height) + " image");
  }
  const auto write_with = [&](const auto& encode) {
    write_atomically(
        path,
        [&](const std::filesystem::path& temp) {
          write_file(temp, name, [&](std::FILE* file) { encode(file); });
        },
        options.existing);
  };
  if (ext == ".png" || ext == ".tif" || ext == ".tiff") {
    const int bit_depth = options.bit_depth.value_or(layout.bit_depth);
    if (bit_depth != 8 && bit_depth != 16) {
      throw Error(name + ": bit depth must be 8 or 16, not " + std::to_string(bit_depth));
    }
    write_with([&](std::FILE* file) {
      if (ext == ".png") {
        codecs::write_png(layout, next_band, file, name, bit_depth);
      } else {
        codecs::write_tiff(layout, next_band, file, name, bit_depth);
      }
    });
  } else {
    if (options.quality < 1 || options.quality > 100) {
      throw Error(name + ": quality must be in 1..100, not " + std::to_string(options.quality));
    }
    write_with([&](std::FILE* file) {
      if (ext == ".webp") {
        codecs::write_webp(codecs::gather_bands(layout, next_band, name), file, name,
                           options.quality);
      } else {
        codecs::write_jpeg(layout, next_band, file, name, options.quality);
      }
    });
  }
}

bool is_writable_image_path(const std::filesystem::path& path) {
  static constexpr std::array<std::string_view, 6> kExtensions = {".png",  ".jpg", ".jpeg",
                                                                  ".webp", ".tif", ".tiff"};
  const std::string ext = lowercase_extension(path);
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

bool is_readable_image_path(const std::filesystem::path& path) {
  return is_writable_image_path(path) || lowercase_extension(path) == ".bmp";
}

PixelLayout pixel_layout(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb8:
      return {3, 1, false};
    case PixelFormat::kRgba8:
      return {4, 1, false};
    case PixelFormat::kBgr8:
      return {3, 1, true};
    case PixelFormat::kBgra8:
      return {4, 1, true};
    case PixelFormat::kRgb16:
      return {3, 2, false};
    case PixelFormat::kRgba16:
      return {4, 2, false};
  }
  throw Error("unknown pixel format " + std::to_string(static_cast<int>(format)));
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
