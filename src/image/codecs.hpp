#pragma once
// The per-format codecs behind read_image and write_image. image.cpp owns the files (opening,
// format detection, atomic replacement); the codecs only see an open FILE* and the name to put
// in error messages.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "quicksr/image.hpp"

namespace quicksr::codecs {

Image read_png(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_jpeg(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_bmp(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_webp(std::FILE* file, const std::string& name, const ReadOptions& options);
Image read_tiff(std::FILE* file, const std::string& name, const ReadOptions& options);

void write_png(const Image& image, std::FILE* file, const std::string& name, int bit_depth);
void write_jpeg(const Image& image, std::FILE* file, const std::string& name, int quality);
void write_webp(const Image& image, std::FILE* file, const std::string& name, int quality);
void write_tiff(const Image& image, std::FILE* file, const std::string& name, int bit_depth);

// The whole rest of `file` (for decoders that take a memory buffer).
std::vector<unsigned char> read_all(std::FILE* file, const std::string& name);

// Throws if a width x height image read from `name` would exceed the pixel limit.
void check_pixel_limit(std::uint64_t width, std::uint64_t height, const std::string& name,
                       const ReadOptions& options);

// The value written for one pixel of a gray image (R = G = B by contract; the mean absorbs any
// drift a processing step introduced).
float gray_value(const Image& image, std::size_t pixel);

// A [0,1] value as an integer in 0..max_value, rounded to nearest; NaN and negatives map to 0.
std::uint16_t quantize(float value, int max_value);

// The EXIF orientation (1..8) of a TIFF-structured EXIF block, which is reset to 1 in place;
// 1 if absent or invalid.
int take_exif_orientation(std::vector<unsigned char>& tiff);

// An EXIF payload as Image::exif holds it: without a leading "Exif\0\0" (JPEG APP1, some WebP
// writers); empty unless it starts with a TIFF header.
std::vector<unsigned char> exif_block(const unsigned char* data, std::size_t size);

// The image as it should be displayed, for an EXIF orientation 1..8.
Image apply_orientation(Image stored, int orientation);

}  // namespace quicksr::codecs
