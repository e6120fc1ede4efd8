// Banded upscaling (issue 11: a 4000x3000 photo at x4 peaked at 4.8 GB): upscale_rows in any band
// layout gives the pixels of the whole-image upscale, and upscale_to_file writes the same file as
// write_image(upscale(...)).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <tuple>

#include "quicksr/baselines.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/upscaler.hpp"
#include "support/sanitizer.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

Image random_image(int width, int height, bool gray, bool alpha) {
  std::mt19937 engine(11);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Image image;
  image.width = width;
  image.height = height;
  image.gray = gray;
  image.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
    image.rgb[i] = unit(engine);
    image.rgb[i + 1] = gray ? image.rgb[i] : unit(engine);
    image.rgb[i + 2] = gray ? image.rgb[i] : unit(engine);
  }
  if (alpha) {
    image.alpha.resize(static_cast<std::size_t>(width) * height);
    for (float& value : image.alpha) value = unit(engine);
  }
  return image;
}

// Rows of upscale_rows for bands of `band_rows` (a multiple of the scale's numerator) stacked.
Image stacked_bands(const Upscaler& upscaler, const Image& input, int band_rows) {
  const int width = upscaler.output_length(input.width);
  const int height = upscaler.output_length(input.height);
  Image stacked;
  for (int first = 0; first < height; first += band_rows) {
    const Image band = upscaler.upscale_rows(input, first, std::min(band_rows, height - first));
    EXPECT_EQ(band.width, width);
    stacked.rgb.insert(stacked.rgb.end(), band.rgb.begin(), band.rgb.end());
    stacked.alpha.insert(stacked.alpha.end(), band.alpha.begin(), band.alpha.end());
  }
  return stacked;
}

void expect_near_all(const std::vector<float>& a, const std::vector<float>& b, float tolerance) {
  ASSERT_EQ(a.size(), b.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  EXPECT_LE(worst, tolerance);
}

TEST(UpscaleBands, BuiltInModelsGiveTheWholeImagePixelsInEveryBandLayout) {
  for (const Scale scale : {Scale{2, 1}, Scale{3, 1}, Scale{4, 1}, Scale{3, 2}}) {
    const Upscaler upscaler = Upscaler::builtin(scale, {.threads = 2});
    for (const bool gray : {false, true}) {
      const Image input = random_image(23, 41, gray, true);  // odd sizes: x1.5 crops
      const Image whole = upscaler.upscale(input);
      for (const int band_inputs : {1, 2, 5, 16}) {
        SCOPED_TRACE("x" + scale.to_string() + (gray ? " gray" : " rgb") + " band of " +
                     std::to_string(band_inputs));
        const Image stacked = stacked_bands(upscaler, input, band_inputs * 2 * scale.numerator);
        // The network sees the same receptive field: bit-identical colour.
        EXPECT_EQ(stacked.rgb, whole.rgb);
        // Alpha is bicubic from a cropped plane: equal up to float rounding of the coordinates.
        expect_near_all(stacked.alpha, whole.alpha, 1e-5f);
      }
    }
  }
}

TEST(UpscaleBands, BicubicBandsMatchTheWholeImage) {
  for (const Scale scale : {Scale{2, 1}, Scale{3, 1}, Scale{3, 2}}) {
    const Upscaler upscaler = Upscaler::bicubic(scale);
    const Image input = random_image(17, 30, false, true);
    const Image whole = upscaler.upscale(input);
    ASSERT_EQ(upscaler.output_length(17), whole.width);
    ASSERT_EQ(upscaler.output_length(30), whole.height);
    const Image stacked = stacked_bands(upscaler, input, 3 * scale.numerator);
    expect_near_all(stacked.rgb, whole.rgb, 1e-5f);
    expect_near_all(stacked.alpha, whole.alpha, 1e-5f);
  }
}

TEST(UpscaleBands, BandedFileEqualsTheWholeImageFile) {
  const test_support::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  const Upscaler upscaler = Upscaler::builtin({4, 1}, {.threads = 2});
  // One band (bands are ~512k input pixels, at least 32 rows): the file plumbing, alpha included.
  // Several bands: BandedFilesOfQuickSRNetFp32AndInt8EqualTheWholeImage.
  const Image input = random_image(8, 200, false, true);
  upscaler.upscale_to_file(input, dir / "banded.png");
  write_image(upscaler.upscale(input), dir / "whole.png");
  const Image banded = read_image(dir / "banded.png");
  const Image whole = read_image(dir / "whole.png");
  EXPECT_EQ(banded.width, 32);
  EXPECT_EQ(banded.height, 800);
  EXPECT_EQ(banded.rgb, whole.rgb);
  expect_near_all(banded.alpha, whole.alpha, 1.0f / 255.0f);
  upscaler.upscale_to_file(input, dir / "banded.jpg");
  EXPECT_EQ(read_image(dir / "banded.jpg").height, 800);
}

// Random weights for `preset` at `scale`, as the fp32 model or quantized per channel (features
// and output encoded on [0, 1], ReLU1's range).
Model quicksrnet_model(const char* preset, Scale scale, bool int8) {
  const QuickSRNet net = QuickSRNet::initialized(QuickSRNetConfig::preset(preset, scale), 9);
  if (!int8) return Model{net, {}};
  ActivationEncodings encodings;
  encodings.features.assign(static_cast<std::size_t>(net.config.blocks) + 1,
                            quant::encoding_from_range(0.0f, 1.0f));
  encodings.output = quant::encoding_from_range(0.0f, 1.0f);
  return Model{quant::quantize_weights(net, encodings, WeightGranularity::kPerChannel), {}};
}

// Upscaler cuts QuickSRNet models with the engine's halo (Engine::halo_rows(), exact: EngineHalo
// in engine_test) plus the alpha's bicubic reach: every preset (Large: the anchor), x2 and x1.5,
// fp32 and INT8, every band layout gives the whole image's colour bit for bit.
TEST(UpscaleBands, QuickSRNetFp32AndInt8GiveTheWholeImagePixelsInEveryBandLayout) {
  const Image input = random_image(13, 41, false, true);  // odd sizes: x1.5 crops
  for (const char* preset : {"small", "medium", "large"}) {
    for (const Scale scale : {Scale{2, 1}, Scale{3, 2}}) {
      for (const bool int8 : {false, true}) {
        const Upscaler upscaler =
            Upscaler::from_model(quicksrnet_model(preset, scale, int8), {.threads = 2});
        const Image whole = upscaler.upscale(input);
        for (const int band_inputs : {1, 5}) {
          SCOPED_TRACE(std::string(preset) + " x" + scale.to_string() + (int8 ? " int8" : "") +
                       " band of " + std::to_string(band_inputs));
          const Image stacked = stacked_bands(upscaler, input, band_inputs * 2 * scale.numerator);
          EXPECT_EQ(stacked.rgb, whole.rgb);
          expect_near_all(stacked.alpha, whole.alpha, 1e-5f);
        }
      }
    }
  }
}

// ERFDN's ESA pools on a grid from the image's top and resizes by a ratio its height sets, so no
// crop gives the whole image's rows (the engine's halo_rows() is 0): Upscaler runs it whole, and
// every band layout still gives the whole image's pixels.
TEST(UpscaleBands, ErfdnRunsWholeAndEveryBandLayoutGivesTheWholeImage) {
  const Image input = random_image(20, 41, false, false);
  const Upscaler upscaler = Upscaler::from_model(
      Model{build_baseline("erfdn", {.scale = Scale{2, 1}, .seed = 4}), {}}, {.threads = 2});
  const Image whole = upscaler.upscale(input);
  for (const int band_rows : {2, 10}) {
    SCOPED_TRACE("band of " + std::to_string(band_rows) + " output rows");
    EXPECT_EQ(stacked_bands(upscaler, input, band_rows).rgb, whole.rgb);
  }
}

// upscale_to_file over several bands (~512k input pixels each: two here, the second short) writes
// the whole image's pixels, fp32 x1.5 and INT8 x2. TIFF: uncompressed, quick to write.
TEST(UpscaleBands, BandedFilesOfQuickSRNetFp32AndInt8EqualTheWholeImage) {
  const test_support::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  const Image input = random_image(512, 1100, false, false);
  for (const auto& [preset, scale, int8] :
       {std::tuple{"medium", Scale{3, 2}, false}, std::tuple{"small", Scale{2, 1}, true}}) {
    const Upscaler upscaler =
        Upscaler::from_model(quicksrnet_model(preset, scale, int8), {.threads = 2});
    SCOPED_TRACE(upscaler.name() + (int8 ? " int8" : ""));
    upscaler.upscale_to_file(input, dir / "banded.tif");
    write_image(upscaler.upscale(input), dir / "whole.tif");
    EXPECT_EQ(read_image(dir / "banded.tif").rgb, read_image(dir / "whole.tif").rgb);
  }
}

// Methods whose sample positions depend on the output size (FSR 1) or are rounded to float as
// OpenCV rounds them (bicubic-opencv) run whole; all must write the whole image's pixels.
// x1.5 only: its bands start at rows that are multiples of 3 from inputs cropped at multiples of 2,
// the harder case; BicubicBandsMatchTheWholeImage covers x2 and x3 bands in memory. (x2 as well
// took 3 times as long: its files hold 5.6 Mpx of noise.)
TEST(UpscaleBands, BandedFileOfEveryClassicMethodEqualsTheWholeImage) {
  const test_support::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  // Several bands (~512k input pixels each) and an odd height, where x1.5 rounds. The sanitizers
  // check the code on two bands (24 s in CI), Release three.
#ifdef QUICKSR_TEST_ASAN
  const Image input = random_image(700, 1001, false, false);
#else
  const Image input = random_image(700, 2001, false, false);
#endif
  const Scale scale{3, 2};
  for (const Upscaler& upscaler :
       {Upscaler::bicubic(scale, BicubicFlavour::matlab),
        Upscaler::bicubic(scale, BicubicFlavour::opencv), Upscaler::fsr1(scale)}) {
    SCOPED_TRACE(upscaler.name());
    upscaler.upscale_to_file(input, dir / "banded.png");
    write_image(upscaler.upscale(input), dir / "whole.png");
    EXPECT_EQ(read_image(dir / "banded.png").rgb, read_image(dir / "whole.png").rgb);
    std::filesystem::remove(dir / "banded.png");
    std::filesystem::remove(dir / "whole.png");
  }
}

}  // namespace
}  // namespace quicksr
