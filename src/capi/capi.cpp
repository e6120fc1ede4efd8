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

// C passes any int as an enum; reading an out-of-range value as the C++ enum type would be
// undefined, so the value is taken through its bytes.
template <typename Enum>
int raw_value(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int));
  int raw;
  std::memcpy(&raw, &value, sizeof raw);
  return raw;
}

quicksr::PixelFormat pixel_format(int format) {
  switch (format) {
    case QUICKSR_RGB8:
      return quicksr::PixelFormat::kRgb8;
    case QUICKSR_RGBA8:
      return quicksr::PixelFormat::kRgba8;
    case QUICKSR_RGB16:
      return quicksr::PixelFormat::kRgb16;
    case QUICKSR_RGBA16:
      return quicksr::PixelFormat::kRgba16;
    case QUICKSR_BGR8:
      return quicksr::PixelFormat::kBgr8;
    case QUICKSR_BGRA8:
      return quicksr::PixelFormat::kBgra8;
  }
  throw ArgumentError("unknown pixel format " + std::to_string(format));
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
    const quicksr::PixelFormat pixels = pixel_format(raw_value(format));
    const auto [out_width, out_height] = output_size(*model, width, height);
    require(input_stride >= width * quicksr::pixel_layout(pixels).pixel_bytes(),
            "input_stride is smaller than a row");
    require(output_stride >= out_width * quicksr::pixel_layout(pixels).pixel_bytes(),
            "output_stride is smaller than an output row");
    model->upscaler.upscale({input, width, height, input_stride, pixels},
                            {output, out_width, out_height, output_stride, pixels});
  });
}

}  // extern "C"
