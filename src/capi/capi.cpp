// The C API (include/quicksr/quicksr.h) over quicksr::Upscaler: buffers in and out, statuses
// instead of exceptions.
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/input_file.hpp"
#include "image/codecs.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quicksr.h"
#include "quicksr/upscaler.hpp"

struct quicksr_model {
  quicksr::Upscaler upscaler;
  std::string name;
};

namespace {

// This thread's last error: the message, or a constant when there was no memory for one.
thread_local std::string last_error_text;
thread_local const char* last_error = "";

// Thrown for a model file that cannot be opened, so that it gets QUICKSR_ERROR_FILE.
class FileError : public quicksr::Error {
 public:
  using Error::Error;
};

// Records the concatenated `parts` as this thread's last error. Never throws: no exception may
// leave the C API, so a constant message stands in when building this one fails.
quicksr_status fail(quicksr_status status, std::initializer_list<const char*> parts) noexcept {
  try {
    std::string message;
    for (const char* part : parts) message += part;
    last_error_text = std::move(message);
    last_error = last_error_text.c_str();
  } catch (...) {
    last_error = "quicksr: out of memory (the error message was lost)";
  }
  return status;
}

// Runs `body`, turning every exception into a status and a message prefixed with `function`.
// Each entry point does all its work (messages included) in here.
template <typename Body>
quicksr_status guarded(const char* function, quicksr_status model_status, Body&& body) noexcept {
  try {
    body();
    return QUICKSR_OK;
  } catch (const quicksr::ArgumentError& e) {
    return fail(QUICKSR_ERROR_ARGUMENT, {function, ": ", e.what()});
  } catch (const FileError& e) {
    return fail(QUICKSR_ERROR_FILE, {function, ": ", e.what()});
  } catch (const quicksr::Error& e) {
    return fail(model_status, {function, ": ", e.what()});
  } catch (const std::bad_alloc&) {
    return fail(QUICKSR_ERROR_MEMORY, {function, ": out of memory"});
  } catch (const std::exception& e) {
    return fail(QUICKSR_ERROR_INTERNAL, {function, ": internal error: ", e.what()});
  } catch (...) {
    return fail(QUICKSR_ERROR_INTERNAL, {function, ": internal error"});
  }
}

void require(bool condition, const char* problem) {
  if (!condition) throw quicksr::ArgumentError(problem);
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
  throw quicksr::ArgumentError("unknown pixel format " + std::to_string(format));
}

// Checked here, before the model file is read (the upscaler checks it too, after).
quicksr::UpscalerOptions upscaler_options(int threads) {
  quicksr::check_thread_count(threads);
  return {.threads = threads};
}

// Throws FileError unless `path` is a regular file that opens: a folder (which fopen opens on
// Linux) would fail later as a bad model, and a FIFO is checked by type because opening it blocks.
void check_model_file(const char* path) {
  try {
    quicksr::check_regular_file(path);
  } catch (const quicksr::Error& e) {
    throw FileError(e.what());
  }
  std::FILE* file = std::fopen(path, "rb");
  if (!file) {
    const int error = errno;
    throw FileError(std::string(path) + ": cannot open: " + quicksr::error_text(error));
  }
  std::fclose(file);
}

// The exact scale of a built-in model: scales are n/1 or n/2 (1.5), so twice the scale is whole.
quicksr::Scale builtin_scale(double scale) {
  const double doubled = 2.0 * scale;
  if (!(doubled >= 1.0 && doubled <= 64.0) || doubled != std::floor(doubled)) {
    throw quicksr::ArgumentError("scale " + std::to_string(scale) + " is not 2, 3, 4 or 1.5");
  }
  const int twice = static_cast<int>(doubled);
  return twice % 2 == 0 ? quicksr::Scale{twice / 2, 1} : quicksr::Scale{twice, 2};
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

const char* quicksr_last_error(void) { return last_error; }

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
  return guarded("quicksr_model_load", QUICKSR_ERROR_MODEL, [&] {
    require(model, "model is NULL");
    *model = nullptr;
    require(path, "path is NULL");
    const quicksr::UpscalerOptions options = upscaler_options(threads);
    check_model_file(path);
    store_model(quicksr::Upscaler::load(path, options), model);
  });
}

quicksr_status quicksr_model_load_builtin(double scale, int threads, quicksr_model** model) {
  return guarded("quicksr_model_load_builtin", QUICKSR_ERROR_MODEL, [&] {
    require(model, "model is NULL");
    *model = nullptr;
    const quicksr::UpscalerOptions options = upscaler_options(threads);
    store_model(quicksr::Upscaler::builtin(builtin_scale(scale), options), model);
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
