// JPEG through libjpeg(-turbo). libjpeg reports errors through error_exit, which must not
// return: ours longjmps back into `guarded`, a frame that owns nothing with a destructor, and
// the formatted message becomes a quicksr::Error once control is back in plain C++.
#include <cstdint>
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "image/codecs.hpp"
#include "quicksr/error.hpp"

namespace quicksr::codecs {
namespace {

struct JpegErrorManager {
  jpeg_error_mgr base;  // first member: libjpeg only sees &base
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool lenient = false;  // accept damaged data (libjpeg's best-effort image)
  bool damaged = false;  // the error is a warning about damaged data
};

void on_jpeg_error(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrorManager*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

// libjpeg only warns about damaged data (truncation, bad Huffman codes, lost synchronisation) and
// returns a grey-filled or garbled image: an error for quicksr unless lenient. Stray bytes between
// markers and warnings about metadata leave a correct image, and trace messages are noise: both
// are dropped instead of printed.
void on_jpeg_message(j_common_ptr info, int level) {
  auto* errors = reinterpret_cast<JpegErrorManager*>(info->err);
  const int code = info->err->msg_code;
  const bool metadata_only = code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR ||
                             code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC;
  if (level < 0 && !metadata_only && !errors->lenient) {
    errors->damaged = true;
    (*info->err->error_exit)(info);
  }
}

template <typename Step>
bool guarded(JpegErrorManager& errors, const Step& step) {
  if (setjmp(errors.jump)) return false;
  step();
  return true;
}

// Owns a libjpeg decompress or compress object; run() executes libjpeg calls and throws on
// their errors.
template <typename Info>
class JpegContext {
 public:
  // `failure` introduces the library's message, e.g. ": invalid JPEG: ".
  JpegContext(const std::string& name, const char* failure) : name_(name), failure_(failure) {
    info_.err = jpeg_std_error(&errors_.base);
    errors_.base.error_exit = on_jpeg_error;
    errors_.base.emit_message = on_jpeg_message;
    const bool created = guarded(errors_, [&] {
      if constexpr (std::is_same_v<Info, jpeg_decompress_struct>) {
        jpeg_create_decompress(&info_);
      } else {
        jpeg_create_compress(&info_);
      }
    });
    if (!created) {
      destroy();
      throw Error(name_ + failure_ + errors_.message);
    }
  }
  JpegContext(const JpegContext&) = delete;
  JpegContext& operator=(const JpegContext&) = delete;
  ~JpegContext() { destroy(); }

  Info& info() { return info_; }
  void set_lenient(bool lenient) { errors_.lenient = lenient; }

  template <typename Step>
  void run(const Step& step) {
    if (guarded(errors_, step)) return;
    throw Error(name_ + failure_ + errors_.message +
                (errors_.damaged ? " (--lenient reads damaged files anyway)" : ""));
  }

 private:
  void destroy() { jpeg_destroy(reinterpret_cast<j_common_ptr>(&info_)); }

  std::string name_;
  const char* failure_;
  JpegErrorManager errors_{};
  Info info_{};
};

// The first APP1 segment that carries EXIF data, as a TIFF block (empty when none does).
std::vector<unsigned char> find_exif(const jpeg_decompress_struct& info) {
  for (jpeg_saved_marker_ptr marker = info.marker_list; marker; marker = marker->next) {
    if (marker->marker != JPEG_APP0 + 1) continue;
    std::vector<unsigned char> exif = exif_block(marker->data, marker->data_length);
    if (!exif.empty()) return exif;
  }
  return {};
}

std::vector<unsigned char> find_icc_profile(j_decompress_ptr info) {
  JOCTET* data = nullptr;
  unsigned int size = 0;
  if (!jpeg_read_icc_profile(info, &data, &size)) return {};
  std::vector<unsigned char> profile(data, data + size);
  std::free(data);
  return profile;
}

// APP1 holds at most 65533 bytes; a larger EXIF block (rare: huge thumbnails) is dropped.
void write_exif(j_compress_ptr info, const std::vector<unsigned char>& exif) {
  static constexpr unsigned char kExifHeader[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (exif.empty() || exif.size() + sizeof kExifHeader > 65533) return;
  std::vector<unsigned char> payload(kExifHeader, kExifHeader + sizeof kExifHeader);
  payload.insert(payload.end(), exif.begin(), exif.end());
  jpeg_write_marker(info, JPEG_APP0 + 1, payload.data(), static_cast<unsigned>(payload.size()));
}

Image to_image(const std::vector<JSAMPLE>& samples, std::size_t width, std::size_t height,
               bool gray) {
  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.gray = gray;
  image.bit_depth = 8;
  image.rgb.resize(width * height * 3);
  for (std::size_t i = 0; i < width * height; ++i) {
    for (int c = 0; c < 3; ++c) {
      image.rgb[i * 3 + c] = static_cast<float>(samples[gray ? i : i * 3 + c]) / 255.0f;
    }
  }
  return image;
}

}  // namespace

Image read_jpeg(std::FILE* file, const std::string& name, const ReadOptions& options) {
  JpegContext<jpeg_decompress_struct> decoder(name, ": invalid JPEG: ");
  jpeg_decompress_struct& info = decoder.info();
  decoder.set_lenient(options.lenient);
  decoder.run([&] {
    jpeg_stdio_src(&info, file);
    jpeg_save_markers(&info, JPEG_APP0 + 1, 0xFFFF);  // EXIF
    jpeg_save_markers(&info, JPEG_APP0 + 2, 0xFFFF);  // ICC profile chunks
    jpeg_read_header(&info, TRUE);
  });
  check_pixel_limit(info.image_width, info.image_height, name, options);
  if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
    throw Error(name + ": CMYK JPEG images are not supported (convert the file to RGB)");
  }
  // Saved markers live in libjpeg's image pool, which jpeg_finish_decompress frees.
  std::vector<unsigned char> exif = find_exif(info);
  std::vector<unsigned char> icc_profile;
  decoder.run([&] { icc_profile = find_icc_profile(&info); });
  const bool gray = info.num_components == 1;
  info.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  decoder.run([&] { jpeg_start_decompress(&info); });

  const std::size_t width = info.output_width;
  const std::size_t height = info.output_height;
  const std::size_t stride = width * info.output_components;
  std::vector<JSAMPLE> samples(stride * height);
  decoder.run([&] {
    while (info.output_scanline < info.output_height) {
      JSAMPROW row = samples.data() + info.output_scanline * stride;
      jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
  });
  Image image = to_image(samples, width, height, gray);
  image.exif = std::move(exif);
  image.icc_profile = std::move(icc_profile);
  return image;
}

void write_jpeg(const ImageLayout& layout, const BandSource& next_band, std::FILE* file,
                const std::string& name, int quality) {
  const int components = layout.gray ? 1 : 3;
  const std::size_t stride = static_cast<std::size_t>(layout.width) * components;

  JpegContext<jpeg_compress_struct> encoder(name, ": cannot write JPEG: ");
  jpeg_compress_struct& info = encoder.info();
  encoder.run([&] {
    jpeg_stdio_dest(&info, file);
    info.image_width = static_cast<JDIMENSION>(layout.width);
    info.image_height = static_cast<JDIMENSION>(layout.height);
    info.input_components = components;
    info.in_color_space = layout.gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    // Optimized Huffman tables: smaller files at no quality cost, but libjpeg then keeps every DCT
    // coefficient of the image (~3 bytes per pixel) until the end; off for large images, so that
    // a banded write stays bounded (measured: 15360x11520 peaked at 900 MB with it, 410 MB as PNG).
    constexpr std::uint64_t kMaxOptimizedPixels = 16ull << 20;
    info.optimize_coding =
        static_cast<std::uint64_t>(layout.width) * layout.height <= kMaxOptimizedPixels;
    jpeg_start_compress(&info, TRUE);
    write_exif(&info, layout.exif);  // APP1 right after JFIF's APP0, as readers expect
    if (!layout.icc_profile.empty()) {
      jpeg_write_icc_profile(&info, layout.icc_profile.data(),
                             static_cast<unsigned>(layout.icc_profile.size()));
    }
  });
  std::vector<JSAMPLE> samples;
  for_each_band(layout, next_band, name, [&](const Image& band, int first_row) {
    const std::size_t pixel_count = static_cast<std::size_t>(band.width) * band.height;
    samples.resize(pixel_count * components);
    for (std::size_t i = 0; i < pixel_count; ++i) {
      if (layout.gray) {
        samples[i] = static_cast<JSAMPLE>(unit_to_sample(gray_value(band, i), 255));
      } else {
        for (int c = 0; c < 3; ++c) {
          samples[i * 3 + c] = static_cast<JSAMPLE>(unit_to_sample(band.rgb[i * 3 + c], 255));
        }
      }
    }
    const JDIMENSION end = info.next_scanline + static_cast<JDIMENSION>(band.height);
    encoder.run([&] {
      while (info.next_scanline < end) {
        JSAMPROW row = samples.data() + (info.next_scanline - first_row) * stride;
        jpeg_write_scanlines(&info, &row, 1);
      }
    });
  });
  encoder.run([&] { jpeg_finish_compress(&info); });
}

}  // namespace quicksr::codecs
