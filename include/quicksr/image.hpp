#pragma once
// Images as quicksr sees them: float RGB in [0,1] (never centred) plus an optional alpha plane.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "quicksr/output.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<float> rgb;    // interleaved RGB, row-major: rgb[(y * width + x) * 3 + c]
  std::vector<float> alpha;  // empty, or width * height values
  int bit_depth = 8;         // of the source file (8 or 16); writing keeps it by default
  bool gray = false;         // the source had one colour channel (R = G = B); written back as gray
  // Carried from the source file to outputs whose format can hold them (empty when absent).
  std::vector<unsigned char> icc_profile;  // ICC colour profile
  std::vector<unsigned char> exif;         // EXIF as a TIFF block ("II*\0"/"MM\0*"), orientation 1

  bool has_alpha() const { return !alpha.empty(); }
};

struct ReadOptions {
  // Guards against decompression bombs: larger images are rejected before decoding pixels. The
  // default, 8192 x 8192, keeps a read under ~1.2 GB (float RGB plus the decoder's rows).
  std::uint64_t max_pixels = 8192ull * 8192ull;
  // Accept JPEG files whose data is damaged (corrupt or truncated scans) as libjpeg decodes them,
  // instead of failing.
  bool lenient = false;
};

struct WriteOptions {
  int quality = 95;              // JPEG and WebP quality, 1..100
  std::optional<int> bit_depth;  // 8 or 16 (PNG and TIFF); default: the image's own
  ExistingFile existing = ExistingFile::kReplace;
};

// PNG (8/16-bit; gray, gray+alpha, RGB, RGBA, palette), JPEG, WebP, TIFF (8/16-bit) or BMP
// (8-bit channels), recognised by signature, not by extension. An EXIF orientation is applied
// to the pixels (and reset to 1 in Image::exif).
// Throws quicksr::Error naming the file for unreadable, malformed or oversized input.
Image read_image(const std::filesystem::path& path, const ReadOptions& options = {});

// Throws quicksr::Error naming `path` unless write_image knows its extension, so that a command
// can refuse before doing the work.
void check_output_format(const std::filesystem::path& path);

// Format from the extension, in any case: .png, .jpg/.jpeg, .webp, .tif/.tiff. Written to a
// temporary file and renamed, so a failure never leaves a partial file at `path`.
void write_image(const Image& image, const std::filesystem::path& path,
                 const WriteOptions& options = {});

// What write_image_bands needs before the first row: the size, kind and metadata of the image.
struct ImageLayout {
  int width = 0;
  int height = 0;
  bool gray = false;
  bool alpha = false;
  int bit_depth = 8;
  std::vector<unsigned char> icc_profile;
  std::vector<unsigned char> exif;
};
ImageLayout layout_of(const Image& image);

// Writes an image of `layout` one band of rows at a time, so that memory is bounded by a band
// (PNG, JPEG and TIFF; WebP encodes whole images, so its bands are gathered first):
// next_band(first_row) returns the rows from first_row on (an Image layout.width wide, at least one
// row, with alpha when layout.alpha). Format, options and atomicity as write_image.
using BandSource = std::function<const Image&(int first_row)>;
void write_image_bands(const ImageLayout& layout, const std::filesystem::path& path,
                       const BandSource& next_band, const WriteOptions& options = {});

// Interleaved pixels in the caller's memory (frame buffers), 8 or 16 bits a sample (16: the
// machine's byte order). The blue-first orders are OpenCV's cv::Mat and the B8G8R8A8 frame
// buffers of Direct3D, Vulkan and Windows.
enum class PixelFormat { kRgb8, kRgba8, kBgr8, kBgra8, kRgb16, kRgba16 };

struct PixelLayout {
  int channels;      // 3 or 4 (alpha last)
  int sample_bytes;  // 1 or 2
  bool blue_first;   // B, G, R (, A)
  std::size_t pixel_bytes() const { return static_cast<std::size_t>(channels) * sample_bytes; }
  int max_value() const { return sample_bytes == 1 ? 255 : 65535; }
  // Byte offset within a pixel of colour c (0 red, 1 green, 2 blue) or of alpha (3).
  std::size_t offset(int c) const {
    return static_cast<std::size_t>(blue_first && c < 3 ? 2 - c : c) * sample_bytes;
  }
};
// Throws quicksr::Error for a value outside the enum.
PixelLayout pixel_layout(PixelFormat format);

// width x height pixels of `format` in the caller's memory, rows `stride` bytes apart.
template <typename Data>  // const void for an input, void for an output
struct PixelBuffer {
  Data* data = nullptr;
  int width = 0;
  int height = 0;
  std::size_t stride = 0;
  PixelFormat format = PixelFormat::kRgb8;
};

// Planar 3xHxW view of the RGB part and back (alpha and source info are not carried).
Tensor to_tensor(const Image& image);
Image from_tensor(const Tensor& rgb);

// True when write_image knows the extension of `path` (any case).
bool is_writable_image_path(const std::filesystem::path& path);
// True for the extensions of the images read_image reads (any case): the writable ones and BMP.
// What folder runs (upscale, eval, quantize) take as their images.
bool is_readable_image_path(const std::filesystem::path& path);

}  // namespace quicksr
