#pragma once
// Images as quicksr sees them: float RGB in [0,1] (never centred) plus an optional alpha plane.
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

// Planar 3xHxW view of the RGB part and back (alpha and source info are not carried).
Tensor to_tensor(const Image& image);
Image from_tensor(const Tensor& rgb);

// True when write_image knows the extension of `path` (any case).
bool is_writable_image_path(const std::filesystem::path& path);

}  // namespace quicksr
