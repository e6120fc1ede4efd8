#pragma once
// The per-format codecs behind read_image and write_image. image.cpp owns the files (opening,
// format detection, atomic replacement); the codecs only see an open FILE* and the name to put
// in error messages.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "common/samples.hpp"
#include "quicksr/image.hpp"

namespace quicksr::codecs {

Image read_png(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_jpeg(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_bmp(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_webp(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_tiff(std::FILE* file, const std::string& name, const ReadOptions& options);

// The row-based writers take the image band by band (write_image_bands); WebP takes it whole.
void write_png(const ImageLayout& layout, const BandSource& next_band, std::FILE* file,
               const std::string& name, int bit_depth);
void write_jpeg(const ImageLayout& layout, const BandSource& next_band, std::FILE* file,
                const std::string& name, int quality);
void write_tiff(const ImageLayout& layout, const BandSource& next_band, std::FILE* file,
                const std::string& name, int bit_depth);
void write_webp(const Image& image, std::FILE* file, const std::string& name, int quality);

// Calls write_rows(band, first_row) for every band next_band gives until layout.height rows are
// done; throws naming `name` when a band does not fit the layout.
void for_each_band(const ImageLayout& layout, const BandSource& next_band, const std::string& name,
                   const std::function<void(const Image& band, int first_row)>& write_rows);
// All bands as one image (for encoders that need the whole image).
Image gather_bands(const ImageLayout& layout, const BandSource& next_band, const std::string& name);

// The whole rest of `file` (for decoders that take a memory buffer).
std::vector<unsigned char> read_all(std::FILE* file, const std::string& name);

// Throws if a width x height image read from `name` would exceed the pixel limit.
void check_pixel_limit(std::uint64_t width, std::uint64_t height, const std::string& name,
                       const ReadOptions& options);

// The value written for one pixel of a gray image (R = G = B by contract; the mean absorbs any
// drift a processing step introduced).
float gray_value(const Image& image, std::size_t pixel);

// The EXIF orientation (1..8) of a TIFF-structured EXIF block, which is reset to 1 in place;
// 1 if absent or invalid.
int take_exif_orientation(std::vector<unsigned char>& tiff);

// An EXIF payload as Image::exif holds it: without a leading "Exif\0\0" (JPEG APP1, some WebP
// writers); empty unless it starts with a TIFF header.
std::vector<unsigned char> exif_block(const unsigned char* data, std::size_t size);

// The image as it should be displayed, for an EXIF orientation 1..8.
Image apply_orientation(Image stored, int orientation);

}  // namespace quicksr::codecs
