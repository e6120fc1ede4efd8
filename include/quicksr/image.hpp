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
  int jpeg_quality = 95;         // 1..100
  std::optional<int> bit_depth;  // 8 or 16 (PNG only); default: the image's own
  ExistingFile existing = ExistingFile::kReplace;
};

// PNG (8/16-bit; gray, gray+alpha, RGB, RGBA, palette), JPEG (EXIF orientation applied) or BMP
// (8-bit channels), recognised by signature, not by extension.
// Throws quicksr::Error naming the file for unreadable, malformed or oversized input.
Image read_image(const std::filesystem::path& path, const ReadOptions& options = {});

// Throws quicksr::Error naming `path` unless its extension is one write_image writes (.png, .jpg,
// .jpeg, in any letter case), so that a command can refuse before doing the work.
void check_output_format(const std::filesystem::path& path);

// Format from the extension (.png, .jpg, .jpeg, any case). Written to a temporary file and renamed,
// so a failure never leaves a partial file at `path`.
void write_image(const Image& image, const std::filesystem::path& path,
                 const WriteOptions& options = {});

// Planar 3xHxW view of the RGB part and back (alpha and source info are not carried).
Tensor to_tensor(const Image& image);
Image from_tensor(const Tensor& rgb);

}  // namespace quicksr
