// Upscaler::upscale on frame buffers against upscale(Image), the image path it must equal: every
// pixel format, padded rows, constant and varying alpha, fp32 and INT8 models (in place on 8-bit
// buffers; INT8 also with an output encoding other than 1/255), x1.5 at odd sizes, a backend
// without views (bicubic), and the errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "common/samples.hpp"  // the image writers' rounding
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/upscaler.hpp"

namespace quicksr {
namespace {

const std::filesystem::path kModels = std::filesystem::path(QUICKSR_SOURCE_DIR) / "models";
constexpr unsigned char kPadding = 0xC5;

struct FormatInfo {
  PixelFormat format;
  int channels;
  int bytes;
  bool bgr;
  const char* name;
};

const FormatInfo kFormats[] = {
    {PixelFormat::kRgb8, 3, 1, false, "rgb8"},   {PixelFormat::kRgba8, 4, 1, false, "rgba8"},
    {PixelFormat::kBgr8, 3, 1, true, "bgr8"},    {PixelFormat::kBgra8, 4, 1, true, "bgra8"},
    {PixelFormat::kRgb16, 3, 2, false, "rgb16"}, {PixelFormat::kRgba16, 4, 2, false, "rgba16"}};

// A frame buffer with `padding` bytes after each row; sample c = 0 red, 1 green, 2 blue, 3 alpha.
struct Frame {
  FormatInfo info;
  int width, height;
  std::size_t stride;
  std::vector<unsigned char> bytes;

  Frame(const FormatInfo& format, int w, int h, std::size_t padding)
      : info(format),
        width(w),
        height(h),
        stride(std::size_t(w) * format.channels * format.bytes + padding),
        bytes(stride * h, kPadding) {}
  std::size_t position(int x, int y, int c) const {
    const int slot = info.bgr && c < 3 ? 2 - c : c;
    return y * stride + (std::size_t(x) * info.channels + slot) * info.bytes;
  }
  unsigned get(int x, int y, int c) const {
    if (info.bytes == 1) return bytes[position(x, y, c)];
    std::uint16_t v;
    std::memcpy(&v, &bytes[position(x, y, c)], 2);
    return v;
  }
  void set(int x, int y, int c, unsigned value) {
    if (info.bytes == 1) {
      bytes[position(x, y, c)] = static_cast<unsigned char>(value);
    } else {
      const auto v = static_cast<std::uint16_t>(value);
      std::memcpy(&bytes[position(x, y, c)], &v, 2);
    }
  }
  unsigned max_value() const { return info.bytes == 1 ? 255u : 65535u; }
  PixelBuffer<const void> in() const { return {bytes.data(), width, height, stride, info.format}; }
  PixelBuffer<void> out() { return {bytes.data(), width, height, stride, info.format}; }
};

// Random colour; alpha random, or `constant_alpha` everywhere when it is >= 0.
Frame random_frame(const FormatInfo& format, int width, int height, int constant_alpha) {
  std::mt19937 engine(5);
  Frame frame(format, width, height, 7);
  std::uniform_int_distribution<unsigned> sample(0, frame.max_value());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) frame.set(x, y, c, sample(engine));
      if (format.channels == 4) {
        frame.set(x, y, 3, constant_alpha >= 0 ? unsigned(constant_alpha) : sample(engine));
      }
    }
  }
  return frame;
}

// The frame as upscale(Image) upscales it, written back as samples of the frame's format.
Frame image_path(const Upscaler& upscaler, const Frame& input) {
  Image image;
  image.width = input.width;
  image.height = input.height;
  image.bit_depth = input.info.bytes * 8;
  const float max_value = static_cast<float>(input.max_value());
  for (int y = 0; y < input.height; ++y) {
    for (int x = 0; x < input.width; ++x) {
      for (int c = 0; c < 3; ++c) image.rgb.push_back(input.get(x, y, c) / max_value);
      if (input.info.channels == 4) image.alpha.push_back(input.get(x, y, 3) / max_value);
    }
  }
  const Image result = upscaler.upscale(image);
  Frame output(input.info, result.width, result.height, 3);
  const auto sample = [&](float v) { return unit_to_sample(v, int(input.max_value())); };
  for (int y = 0; y < result.height; ++y) {
    for (int x = 0; x < result.width; ++x) {
      const std::size_t i = std::size_t(y) * result.width + x;
      for (int c = 0; c < 3; ++c) output.set(x, y, c, sample(result.rgb[i * 3 + c]));
      if (input.info.channels == 4) output.set(x, y, 3, sample(result.alpha[i]));
    }
  }
  return output;
}

// The frame-buffer call into a buffer with its own padding; the padding must stay untouched.
Frame frame_path(const Upscaler& upscaler, const Frame& input) {
  Frame output(input.info, upscaler.output_length(input.width),
               upscaler.output_length(input.height), 5);
  upscaler.upscale(input.in(), output.out());
  for (int y = 0; y < output.height; ++y) {
    for (std::size_t i = std::size_t(output.width) * input.info.channels * input.info.bytes;
         i < output.stride; ++i) {
      EXPECT_EQ(output.bytes[y * output.stride + i], kPadding) << "row " << y << " padding";
    }
  }
  return output;
}

void expect_same_pixels(const Frame& actual, const Frame& expected, const std::string& what) {
  ASSERT_EQ(actual.width, expected.width) << what;
  ASSERT_EQ(actual.height, expected.height) << what;
  int mismatches = 0;
  for (int y = 0; y < actual.height; ++y) {
    for (int x = 0; x < actual.width; ++x) {
      for (int c = 0; c < actual.info.channels; ++c) {
        if (actual.get(x, y, c) != expected.get(x, y, c) && ++mismatches <= 3) {
          ADD_FAILURE() << what << ": pixel " << x << "," << y << " sample " << c << ": "
                        << actual.get(x, y, c) << ", the image path gives "
                        << expected.get(x, y, c);
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << what;
}

void expect_matches_image_path(const Upscaler& upscaler, int width, int height) {
  for (const FormatInfo& format : kFormats) {
    for (const int alpha : {-1, 0, int(format.bytes == 1 ? 255 : 65535), 100}) {
      if (format.channels == 3 && alpha != -1) continue;
      const Frame input = random_frame(format, width, height, alpha);
      const std::string what = upscaler.name() + " " + format.name + " " + std::to_string(width) +
                               "x" + std::to_string(height) + " alpha " + std::to_string(alpha);
      expect_same_pixels(frame_path(upscaler, input), image_path(upscaler, input), what);
    }
  }
}

// fp32 models run on 8-bit buffers in place too (the engine converts rows as it reads and writes
// them): QuickSRNet at every scale (x1.5 at odd sizes), Large's anchor, and baselines on the band
// pipeline (ABPN) and the general-graph path (ESPCN).
TEST(FrameBuffer, Fp32ModelsGiveTheImagePathsPixels) {
  expect_matches_image_path(Upscaler::builtin(Scale{2, 1}, {.threads = 2}), 37, 23);
  expect_matches_image_path(Upscaler::load(kModels / "quicksrnet-small-x3.safetensors"), 20, 17);
  expect_matches_image_path(Upscaler::builtin(Scale{4, 1}), 11, 9);
  expect_matches_image_path(Upscaler::builtin(Scale{3, 2}), 33, 21);
  expect_matches_image_path(Upscaler::load(kModels / "quicksrnet-f64-m11-x2.safetensors"), 19, 12);
  expect_matches_image_path(Upscaler::load(kModels / "abpn-x2.safetensors"), 21, 10);
  expect_matches_image_path(Upscaler::load(kModels / "espcn-x3.safetensors"), 16, 13);
}

TEST(FrameBuffer, Int8ModelsGiveTheImagePathsPixels) {
  expect_matches_image_path(Upscaler::load(kModels / "quicksrnet-small-x2-int8.safetensors"), 41,
                            19);
  expect_matches_image_path(Upscaler::load(kModels / "quicksrnet-small-x3-int8.safetensors"), 17,
                            9);
  // x1.5 at odd sizes (the network edge-replicates to even and crops).
  expect_matches_image_path(Upscaler::load(kModels / "quicksrnet-small-x1_5-int8.safetensors"), 33,
                            21);
}

// The in-place 8-bit path maps the u8 output through the output encoding when it is not the
// 8-bit image's (1/255, 0).
TEST(FrameBuffer, Int8OutputEncodingOtherThanPixelsIsMapped) {
  Model model = load_model(kModels / "quicksrnet-small-x2-int8.safetensors");
  auto& net = std::get<QuantizedQuickSRNet>(model.net);
  net.output.scale = 1.0f / 240.0f;
  net.output.zero_point = 6;
  net.check();
  expect_matches_image_path(Upscaler::from_model(model), 29, 16);
}

TEST(FrameBuffer, BackendsWithoutViewsGiveTheImagePathsPixels) {
  expect_matches_image_path(Upscaler::bicubic(Scale{3, 1}), 14, 11);
}

TEST(FrameBuffer, BadBuffersAreErrorsAndWriteNothing) {
  const Upscaler upscaler = Upscaler::builtin();
  const FormatInfo& rgba = kFormats[1];
  const Frame input = random_frame(rgba, 8, 6, -1);
  Frame output(rgba, 16, 12, 0);
  const auto expect_error = [&](const PixelBuffer<const void>& in, const PixelBuffer<void>& out,
                                const std::string& message) {
    try {
      upscaler.upscale(in, out);
      ADD_FAILURE() << "no error for " << message;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  };
  PixelBuffer<void> out = output.out();
  expect_error(input.in(), {out.data, 15, 12, out.stride, out.format}, "is 16x12, not 15x12");
  expect_error(input.in(), {out.data, 16, 12, out.stride, PixelFormat::kRgb8}, "format");
  expect_error(input.in(), {out.data, 16, 12, 63, out.format}, "output stride");
  PixelBuffer<const void> in = input.in();
  expect_error({in.data, 8, 6, 31, in.format}, out, "input stride");
  expect_error({nullptr, 8, 6, in.stride, in.format}, out, "null");
  expect_error({in.data, 0, 6, in.stride, in.format}, out, "0x6");
  // The output overlapping the input (the input's last pixel is the output's first), and the
  // other way round.
  const std::size_t input_span = 5 * in.stride + 8 * 4;
  std::vector<unsigned char> shared(input_span + output.bytes.size());
  expect_error({shared.data(), 8, 6, in.stride, in.format},
               {shared.data() + input_span - 4, 16, 12, out.stride, out.format}, "overlap");
  expect_error({shared.data() + input_span - 4, 8, 6, in.stride, in.format},
               {shared.data(), 16, 12, out.stride, out.format}, "overlap");
  for (unsigned char byte : output.bytes) ASSERT_EQ(byte, kPadding) << "an error wrote pixels";
}

}  // namespace
}  // namespace quicksr
