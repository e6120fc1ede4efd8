// The C API (include/quicksr/quicksr.h) over quicksr::Upscaler: buffers in and out, statuses
// instead of exceptions.
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "image/codecs.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quicksr.h"
#include "quicksr/upscaler.hpp"

struct quicksr_model {
  quicksr::Upscaler upscaler;
  std::string name;
};

namespace {

thread_local std::string last_error;

// Thrown for bad arguments, so that they get QUICKSR_ERROR_ARGUMENT rather than _MODEL.
class ArgumentError : public quicksr::Error {
 public:
  using Error::Error;
};

quicksr_status fail(quicksr_status status, const std::string& message) {
  last_error = message;
  return status;
}

// Runs `body`, turning every exception into a status and a message.
template <typename Body>
quicksr_status guarded(const char* function, quicksr_status model_status, Body&& body) {
  try {
    body();
    return QUICKSR_OK;
  } catch (const ArgumentError& e) {
    return fail(QUICKSR_ERROR_ARGUMENT, std::string(function) + ": " + e.what());
  } catch (const quicksr::Error& e) {
    return fail(model_status, std::string(function) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return fail(QUICKSR_ERROR_MEMORY, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(QUICKSR_ERROR_INTERNAL, std::string(function) + ": internal error: " + e.what());
  } catch (...) {
    return fail(QUICKSR_ERROR_INTERNAL, std::string(function) + ": internal error");
  }
}

void require(bool condition, const char* problem) {
  if (!condition) throw ArgumentError(problem);
}

// Images larger than this on a side are refused (the engine's plans use int sizes).
constexpr int kMaxSide = 1 << 20;

struct PixelLayout {
  int channels;     // 3 or 4
  int sample_size;  // bytes: 1 or 2
  int max_value;    // 255 or 65535
  bool blue_first;  // BGR(A) rather than RGB(A)
  std::size_t pixel_bytes() const { return static_cast<std::size_t>(channels) * sample_size; }
  // Byte offset of colour c (0 red, 1 green, 2 blue) or of alpha (3) within a pixel.
  std::size_t offset(int c) const {
    return static_cast<std::size_t>(blue_first && c < 3 ? 2 - c : c) * sample_size;
  }
};

// C passes any int as an enum; reading an out-of-range value as the C++ enum type would be
// undefined, so the value is taken through its bytes.
template <typename Enum>
int raw_value(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int));
  int raw;
  std::memcpy(&raw, &value, sizeof raw);
  return raw;
}

PixelLayout layout_of(int format) {
  switch (format) {
    case QUICKSR_RGB8:
      return {3, 1, 255, false};
    case QUICKSR_RGBA8:
      return {4, 1, 255, false};
    case QUICKSR_RGB16:
      return {3, 2, 65535, false};
    case QUICKSR_RGBA16:
      return {4, 2, 65535, false};
    case QUICKSR_BGR8:
      return {3, 1, 255, true};
    case QUICKSR_BGRA8:
      return {4, 1, 255, true};
  }
  throw ArgumentError("unknown pixel format " + std::to_string(format));
}

float read_sample(const unsigned char* p, const PixelLayout& layout) {
  if (layout.sample_size == 1) return static_cast<float>(*p) / 255.0f;
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<float>(v) / 65535.0f;
}

void write_sample(unsigned char* p, float value, const PixelLayout& layout) {
  const std::uint16_t v = quicksr::codecs::quantize(value, layout.max_value);
  if (layout.sample_size == 1) {
    *p = static_cast<unsigned char>(v);
  } else {
    std::memcpy(p, &v, sizeof v);
  }
}

quicksr::Image to_image(const unsigned char* pixels, int width, int height, std::size_t stride,
                        const PixelLayout& layout) {
  quicksr::Image image;
  image.width = width;
  image.height = height;
  image.bit_depth = layout.sample_size * 8;
  const std::size_t count = static_cast<std::size_t>(width) * height;
  image.rgb.resize(count * 3);
  if (layout.channels == 4) image.alpha.resize(count);
  for (int y = 0; y < height; ++y) {
    const unsigned char* row = pixels + y * stride;
    for (int x = 0; x < width; ++x) {
      const unsigned char* pixel = row + x * layout.pixel_bytes();
      const std::size_t i = static_cast<std::size_t>(y) * width + x;
      for (int c = 0; c < 3; ++c)
        image.rgb[i * 3 + c] = read_sample(pixel + layout.offset(c), layout);
      if (layout.channels == 4) image.alpha[i] = read_sample(pixel + layout.offset(3), layout);
    }
  }
  return image;
}

void from_image(const quicksr::Image& image, unsigned char* pixels, std::size_t stride,
                const PixelLayout& layout) {
  for (int y = 0; y < image.height; ++y) {
    unsigned char* row = pixels + y * stride;
    for (int x = 0; x < image.width; ++x) {
      unsigned char* pixel = row + x * layout.pixel_bytes();
      const std::size_t i = static_cast<std::size_t>(y) * image.width + x;
      for (int c = 0; c < 3; ++c)
        write_sample(pixel + layout.offset(c), image.rgb[i * 3 + c], layout);
      if (layout.channels == 4) write_sample(pixel + layout.offset(3), image.alpha[i], layout);
    }
  }
}

void store_model(quicksr::Upscaler upscaler, quicksr_model** model) {
  std::string name = upscaler.name();
  *model = new quicksr_model{std::move(upscaler), std::move(name)};
}

struct Size {
  int width;
  int height;
};

Size output_size(const quicksr_model& model, int width, int height) {
  require(width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide,
          "width and height must be in 1..1048576");
  const Size size{model.upscaler.output_length(width), model.upscaler.output_length(height)};
  require(size.width >= 1 && size.height >= 1, "the input is too small for this model");
  return size;
}

}  // namespace

extern "C" {

const char* quicksr_version(void) { return QUICKSR_VERSION; }

const char* quicksr_last_error(void) { return last_error.c_str(); }

const char* quicksr_status_string(quicksr_status status) {
  switch (raw_value(status)) {
    case QUICKSR_OK:
      return "ok";
    case QUICKSR_ERROR_ARGUMENT:
      return "bad argument";
    case QUICKSR_ERROR_FILE:
      return "cannot open the file";
    case QUICKSR_ERROR_MODEL:
      return "bad or unsupported model";
    case QUICKSR_ERROR_MEMORY:
      return "out of memory";
    case QUICKSR_ERROR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

quicksr_status quicksr_model_load(const char* path, int threads, quicksr_model** model) {
  if (!model) return fail(QUICKSR_ERROR_ARGUMENT, "quicksr_model_load: model is NULL");
  *model = nullptr;
  if (!path) return fail(QUICKSR_ERROR_ARGUMENT, "quicksr_model_load: path is NULL");
  if (threads < 0) return fail(QUICKSR_ERROR_ARGUMENT, "quicksr_model_load: threads < 0");
  if (std::FILE* file = std::fopen(path, "rb")) {
    std::fclose(file);
  } else {
    return fail(QUICKSR_ERROR_FILE, std::string(path) + ": " + std::strerror(errno));
  }
  return guarded("quicksr_model_load", QUICKSR_ERROR_MODEL,
                 [&] { store_model(quicksr::Upscaler::load(path, {.threads = threads}), model); });
}

quicksr_status quicksr_model_load_builtin(double scale, int threads, quicksr_model** model) {
  if (!model) return fail(QUICKSR_ERROR_ARGUMENT, "quicksr_model_load_builtin: model is NULL");
  *model = nullptr;
  if (threads < 0) return fail(QUICKSR_ERROR_ARGUMENT, "quicksr_model_load_builtin: threads < 0");
  // Scales are n/1 or n/2 (1.5), so twice the scale is a whole number.
  const double doubled = 2.0 * scale;
  if (!(doubled >= 1.0 && doubled <= 64.0) || doubled != std::floor(doubled)) {
    return fail(QUICKSR_ERROR_ARGUMENT, "quicksr_model_load_builtin: scale " +
                                            std::to_string(scale) + " is not 2, 3, 4 or 1.5");
  }
  const int twice = static_cast<int>(doubled);
  const quicksr::Scale exact =
      twice % 2 == 0 ? quicksr::Scale{twice / 2, 1} : quicksr::Scale{twice, 2};
  return guarded("quicksr_model_load_builtin", QUICKSR_ERROR_MODEL, [&] {
    store_model(quicksr::Upscaler::builtin(exact, {.threads = threads}), model);
  });
}

void quicksr_model_free(quicksr_model* model) { delete model; }

double quicksr_model_scale(const quicksr_model* model) {
  return model ? model->upscaler.scale().value() : 0.0;
}

const char* quicksr_model_name(const quicksr_model* model) {
  return model ? model->name.c_str() : "";
}

quicksr_status quicksr_output_size(const quicksr_model* model, int width, int height,
                                   int* out_width, int* out_height) {
  return guarded("quicksr_output_size", QUICKSR_ERROR_MODEL, [&] {
    require(model && out_width && out_height, "model, out_width and out_height must not be NULL");
    const Size size = output_size(*model, width, height);
    *out_width = size.width;
    *out_height = size.height;
  });
}

quicksr_status quicksr_upscale(const quicksr_model* model, quicksr_format format, const void* input,
                               int width, int height, size_t input_stride, void* output,
                               size_t output_stride) {
  return guarded("quicksr_upscale", QUICKSR_ERROR_MODEL, [&] {
    require(model && input && output, "model, input and output must not be NULL");
    const PixelLayout layout = layout_of(raw_value(format));
    const auto [out_width, out_height] = output_size(*model, width, height);
    require(input_stride >= width * layout.pixel_bytes(), "input_stride is smaller than a row");
    require(output_stride >= out_width * layout.pixel_bytes(),
            "output_stride is smaller than an output row");
    const quicksr::Image image =
        to_image(static_cast<const unsigned char*>(input), width, height, input_stride, layout);
    const quicksr::Image result = model->upscaler.upscale(image);
    if (result.width != out_width || result.height != out_height) {
      throw std::logic_error("the model returned " + std::to_string(result.width) + "x" +
                             std::to_string(result.height) + ", not the announced " +
                             std::to_string(out_width) + "x" + std::to_string(out_height));
    }
    from_image(result, static_cast<unsigned char*>(output), output_stride, layout);
  });
}

}  // extern "C"
