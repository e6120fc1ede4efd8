// The C API against the reference runtime (a separate, simple implementation of the network):
// 8- and 16-bit buffers with padded strides, alpha, output sizes, errors, and one model shared by
// several threads; statuses of bad arguments and files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "quicksr/image.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quicksr.h"
#include "quicksr/reference.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

const std::filesystem::path kSource = QUICKSR_SOURCE_DIR;
constexpr unsigned char kPadding = 0xAB;

struct ModelDeleter {
  void operator()(quicksr_model* model) const { quicksr_model_free(model); }
};
using ModelPtr = std::unique_ptr<quicksr_model, ModelDeleter>;

ModelPtr builtin(double scale, int threads = 0) {
  quicksr_model* model = nullptr;
  EXPECT_EQ(quicksr_model_load_builtin(scale, threads, &model), QUICKSR_OK) << quicksr_last_error();
  return ModelPtr(model);
}

// A w x h crop of the bundled test card as float RGB.
Image test_card(int left, int top, int width, int height) {
  const Image card = read_image(kSource / "samples/testcard.png");
  Image crop;
  crop.width = width;
  crop.height = height;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        crop.rgb.push_back(card.rgb[((std::size_t(top) + y) * card.width + left + x) * 3 + c]);
      }
    }
  }
  return crop;
}

// Samples of `bytes` each (1 or 2) with `channels` per pixel, rows `stride` bytes apart; the
// padding after each row is kPadding. get and set take c = 0 red, 1 green, 2 blue, 3 alpha,
// stored blue first when `bgr`.
struct Buffer {
  int width, height, channels, bytes;
  bool bgr;
  std::size_t stride;
  std::vector<unsigned char> data;

  Buffer(int w, int h, int c, int b, std::size_t padding, bool blue_first = false)
      : width(w),
        height(h),
        channels(c),
        bytes(b),
        bgr(blue_first),
        stride(std::size_t(w) * c * b + padding),
        data(stride * h, kPadding) {}
  std::size_t position(int x, int y, int c) const {
    const int slot = bgr && c < 3 ? 2 - c : c;
    return y * stride + (std::size_t(x) * channels + slot) * bytes;
  }
  std::uint32_t get(int x, int y, int c) const {
    const unsigned char* p = &data[position(x, y, c)];
    if (bytes == 1) return *p;
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  void set(int x, int y, int c, std::uint32_t value) {
    unsigned char* p = &data[position(x, y, c)];
    if (bytes == 1) {
      *p = static_cast<unsigned char>(value);
    } else {
      const auto v = static_cast<std::uint16_t>(value);
      std::memcpy(p, &v, 2);
    }
  }
  bool padding_intact() const {
    for (int y = 0; y < height; ++y) {
      for (std::size_t i = std::size_t(width) * channels * bytes; i < stride; ++i) {
        if (data[y * stride + i] != kPadding) return false;
      }
    }
    return true;
  }
};

std::uint32_t max_value(int bytes) { return bytes == 1 ? 255u : 65535u; }

Buffer to_buffer(const Image& image, int channels, int bytes, std::uint32_t alpha,
                 bool bgr = false) {
  Buffer buffer(image.width, image.height, channels, bytes, 5, bgr);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float v = image.rgb[(std::size_t(y) * image.width + x) * 3 + c];
        buffer.set(x, y, c, static_cast<std::uint32_t>(std::lround(v * max_value(bytes))));
      }
      if (channels == 4) buffer.set(x, y, 3, alpha);
    }
  }
  return buffer;
}

// The reference runtime's output for `input`'s samples, in units of the buffer's samples.
Tensor reference_output(const std::filesystem::path& model_file, const Buffer& input) {
  Tensor chw(3, input.height, input.width);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < input.height; ++y) {
      for (int x = 0; x < input.width; ++x) {
        chw.at(c, y, x) = static_cast<float>(input.get(x, y, c)) / max_value(input.bytes);
      }
    }
  }
  Tensor out = reference::forward(load_model(model_file), chw);
  for (float& v : out.data) v = std::clamp(v, 0.0f, 1.0f) * max_value(input.bytes);
  return out;
}

Buffer upscale(const quicksr_model* model, quicksr_format format, const Buffer& input) {
  int out_w = 0, out_h = 0;
  EXPECT_EQ(quicksr_output_size(model, input.width, input.height, &out_w, &out_h), QUICKSR_OK);
  Buffer output(out_w, out_h, input.channels, input.bytes, 7, input.bgr);
  EXPECT_EQ(quicksr_upscale(model, format, input.data.data(), input.width, input.height,
                            input.stride, output.data.data(), output.stride),
            QUICKSR_OK)
      << quicksr_last_error();
  return output;
}

struct FormatCase {
  quicksr_format format;
  int channels;
  int bytes;
  bool bgr;
  double scale;
  const char* model_file;
  const char* name;
};

void PrintTo(const FormatCase& param, std::ostream* os) { *os << param.name; }

class CApiFormats : public testing::TestWithParam<FormatCase> {};

TEST_P(CApiFormats, MatchesReferenceRuntimeWithPaddedStrides) {
  const FormatCase& param = GetParam();
  const ModelPtr model = builtin(param.scale);
  ASSERT_TRUE(model);
  const std::uint32_t alpha = param.bytes == 1 ? 200 : 40000;
  const Buffer input =
      to_buffer(test_card(40, 30, 34, 26), param.channels, param.bytes, alpha, param.bgr);
  const Buffer output = upscale(model.get(), param.format, input);
  const Tensor expected = reference_output(kSource / "models" / param.model_file, input);
  ASSERT_EQ(output.width, expected.width);
  ASSERT_EQ(output.height, expected.height);
  // Engine and reference differ by float rounding only: at most one step after quantisation.
  double worst = 0;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < output.height; ++y) {
      for (int x = 0; x < output.width; ++x) {
        worst = std::max(worst, std::abs(output.get(x, y, c) - double(expected.at(c, y, x))));
      }
    }
  }
  EXPECT_LE(worst, 1.0 + (param.bytes == 2 ? 2.0 : 0.0));
  if (param.channels == 4) {
    // Bicubic interpolation of a constant alpha is that constant.
    for (int y = 0; y < output.height; ++y) {
      for (int x = 0; x < output.width; ++x) ASSERT_EQ(output.get(x, y, 3), alpha);
    }
  }
  EXPECT_TRUE(output.padding_intact()) << "bytes after an output row were written";
}

INSTANTIATE_TEST_SUITE_P(
    Formats, CApiFormats,
    testing::Values(
        FormatCase{QUICKSR_RGB8, 3, 1, false, 2.0, "quicksrnet-small-x2.safetensors", "Rgb8x2"},
        FormatCase{QUICKSR_RGBA8, 4, 1, false, 3.0, "quicksrnet-small-x3.safetensors", "Rgba8x3"},
        FormatCase{QUICKSR_RGB16, 3, 2, false, 4.0, "quicksrnet-small-x4.safetensors", "Rgb16x4"},
        FormatCase{QUICKSR_RGBA16, 4, 2, false, 1.5, "quicksrnet-small-x1_5.safetensors",
                   "Rgba16x1_5"},
        FormatCase{QUICKSR_BGR8, 3, 1, true, 2.0, "quicksrnet-small-x2.safetensors", "Bgr8x2"},
        FormatCase{QUICKSR_BGRA8, 4, 1, true, 1.5, "quicksrnet-small-x1_5.safetensors",
                   "Bgra8x1_5"}),
    [](const auto& info) { return std::string(info.param.name); });

// A BGRA frame gives the bytes of its RGBA twin with red and blue swapped, alpha where it was.
TEST(CApi, BlueFirstFormatsAreTheRgbResultSwapped) {
  const ModelPtr model = builtin(2.0);
  ASSERT_TRUE(model);
  Buffer rgba = to_buffer(test_card(10, 60, 21, 17), 4, 1, 0);
  for (int y = 0; y < rgba.height; ++y) {
    for (int x = 0; x < rgba.width; ++x) rgba.set(x, y, 3, (x * 37 + y * 11) % 256);
  }
  Buffer bgra = rgba;
  for (int y = 0; y < rgba.height; ++y) {
    for (int x = 0; x < rgba.width; ++x) {
      std::swap(bgra.data[rgba.position(x, y, 0)], bgra.data[rgba.position(x, y, 2)]);
    }
  }
  const Buffer rgba_out = upscale(model.get(), QUICKSR_RGBA8, rgba);
  const Buffer bgra_out = upscale(model.get(), QUICKSR_BGRA8, bgra);
  ASSERT_EQ(bgra_out.data.size(), rgba_out.data.size());
  for (int y = 0; y < rgba_out.height; ++y) {
    for (int x = 0; x < rgba_out.width; ++x) {
      for (const auto& [from, to] : {std::pair{0, 2}, {1, 1}, {2, 0}, {3, 3}}) {
        ASSERT_EQ(bgra_out.data[rgba_out.position(x, y, to)],
                  rgba_out.data[rgba_out.position(x, y, from)])
            << "pixel " << x << "," << y << " sample " << from;
      }
    }
  }
}

TEST(CApi, OutputSizeIsTheScaledSizeRoundedDown) {
  int w = 0, h = 0;
  ASSERT_EQ(quicksr_output_size(builtin(3.0).get(), 7, 5, &w, &h), QUICKSR_OK);
  EXPECT_EQ(w, 21);
  EXPECT_EQ(h, 15);
  ASSERT_EQ(quicksr_output_size(builtin(1.5).get(), 7, 5, &w, &h), QUICKSR_OK);
  EXPECT_EQ(w, 10);  // floor(10.5)
  EXPECT_EQ(h, 7);   // floor(7.5)
}

TEST(CApi, ModelFileGivesTheBuiltinResult) {
  quicksr_model* loaded = nullptr;
  const std::string path = (kSource / "models/quicksrnet-small-x2.safetensors").string();
  ASSERT_EQ(quicksr_model_load(path.c_str(), 1, &loaded), QUICKSR_OK) << quicksr_last_error();
  const ModelPtr file_model(loaded);
  EXPECT_EQ(quicksr_model_scale(file_model.get()), 2.0);
  EXPECT_STREQ(quicksr_model_name(file_model.get()), quicksr_model_name(builtin(2.0).get()));
  const Buffer input = to_buffer(test_card(0, 0, 20, 16), 3, 1, 0);
  EXPECT_EQ(upscale(file_model.get(), QUICKSR_RGB8, input).data,
            upscale(builtin(2.0).get(), QUICKSR_RGB8, input).data);
}

TEST(CApi, ErrorsAreStatusesWithMessages) {
  quicksr_model* model = reinterpret_cast<quicksr_model*>(&model);  // must be reset to NULL
  EXPECT_EQ(quicksr_model_load("/nonexistent/m.safetensors", 0, &model), QUICKSR_ERROR_FILE);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(quicksr_last_error()).find("/nonexistent/m.safetensors"),
            std::string::npos);

  const test_support::TempDir temp;
  const std::filesystem::path bad = temp / "bad.safetensors";
  std::ofstream(bad) << "not a model";
  EXPECT_EQ(quicksr_model_load(bad.c_str(), 0, &model), QUICKSR_ERROR_MODEL);
  EXPECT_NE(std::string(quicksr_last_error()).find(bad.string()), std::string::npos);

  EXPECT_EQ(quicksr_model_load_builtin(5.0, 0, &model), QUICKSR_ERROR_MODEL);
  EXPECT_NE(std::string(quicksr_last_error()).find("built in"), std::string::npos);
  EXPECT_EQ(quicksr_model_load_builtin(2.3, 0, &model), QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(quicksr_model_load_builtin(2.0, -1, &model), QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(quicksr_model_load(nullptr, 0, &model), QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(quicksr_model_load_builtin(2.0, 0, nullptr), QUICKSR_ERROR_ARGUMENT);

  const ModelPtr x2 = builtin(2.0);
  unsigned char in[4 * 4 * 3] = {};
  unsigned char out[8 * 8 * 3] = {};
  int w = 0, h = 0;
  EXPECT_EQ(quicksr_output_size(x2.get(), 0, 4, &w, &h), QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(quicksr_output_size(nullptr, 4, 4, &w, &h), QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, in, 4, 4, 11, out, 24),
            QUICKSR_ERROR_ARGUMENT);  // input stride < 12
  EXPECT_NE(std::string(quicksr_last_error()).find("input_stride"), std::string::npos);
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, in, 4, 4, 12, out, 23),
            QUICKSR_ERROR_ARGUMENT);  // output stride < 24
  EXPECT_EQ(quicksr_upscale(x2.get(), static_cast<quicksr_format>(9), in, 4, 4, 12, out, 24),
            QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, nullptr, 4, 4, 12, out, 24),
            QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, in, 4, 4, 12, out, 24), QUICKSR_OK);
  EXPECT_STREQ(quicksr_status_string(QUICKSR_ERROR_FILE), "cannot open the file");
  EXPECT_STREQ(quicksr_status_string(static_cast<quicksr_status>(-1)), "unknown status");
  EXPECT_EQ(quicksr_model_scale(nullptr), 0.0);
  quicksr_model_free(nullptr);
}

bool begins_with(const char* text, const std::string& prefix) {
  return std::string(text).starts_with(prefix);
}

bool mentions(const char* text, const std::string& part) {
  return std::string(text).find(part) != std::string::npos;
}

// Overlapping buffers are the caller's mistake, not a bad model; whole address ranges are
// compared, so rows interleaved in each other's padding overlap too.
TEST(CApi, OverlappingBuffersAreArgumentErrors) {
  const ModelPtr x2 = builtin(2.0);
  ASSERT_TRUE(x2);
  std::vector<unsigned char> frame(8 * 48);
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, frame.data(), 4, 4, 12, frame.data(), 24),
            QUICKSR_ERROR_ARGUMENT);
  EXPECT_TRUE(mentions(quicksr_last_error(), "overlap")) << quicksr_last_error();
  // Input rows of 12 bytes in the last 24 bytes of each 48-byte output row.
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, frame.data() + 24, 4, 4, 48, frame.data(), 48),
            QUICKSR_ERROR_ARGUMENT);
  EXPECT_TRUE(mentions(quicksr_last_error(), "overlap")) << quicksr_last_error();
}

// A negative stride cast to size_t (a bottom-up bitmap's) would wrap the rows' offsets.
TEST(CApi, NegativeStridesAreArgumentErrors) {
  const ModelPtr x2 = builtin(2.0);
  ASSERT_TRUE(x2);
  unsigned char in[4 * 4 * 3] = {};
  unsigned char out[8 * 8 * 3] = {};
  const auto negative = static_cast<std::size_t>(-4096);
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, in, 4, 4, negative, out, 24),
            QUICKSR_ERROR_ARGUMENT);
  EXPECT_TRUE(mentions(quicksr_last_error(), "input stride")) << quicksr_last_error();
  EXPECT_EQ(quicksr_upscale(x2.get(), QUICKSR_RGB8, in, 4, 4, 12, out, negative),
            QUICKSR_ERROR_ARGUMENT);
  EXPECT_TRUE(mentions(quicksr_last_error(), "output stride")) << quicksr_last_error();
}

// Not an abort when the threads cannot all start: counts past the limit are refused up front.
TEST(CApi, ThreadCountsPastTheLimitAreArgumentErrors) {
  quicksr_model* model = nullptr;
  EXPECT_EQ(quicksr_model_load_builtin(2.0, 1000000, &model), QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(model, nullptr);
  EXPECT_TRUE(mentions(quicksr_last_error(), "threads")) << quicksr_last_error();
  const std::string path = (kSource / "models/quicksrnet-small-x2.safetensors").string();
  EXPECT_EQ(quicksr_model_load(path.c_str(), 1000000, &model), QUICKSR_ERROR_ARGUMENT);
  EXPECT_EQ(model, nullptr);
}

// fopen opens a folder on Linux (and blocks on a FIFO): neither may become a bad-model error.
TEST(CApi, ModelPathsThatAreNotRegularFilesAreFileErrors) {
  const test_support::TempDir temp;
  quicksr_model* model = nullptr;
  EXPECT_EQ(quicksr_model_load(temp.path().c_str(), 0, &model), QUICKSR_ERROR_FILE);
  EXPECT_EQ(model, nullptr);
  EXPECT_TRUE(begins_with(quicksr_last_error(), "quicksr_model_load: " + temp.path().string()))
      << quicksr_last_error();
  EXPECT_TRUE(mentions(quicksr_last_error(), "not a regular file")) << quicksr_last_error();
  const std::filesystem::path fifo = temp / "model.safetensors";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(quicksr_model_load(fifo.c_str(), 0, &model), QUICKSR_ERROR_FILE);
  EXPECT_TRUE(mentions(quicksr_last_error(), "not a regular file")) << quicksr_last_error();
  EXPECT_EQ(quicksr_model_load("/nonexistent/m.safetensors", 0, &model), QUICKSR_ERROR_FILE);
  EXPECT_TRUE(begins_with(quicksr_last_error(), "quicksr_model_load: /nonexistent/m.safetensors"))
      << quicksr_last_error();
}

TEST(CApi, ErrorMessagesArePerThread) {
  quicksr_model* model = nullptr;
  ASSERT_EQ(quicksr_model_load_builtin(5.0, 0, &model), QUICKSR_ERROR_MODEL);
  const std::string mine = quicksr_last_error();
  std::thread([] {
    quicksr_model* other = nullptr;
    EXPECT_STREQ(quicksr_last_error(), "");
    EXPECT_EQ(quicksr_model_load(nullptr, 0, &other), QUICKSR_ERROR_ARGUMENT);
  }).join();
  EXPECT_EQ(mine, quicksr_last_error());
}

// One model, several threads at once: each gets what a lone call gets.
TEST(CApi, OneModelServesSeveralThreads) {
  const ModelPtr model = builtin(2.0, 2);
  constexpr int kThreads = 4;
  std::vector<Buffer> inputs;
  std::vector<Buffer> expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(to_buffer(test_card(10 * t, 5 * t, 30 + t, 22 + 2 * t), 4, 1, 255));
    expected.push_back(upscale(model.get(), QUICKSR_RGBA8, inputs.back()));
  }
  std::vector<std::vector<Buffer>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 3; ++repeat) {
        results[t].push_back(upscale(model.get(), QUICKSR_RGBA8, inputs[t]));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (const Buffer& result : results[t]) EXPECT_EQ(result.data, expected[t].data) << t;
  }
}

}  // namespace
}  // namespace quicksr
