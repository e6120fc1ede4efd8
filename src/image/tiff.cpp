// TIFF through libtiff. Strip images of 8/16-bit gray or RGB (with or without alpha) are read
// sample-exact; anything else libtiff can decode (palette, YCbCr, CMYK, tiles, 1-bit...) goes
// through its 8-bit RGBA conversion. Written: deflate-compressed, 8 or 16 bits, with the ICC
// profile (TIFF keeps EXIF in a sub-directory of its own, which is not written).
#include <tiffio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "image/codecs.hpp"
#include "quicksr/error.hpp"

namespace quicksr::codecs {
namespace {

int keep_error(TIFF*, void* user_data, const char*, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  auto* message = static_cast<std::string*>(user_data);
  if (message->empty()) *message = text;
  return 1;  // handled: libtiff's global handler would print to stderr
}

int ignore_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
  void operator()(TIFF* tiff) const { TIFFClose(tiff); }
};

// A libtiff handle on a duplicate of the stream's descriptor (TIFFClose closes the duplicate;
// the caller still owns and closes `file`), and the first error libtiff reported.
class TiffFile {
 public:
  // `max_allocation`: the largest single allocation libtiff may make (0: its default).
  TiffFile(std::FILE* file, const std::string& name, const char* mode,
           std::uint64_t max_allocation = 0)
      : name_(name) {
    std::fflush(file);
    const int fd = ::dup(fileno(file));
    if (fd < 0 || ::lseek(fd, 0, SEEK_SET) < 0) throw Error(name + ": cannot open as TIFF");
    TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(options, keep_error, &message_);
    TIFFOpenOptionsSetWarningHandlerExtR(options, ignore_warning, nullptr);
    if (max_allocation > 0) {
      TIFFOpenOptionsSetMaxSingleMemAlloc(options, static_cast<tmsize_t>(max_allocation));
    }
    tiff_.reset(TIFFFdOpenExt(fd, name.c_str(), mode, options));
    TIFFOpenOptionsFree(options);
    if (!tiff_) {
      ::close(fd);
      fail(mode[0] == 'r' ? ": invalid TIFF: " : ": cannot write TIFF: ");
    }
  }

  TIFF* get() const { return tiff_.get(); }

  // Throws the recorded libtiff message, introduced by `what`.
  [[noreturn]] void fail(const char* what) const {
    throw Error(name_ + what + (message_.empty() ? "libtiff failed" : message_));
  }

 private:
  std::string name_;
  std::string message_;
  std::unique_ptr<TIFF, TiffCloser> tiff_;
};

struct Layout {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint16_t samples = 1;
  std::uint16_t bits = 1;
  std::uint16_t photometric = PHOTOMETRIC_MINISBLACK;
  std::uint16_t planar = PLANARCONFIG_CONTIG;
  std::uint16_t orientation = ORIENTATION_TOPLEFT;
  std::uint16_t extra_samples = 0;
};

Layout read_layout(TIFF* tiff) {
  Layout layout;
  TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &layout.width);
  TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &layout.height);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLESPERPIXEL, &layout.samples);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_BITSPERSAMPLE, &layout.bits);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_PHOTOMETRIC, &layout.photometric);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_PLANARCONFIG, &layout.planar);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_ORIENTATION, &layout.orientation);
  std::uint16_t* kinds = nullptr;
  TIFFGetFieldDefaulted(tiff, TIFFTAG_EXTRASAMPLES, &layout.extra_samples, &kinds);
  return layout;
}

// libtiff allocates a whole strip or tile before decoding it, sized by the file's tags: 2561
// samples per pixel made a 4-megapixel strip 10 GB (fuzz_image_read), and a tile may be far larger
// than its image. Samples per pixel are bounded, and a strip or tile must not need more bytes than
// kMaxBytesPerPixel per pixel of the image (of a 1024x1024 tile, for small tiled images).
constexpr int kMaxSamples = 8;
constexpr std::uint64_t kMaxBytesPerPixel = 16;  // 8 samples of 16 bits

void check_block_size(const TiffFile& file, const Layout& layout, const std::string& name) {
  if (layout.samples < 1 || layout.samples > kMaxSamples) {
    throw Error(name + ": unsupported TIFF: " + std::to_string(layout.samples) +
                " samples per pixel (at most " + std::to_string(kMaxSamples) + ")");
  }
  const bool tiled = TIFFIsTiled(file.get());
  const std::uint64_t pixels = std::uint64_t{layout.width} * layout.height;
  const std::uint64_t allowed =
      kMaxBytesPerPixel * (tiled ? std::max<std::uint64_t>(pixels, 1u << 20) : pixels);
  const std::uint64_t block = tiled ? TIFFTileSize64(file.get()) : TIFFStripSize64(file.get());
  if (block > allowed) {
    throw Error(name + ": invalid TIFF: a " + (tiled ? "tile" : "strip") + " of " +
                std::to_string(block) + " bytes for " + std::to_string(layout.width) + "x" +
                std::to_string(layout.height) + " pixels");
  }
}

bool read_exactly(const Layout& layout, TIFF* tiff) {
  const int colour = layout.photometric == PHOTOMETRIC_RGB ? 3 : 1;
  return (layout.bits == 8 || layout.bits == 16) && layout.planar == PLANARCONFIG_CONTIG &&
         !TIFFIsTiled(tiff) &&
         (layout.photometric == PHOTOMETRIC_RGB || layout.photometric == PHOTOMETRIC_MINISBLACK) &&
         (layout.samples == colour || layout.samples == colour + 1);
}

Image by_scanlines(const TiffFile& file, const Layout& layout) {
  const bool gray = layout.photometric == PHOTOMETRIC_MINISBLACK;
  const int colour = gray ? 1 : 3;
  const bool alpha = layout.samples == colour + 1;
  const float max_value = layout.bits == 16 ? 65535.0f : 255.0f;
  Image image;
  image.width = static_cast<int>(layout.width);
  image.height = static_cast<int>(layout.height);
  image.gray = gray;
  image.bit_depth = layout.bits;
  image.rgb.resize(static_cast<std::size_t>(layout.width) * layout.height * 3);
  if (alpha) image.alpha.resize(static_cast<std::size_t>(layout.width) * layout.height);
  std::vector<unsigned char> row(TIFFScanlineSize(file.get()));
  for (std::uint32_t y = 0; y < layout.height; ++y) {
    if (TIFFReadScanline(file.get(), row.data(), y, 0) < 0) file.fail(": invalid TIFF: ");
    for (std::uint32_t x = 0; x < layout.width; ++x) {
      const auto sample = [&](int s) {
        const std::size_t at = static_cast<std::size_t>(x) * layout.samples + s;
        if (layout.bits == 8) return row[at] / max_value;
        std::uint16_t value;
        std::memcpy(&value, row.data() + at * 2, 2);  // libtiff gives native byte order
        return value / max_value;
      };
      const std::size_t pixel = static_cast<std::size_t>(y) * layout.width + x;
      for (int c = 0; c < 3; ++c) image.rgb[pixel * 3 + c] = sample(gray ? 0 : c);
      if (alpha) image.alpha[pixel] = sample(colour);
    }
  }
  return apply_orientation(std::move(image), layout.orientation);
}

Image by_rgba(const TiffFile& file, const Layout& layout) {
  std::vector<std::uint32_t> raster(static_cast<std::size_t>(layout.width) * layout.height);
  if (!TIFFReadRGBAImageOriented(file.get(), layout.width, layout.height, raster.data(),
                                 ORIENTATION_TOPLEFT, 0)) {
    file.fail(": invalid TIFF: ");
  }
  Image image;
  image.width = static_cast<int>(layout.width);
  image.height = static_cast<int>(layout.height);
  image.rgb.resize(raster.size() * 3);
  if (layout.extra_samples > 0) image.alpha.resize(raster.size());
  for (std::size_t i = 0; i < raster.size(); ++i) {
    image.rgb[i * 3 + 0] = TIFFGetR(raster[i]) / 255.0f;
    image.rgb[i * 3 + 1] = TIFFGetG(raster[i]) / 255.0f;
    image.rgb[i * 3 + 2] = TIFFGetB(raster[i]) / 255.0f;
    if (image.has_alpha()) image.alpha[i] = TIFFGetA(raster[i]) / 255.0f;
  }
  return image;
}

}  // namespace

Image read_tiff(std::FILE* file, const std::string& name, const ReadOptions& options) {
  // The cap catches what check_block_size cannot see (a codec's own buffers).
  const TiffFile tiff(file, name, "r",
                      kMaxBytesPerPixel * std::max<std::uint64_t>(options.max_pixels, 1u << 20));
  const Layout layout = read_layout(tiff.get());
  check_pixel_limit(layout.width, layout.height, name, options);
  if (layout.width == 0 || layout.height == 0) throw Error(name + ": invalid TIFF: no pixels");
  check_block_size(tiff, layout, name);
  Image image =
      read_exactly(layout, tiff.get()) ? by_scanlines(tiff, layout) : by_rgba(tiff, layout);
  std::uint32_t profile_size = 0;
  void* profile = nullptr;
  if (TIFFGetField(tiff.get(), TIFFTAG_ICCPROFILE, &profile_size, &profile) && profile) {
    const auto* bytes = static_cast<const unsigned char*>(profile);
    image.icc_profile.assign(bytes, bytes + profile_size);
  }
  return image;
}

void write_tiff(const ImageLayout& layout, const BandSource& next_band, std::FILE* file,
                const std::string& name, int bit_depth) {
  const TiffFile tiff(file, name, "w");
  TIFF* out = tiff.get();
  const bool alpha = layout.alpha;
  const int colour = layout.gray ? 1 : 3;
  const int samples = colour + (alpha ? 1 : 0);
  TIFFSetField(out, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(layout.width));
  TIFFSetField(out, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(layout.height));
  TIFFSetField(out, TIFFTAG_SAMPLESPERPIXEL, static_cast<std::uint16_t>(samples));
  TIFFSetField(out, TIFFTAG_BITSPERSAMPLE, static_cast<std::uint16_t>(bit_depth));
  TIFFSetField(out, TIFFTAG_PHOTOMETRIC, layout.gray ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB);
  TIFFSetField(out, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(out, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField(out, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
  TIFFSetField(out, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(out, 0));
  if (alpha) {
    const std::uint16_t kind = EXTRASAMPLE_UNASSALPHA;  // straight alpha, as PNG and WebP
    TIFFSetField(out, TIFFTAG_EXTRASAMPLES, 1, &kind);
  }
  if (!layout.icc_profile.empty()) {
    TIFFSetField(out, TIFFTAG_ICCPROFILE, static_cast<std::uint32_t>(layout.icc_profile.size()),
                 layout.icc_profile.data());
  }
  const std::size_t width = layout.width;
  std::vector<unsigned char> row(width * samples * (bit_depth / 8));
  const int max_value = bit_depth == 16 ? 65535 : 255;
  for_each_band(layout, next_band, name, [&](const Image& band, int first_row) {
    for (int y = 0; y < band.height; ++y) {
      for (std::size_t x = 0; x < width; ++x) {
        const std::size_t pixel = y * width + x;
        const auto put = [&](int s, float value) {
          const std::uint16_t v = unit_to_sample(value, max_value);
          const std::size_t at = x * samples + s;
          if (bit_depth == 8) {
            row[at] = static_cast<unsigned char>(v);
          } else {
            std::memcpy(row.data() + at * 2, &v, 2);  // native order; libtiff records it
          }
        };
        for (int c = 0; c < colour; ++c) {
          put(c, layout.gray ? gray_value(band, pixel) : band.rgb[pixel * 3 + c]);
        }
        if (alpha) put(colour, band.alpha[pixel]);
      }
      if (TIFFWriteScanline(out, row.data(), static_cast<std::uint32_t>(first_row + y), 0) < 0) {
        tiff.fail(": cannot write TIFF: ");
      }
    }
  });
  if (!TIFFWriteDirectory(out)) tiff.fail(": cannot write TIFF: ");
}

}  // namespace quicksr::codecs
