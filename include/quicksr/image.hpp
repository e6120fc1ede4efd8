#pragma once
// Images as quicksr sees them: float RGB in [0,1] (never centred) plus an optional alpha plane.
#include <cstdint>
#include <filesystem>
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
  // Guards against decompression bombs: larger images are rejected before decoding pixels.
  std::uint64_t max_pixels = 16384ull * 16384ull;
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

// Planar 3xHxW view of the RGB part and back (alpha and source info are not carried).
Tensor to_tensor(const Image& image);
Image from_tensor(const Tensor& rgb);

// True when write_image knows the extension of `path` (any case).
bool is_writable_image_path(const std::filesystem::path& path);

}  // namespace quicksr
