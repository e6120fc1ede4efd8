// WebP through libwebp: pixels with the simple decode/encode API, ICC and EXIF chunks with the
// mux API (which also wraps a bare VP8/VP8L stream into the extended format when metadata exists).
#include <webp/decode.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "image/codecs.hpp"
#include "quicksr/error.hpp"

namespace quicksr::codecs {
namespace {

struct MuxDeleter {
  void operator()(WebPMux* mux) const { WebPMuxDelete(mux); }
};
using MuxPtr = std::unique_ptr<WebPMux, MuxDeleter>;

struct WebPDeleter {
  void operator()(std::uint8_t* data) const { ::WebPFree(data); }
};
using WebPBuffer = std::unique_ptr<std::uint8_t, WebPDeleter>;

std::vector<unsigned char> get_chunk(const WebPMux* mux, const char* fourcc) {
  WebPData chunk{};
  if (!mux || WebPMuxGetChunk(mux, fourcc, &chunk) != WEBP_MUX_OK) return {};
  return {chunk.bytes, chunk.bytes + chunk.size};
}

Image to_image(const std::uint8_t* samples, int width, int height, bool alpha) {
  const int channels = alpha ? 4 : 3;
  const std::size_t pixels = static_cast<std::size_t>(width) * height;
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(pixels * 3);
  if (alpha) image.alpha.resize(pixels);
  for (std::size_t i = 0; i < pixels; ++i) {
    for (int c = 0; c < 3; ++c) image.rgb[i * 3 + c] = samples[i * channels + c] / 255.0f;
    if (alpha) image.alpha[i] = samples[i * channels + 3] / 255.0f;
  }
  return image;
}

std::vector<std::uint8_t> to_samples(const Image& image) {
  const int channels = image.has_alpha() ? 4 : 3;
  const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
  std::vector<std::uint8_t> samples(pixels * channels);
  for (std::size_t i = 0; i < pixels; ++i) {
    for (int c = 0; c < 3; ++c) {
      const float value = image.gray ? gray_value(image, i) : image.rgb[i * 3 + c];
      samples[i * channels + c] = static_cast<std::uint8_t>(unit_to_sample(value, 255));
    }
    if (image.has_alpha()) samples[i * channels + 3] = unit_to_sample(image.alpha[i], 255);
  }
  return samples;
}

// The encoded image with the metadata chunks added (a copy of `encoded` when there are none).
std::vector<unsigned char> with_metadata(const Image& image, const WebPData& encoded,
                                         const std::string& name) {
  if (image.icc_profile.empty() && image.exif.empty()) {
    return {encoded.bytes, encoded.bytes + encoded.size};
  }
  const MuxPtr mux(WebPMuxNew());
  bool ok = mux && WebPMuxSetImage(mux.get(), &encoded, 1) == WEBP_MUX_OK;
  const WebPData icc{image.icc_profile.data(), image.icc_profile.size()};
  const WebPData exif{image.exif.data(), image.exif.size()};
  if (ok && icc.size > 0) ok = WebPMuxSetChunk(mux.get(), "ICCP", &icc, 1) == WEBP_MUX_OK;
  if (ok && exif.size > 0) ok = WebPMuxSetChunk(mux.get(), "EXIF", &exif, 1) == WEBP_MUX_OK;
  WebPData assembled{};
  if (ok) ok = WebPMuxAssemble(mux.get(), &assembled) == WEBP_MUX_OK;
  if (!ok) throw Error(name + ": cannot write WebP: adding the ICC/EXIF chunks failed");
  std::vector<unsigned char> bytes(assembled.bytes, assembled.bytes + assembled.size);
  WebPDataClear(&assembled);
  return bytes;
}

}  // namespace

Image read_webp(std::FILE* file, const std::string& name, const ReadOptions& options) {
  const std::vector<unsigned char> bytes = read_all(file, name);
  WebPBitstreamFeatures features{};
  if (WebPGetFeatures(bytes.data(), bytes.size(), &features) != VP8_STATUS_OK) {
    throw Error(name + ": invalid WebP: cannot read the header");
  }
  if (features.has_animation) throw Error(name + ": animated WebP images are not supported");
  check_pixel_limit(features.width, features.height, name, options);
  int width = 0;
  int height = 0;
  const WebPBuffer samples(features.has_alpha
                               ? WebPDecodeRGBA(bytes.data(), bytes.size(), &width, &height)
                               : WebPDecodeRGB(bytes.data(), bytes.size(), &width, &height));
  if (!samples) throw Error(name + ": invalid WebP: the image data does not decode");
  Image image = to_image(samples.get(), width, height, features.has_alpha != 0);

  const WebPData data{bytes.data(), bytes.size()};
  const MuxPtr mux(WebPMuxCreate(&data, 0));
  image.icc_profile = get_chunk(mux.get(), "ICCP");
  const std::vector<unsigned char> exif = get_chunk(mux.get(), "EXIF");
  image.exif = exif_block(exif.data(), exif.size());
  return image;
}

void write_webp(const Image& image, std::FILE* file, const std::string& name, int quality) {
  const std::vector<std::uint8_t> samples = to_samples(image);
  const int stride = image.width * (image.has_alpha() ? 4 : 3);
  std::uint8_t* output = nullptr;
  const std::size_t size =
      image.has_alpha()
          ? WebPEncodeRGBA(samples.data(), image.width, image.height, stride, quality, &output)
          : WebPEncodeRGB(samples.data(), image.width, image.height, stride, quality, &output);
  const WebPBuffer encoded(output);
  if (size == 0) {
    throw Error(name + ": cannot write WebP (at most 16383x16383 pixels): " +
                std::to_string(image.width) + "x" + std::to_string(image.height));
  }
  const std::vector<unsigned char> bytes = with_metadata(image, WebPData{output, size}, name);
  if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
    throw Error(name + ": cannot write: " + std::strerror(errno));
  }
}

}  // namespace quicksr::codecs
