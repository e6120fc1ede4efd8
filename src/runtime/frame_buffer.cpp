// Upscaler::upscale on frame buffers: the caller's interleaved 8- or 16-bit pixels in and out,
// with the pixels of the Image path (read as v / max, network, alpha by bicubic, rounded back)
// and without its whole-image copies.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/samples.hpp"
#include "quicksr/error.hpp"
#include "quicksr/upscaler.hpp"
#include "runtime/upscaler_backend.hpp"

namespace quicksr {

void Upscaler::Backend::run_view(const RgbView<const float>& input,
                                 const RgbView<float>& output) const {
  Tensor planar(3, input.height, input.width);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < input.height; ++y) {
      for (int x = 0; x < input.width; ++x) planar.at(c, y, x) = input.at(y, x, c);
    }
  }
  const Tensor result = run(planar);
  if (result.width != output.width || result.height != output.height) {
    throw Error(name() + " made " + std::to_string(result.width) + "x" +
                std::to_string(result.height) + " pixels, not " + std::to_string(output.width) +
                "x" + std::to_string(output.height));
  }
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < output.height; ++y) {
      for (int x = 0; x < output.width; ++x) output.at(y, x, c) = result.at(c, y, x);
    }
  }
}

namespace {

// Samples at any byte address (16-bit rows need not be aligned).
template <typename Sample>
Sample load(const unsigned char* p) {
  Sample value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

template <typename Sample>
void store(unsigned char* p, unsigned value) {
  const auto sample = static_cast<Sample>(value);
  std::memcpy(p, &sample, sizeof sample);
}

// The bytes a buffer spans: rows `stride` apart, the last one only as long as its pixels. Throws
// when that passes PTRDIFF_MAX (a negative stride cast to size_t, say), where row offsets wrap.
std::size_t span_bytes(const PixelBuffer<const void>& buffer, const PixelLayout& layout,
                       const char* which) {
  constexpr auto kMaxSpan = static_cast<std::size_t>(PTRDIFF_MAX);
  const std::size_t row = static_cast<std::size_t>(buffer.width) * layout.pixel_bytes();
  const std::size_t rows_before_last = static_cast<std::size_t>(buffer.height) - 1;
  if (row > kMaxSpan ||
      (rows_before_last > 0 && buffer.stride > (kMaxSpan - row) / rows_before_last)) {
    throw ArgumentError(std::string("upscale: the ") + which +
                        " stride is too large (negative strides are not supported)");
  }
  return rows_before_last * buffer.stride + row;
}

// Strides of at least a row, spans that fit in memory, and buffers that do not overlap. Sizes
// are checked before.
void check_memory(const PixelBuffer<const void>& in, const PixelBuffer<void>& out,
                  const PixelLayout& layout) {
  if (in.stride < in.width * layout.pixel_bytes()) {
    throw ArgumentError("upscale: input stride < a row");
  }
  if (out.stride < out.width * layout.pixel_bytes()) {
    throw ArgumentError("upscale: output stride < a row");
  }
  const PixelBuffer<const void> out_read{out.data, out.width, out.height, out.stride, out.format};
  const std::size_t in_span = span_bytes(in, layout, "input");
  const std::size_t out_span = span_bytes(out_read, layout, "output");
  // As addresses: `<` between pointers into different objects is unspecified.
  const auto in_begin = reinterpret_cast<std::uintptr_t>(in.data);
  const auto out_begin = reinterpret_cast<std::uintptr_t>(out.data);
  if (in_begin < out_begin + out_span && out_begin < in_begin + in_span) {
    throw ArgumentError("upscale: the input and output buffers overlap");
  }
}

// All of these are the caller's arguments: ArgumentError, which the C API reports as such.
void check_buffers(const PixelBuffer<const void>& in, const PixelBuffer<void>& out,
                   const PixelLayout& layout, int out_width, int out_height) {
  if (!in.data || !out.data) throw ArgumentError("upscale: a pixel buffer is null");
  if (in.width < 1 || in.height < 1) {
    throw ArgumentError("upscale: the input is " + std::to_string(in.width) + "x" +
                        std::to_string(in.height) + " pixels");
  }
  if (out.format != in.format) {
    throw ArgumentError("upscale: the output's format is not the input's");
  }
  if (out_width < 1 || out_height < 1) {
    throw ArgumentError("upscale: the input is too small for this model");
  }
  if (out.width != out_width || out.height != out_height) {
    throw ArgumentError("upscale: the output of " + std::to_string(in.width) + "x" +
                        std::to_string(in.height) + " pixels is " + std::to_string(out_width) +
                        "x" + std::to_string(out_height) + ", not " + std::to_string(out.width) +
                        "x" + std::to_string(out.height));
  }
  check_memory(in, out, layout);
}

// An 8-bit buffer's colour samples as a view (red first, whatever the byte order).
template <typename Byte, typename Data>
RgbView<Byte> colour_view(const PixelBuffer<Data>& buffer, const PixelLayout& layout) {
  return {static_cast<Byte*>(buffer.data) + layout.offset(0),
          static_cast<std::ptrdiff_t>(buffer.stride),
          layout.channels,
          layout.blue_first ? -1 : 1,
          buffer.width,
          buffer.height};
}

// values[0..count) rounded to samples at `out`. Restrict (the byte stores cannot change the
// floats) lets the loop vectorise; noinline, as GCC 12 loses the restrict when it inlines.
template <typename Sample>
[[gnu::noinline]] void quantize_row(const float* __restrict values, unsigned char* __restrict out,
                                    int count, int max_sample) {
  for (int i = 0; i < count; ++i) {
    store<Sample>(out + i * sizeof(Sample), unit_to_sample(values[i], max_sample));
  }
}

// Colour of `in` through the float frames (16-bit pixels, backends without views).
template <typename Sample>
void run_through_floats(const Upscaler::Backend& backend, const PixelBuffer<const void>& in,
                        const PixelBuffer<void>& out, const PixelLayout& layout) {
  const std::lock_guard lock(backend.frames.mutex);
  std::vector<float>& input = backend.frames.input;
  std::vector<float>& output = backend.frames.output;
  input.resize(static_cast<std::size_t>(in.width) * in.height * 3);
  output.resize(static_cast<std::size_t>(out.width) * out.height * 3);
  const std::size_t pixel_bytes = layout.pixel_bytes();
  const std::size_t offsets[3] = {layout.offset(0), layout.offset(1), layout.offset(2)};
  const int max_value = layout.max_value();
  float* value = input.data();
  for (int y = 0; y < in.height; ++y) {
    const auto* pixel = static_cast<const unsigned char*>(in.data) + y * in.stride;
    for (int x = 0; x < in.width; ++x, pixel += pixel_bytes) {
      for (const std::size_t offset : offsets) {
        *value++ = sample_to_unit(load<Sample>(pixel + offset), max_value);
      }
    }
  }
  backend.run_view({input.data(), 3LL * in.width, 3, 1, in.width, in.height},
                   {output.data(), 3LL * out.width, 3, 1, out.width, out.height});
  const int row_samples = 3 * out.width;
  const bool flat = layout.channels == 3 && !layout.blue_first;  // the float row's order
  // Other orders: a row of samples in RGB order, then moved to their places.
  std::vector<unsigned char> samples(flat ? 0 : row_samples * sizeof(Sample));
  const float* result = output.data();
  for (int y = 0; y < out.height; ++y, result += row_samples) {
    auto* pixel = static_cast<unsigned char*>(out.data) + y * out.stride;
    if (flat) {
      quantize_row<Sample>(result, pixel, row_samples, max_value);
      continue;
    }
    quantize_row<Sample>(result, samples.data(), row_samples, max_value);
    const unsigned char* sample = samples.data();
    for (int x = 0; x < out.width; ++x, pixel += pixel_bytes) {
      for (const std::size_t offset : offsets) {
        std::memcpy(pixel + offset, sample, sizeof(Sample));
        sample += sizeof(Sample);
      }
    }
  }
}

// Alpha of `in` into `out`: a constant is copied (bicubic interpolation keeps it), anything else
// interpolated as upscale(Image) does.
template <typename Sample>
void copy_alpha(const PixelBuffer<const void>& in, const PixelBuffer<void>& out,
                const PixelLayout& layout, Scale scale) {
  // Sizes in locals: the loops below run on every pixel of a frame.
  const std::size_t pixel_bytes = layout.pixel_bytes();
  const std::size_t offset = layout.offset(3);
  const auto alpha_at = [&](int x, int y) -> unsigned {
    return load<Sample>(static_cast<const unsigned char*>(in.data) + y * in.stride +
                        x * pixel_bytes + offset);
  };
  const auto put = [&](int x, int y, unsigned value) {
    store<Sample>(static_cast<unsigned char*>(out.data) + y * out.stride + x * pixel_bytes + offset,
                  value);
  };
  const unsigned first = alpha_at(0, 0);
  bool constant = true;
  for (int y = 0, width = in.width; y < in.height && constant; ++y) {
    const auto* alpha = static_cast<const unsigned char*>(in.data) + y * in.stride + offset;
    for (int x = 0; x < width; ++x, alpha += pixel_bytes) constant &= load<Sample>(alpha) == first;
  }
  if (constant) {
    for (int y = 0, width = out.width; y < out.height; ++y) {
      auto* alpha = static_cast<unsigned char*>(out.data) + y * out.stride + offset;
      for (int x = 0; x < width; ++x, alpha += pixel_bytes) store<Sample>(alpha, first);
    }
    return;
  }
  Tensor alpha(1, in.height, in.width);
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) {
      alpha.at(0, y, x) = sample_to_unit(alpha_at(x, y), layout.max_value());
    }
  }
  const std::vector<float> big = upscale_alpha(alpha, scale, out.width, out.height);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      put(x, y,
          unit_to_sample(big[static_cast<std::size_t>(y) * out.width + x], layout.max_value()));
    }
  }
}

template <typename Sample>
void upscale_samples(const Upscaler::Backend& backend, const PixelBuffer<const void>& input,
                     const PixelBuffer<void>& output, const PixelLayout& layout) {
  bool in_place = false;
  if constexpr (sizeof(Sample) == 1) {
    in_place = backend.run_u8_view(colour_view<const std::uint8_t>(input, layout),
                                   colour_view<std::uint8_t>(output, layout));
  }
  if (!in_place) run_through_floats<Sample>(backend, input, output, layout);
  if (layout.channels == 4) copy_alpha<Sample>(input, output, layout, backend.scale());
}

}  // namespace

void Upscaler::upscale(const PixelBuffer<const void>& input,
                       const PixelBuffer<void>& output) const {
  const PixelLayout layout = pixel_layout(input.format);
  check_buffers(input, output, layout, input.width >= 1 ? output_length(input.width) : 0,
                input.height >= 1 ? output_length(input.height) : 0);
  if (layout.sample_bytes == 1) {
    upscale_samples<std::uint8_t>(*backend_, input, output, layout);
  } else {
    upscale_samples<std::uint16_t>(*backend_, input, output, layout);
  }
}

}  // namespace quicksr
