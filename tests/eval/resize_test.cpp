// resize_bicubic against hand-computed numbers, a direct non-separable rendering of MATLAB's
// imresize formula, the MATLAB-made LR images of Set5/Set14 and, for the OpenCV flavour,
// OpenCV's own cv::resize.
#include "quicksr/resize.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "support/random_tensor.hpp"
#include "support/sanitizer.hpp"

namespace fs = std::filesystem;
using quicksr::Tensor;

namespace {

// I(y, x) = 10 y + x on a 4x4 grid, one channel.
Tensor ramp4x4() {
  Tensor t(1, 4, 4);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) t.at(0, y, x) = static_cast<float>(10 * y + x);
  }
  return t;
}

// The cubic kernel as printed in MATLAB's imresize.m.
double matlab_cubic(double x) {
  const double a = std::abs(x);
  return (1.5 * a * a * a - 2.5 * a * a + 1) * (a <= 1) +
         (-0.5 * a * a * a + 2.5 * a * a - 4 * a + 2) * ((1 < a) && (a <= 2));
}

// MATLAB's contributions() for one output position (1-based x), without trimming: the 1-based
// input indices after mirroring through aux = [1:in, in:-1:1], and the normalised weights.
void matlab_contributions(int in_length, double scale, int x, std::vector<int>& indices,
                          std::vector<double>& weights) {
  double width = 4.0;
  if (scale < 1) width /= scale;
  const double u = x / scale + 0.5 * (1 - 1 / scale);
  const double left = std::floor(u - width / 2);
  const int taps = static_cast<int>(std::ceil(width)) + 2;
  std::vector<int> aux;
  for (int i = 1; i <= in_length; ++i) aux.push_back(i);
  for (int i = in_length; i >= 1; --i) aux.push_back(i);
  const int n = static_cast<int>(aux.size());
  indices.clear();
  weights.clear();
  double sum = 0;
  for (int k = 0; k < taps; ++k) {
    const int index = static_cast<int>(left) + k;
    const double d = u - index;
    const double w = scale < 1 ? scale * matlab_cubic(scale * d) : matlab_cubic(d);
    weights.push_back(w);
    sum += w;
    indices.push_back(aux[((index - 1) % n + n) % n]);
  }
  for (double& w : weights) w /= sum;
}

// Every output pixel as one double sum over its 2-D neighbourhood (no separable passes).
Tensor direct_resize(const Tensor& in, double scale) {
  const int out_h = static_cast<int>(std::ceil(scale * in.height));
  const int out_w = static_cast<int>(std::ceil(scale * in.width));
  Tensor out(in.channels, out_h, out_w);
  std::vector<int> rows, cols;
  std::vector<double> wy, wx;
  for (int c = 0; c < in.channels; ++c) {
    for (int y = 0; y < out_h; ++y) {
      matlab_contributions(in.height, scale, y + 1, rows, wy);
      for (int x = 0; x < out_w; ++x) {
        matlab_contributions(in.width, scale, x + 1, cols, wx);
        double sum = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
          for (std::size_t j = 0; j < cols.size(); ++j) {
            sum += wy[i] * wx[j] * in.at(c, rows[i] - 1, cols[j] - 1);
          }
        }
        out.at(c, y, x) = static_cast<float>(sum);
      }
    }
  }
  return out;
}

TEST(ResizeBicubic, UpscaleByTwoMatchesHandComputedCorner) {
  // x2, first output sample: u = 0.75, taps at 1-based -1, 0, 1, 2 (mirrored to 2, 1, 1, 2) with
  // weights cubic(1.75) = -0.0234375, cubic(0.75) = 0.2265625, cubic(0.25) = 0.8671875,
  // cubic(1.25) = -0.0703125, so one axis maps [a, b, ...] to 1.09375 a - 0.09375 b.
  // For I = 10 y + x: out(0, 0) = (-0.09375 * 10) + (-0.09375 * 1) = -1.03125.
  const Tensor out = quicksr::resize_bicubic(ramp4x4(), 2.0);
  ASSERT_EQ(out.height, 8);
  ASSERT_EQ(out.width, 8);
  EXPECT_NEAR(out.at(0, 0, 0), -1.03125, 1e-6);
  // Second sample: u = 1.25, taps 0..3 -> weights cubic(1.25), cubic(0.25), cubic(0.75),
  // cubic(1.75) on [a, a, b, c]: 0.796875 a + 0.2265625 b - 0.0234375 c. For the row 0 1 2 3
  // that is 0.2265625 - 0.046875 = 0.1796875; the column weights act on 0 10 20 30 the same way.
  EXPECT_NEAR(out.at(0, 0, 1), -0.9375 + 0.1796875, 1e-6);
  EXPECT_NEAR(out.at(0, 1, 1), 1.796875 + 0.1796875, 1e-6);
}

TEST(ResizeBicubic, DownscaleByTwoMatchesHandComputedCorner) {
  // x0.5: kernel 0.5 cubic(0.5 d), width 8, u = 1.5, taps -2..5 mirrored to 3 2 1 1 2 3 4 4 with
  // weights -0.01171875 -0.03515625 0.11328125 0.43359375 0.43359375 0.11328125 -0.03515625
  // -0.01171875: [a b c d] -> 0.546875 a + 0.3984375 b + 0.1015625 c - 0.046875 d.
  // For the row 0 1 2 3: 0.3984375 + 0.203125 - 0.140625 = 0.4609375; out(0,0) = 10x + 1x that.
  const Tensor out = quicksr::resize_bicubic(ramp4x4(), 0.5);
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.width, 2);
  EXPECT_NEAR(out.at(0, 0, 0), 5.0703125, 1e-6);
  // By the mirror symmetry of the grid, the last sample is 33 minus the first.
  EXPECT_NEAR(out.at(0, 1, 1), 33 - 5.0703125, 1e-6);
}

TEST(ResizeBicubic, MatchesDirectMatlabFormulaForManyScales) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  Tensor in(2, 13, 17);
  for (float& v : in.data) v = value(rng);
  for (double scale : {2.0, 3.0, 4.0, 1.5, 1.0, 0.5, 1.0 / 3.0, 0.25, 1.0 / 1.5, 0.3, 0.9}) {
    SCOPED_TRACE("scale " + std::to_string(scale));
    const Tensor got = quicksr::resize_bicubic(in, scale);
    const Tensor want = direct_resize(in, scale);
    ASSERT_EQ(got.channels, want.channels);
    ASSERT_EQ(got.height, want.height);
    ASSERT_EQ(got.width, want.width);
    for (std::size_t i = 0; i < got.data.size(); ++i) ASSERT_NEAR(got.data[i], want.data[i], 2e-6);
  }
}

TEST(ResizeBicubic, OutputSizeIsCeilOfScaledInput) {
  const Tensor out = quicksr::resize_bicubic(Tensor(3, 7, 10, 0.5f), 0.3);
  EXPECT_EQ(out.height, 3);  // ceil(2.1)
  EXPECT_EQ(out.width, 3);   // ceil(3.0)
  const Tensor up = quicksr::resize_bicubic(Tensor(1, 5, 3, 0.5f), 1.5);
  EXPECT_EQ(up.height, 8);  // ceil(7.5)
  EXPECT_EQ(up.width, 5);   // ceil(4.5)
}

TEST(ResizeBicubic, ImageCarriesAlphaGrayAndBitDepth) {
  quicksr::Image image;
  image.width = 6;
  image.height = 4;
  image.rgb.assign(6 * 4 * 3, 0.25f);
  image.alpha.assign(6 * 4, 0.75f);
  image.bit_depth = 16;
  image.gray = true;
  const quicksr::Image out = quicksr::resize_bicubic(image, 2.0);
  EXPECT_EQ(out.width, 12);
  EXPECT_EQ(out.height, 8);
  ASSERT_EQ(out.rgb.size(), 12u * 8u * 3u);
  ASSERT_EQ(out.alpha.size(), 12u * 8u);
  EXPECT_EQ(out.bit_depth, 16);
  EXPECT_TRUE(out.gray);
  // A constant image stays constant (weights sum to one).
  for (float v : out.rgb) EXPECT_NEAR(v, 0.25f, 1e-6);
  for (float v : out.alpha) EXPECT_NEAR(v, 0.75f, 1e-6);
}

TEST(ResizeBicubicOpenCv, UpscaleByTwoMatchesHandComputedPixels) {
  // x2, OpenCV: output x samples (x + 0.5) / 2 - 0.5. x = 0: -0.25, taps -2..1 clamped to
  // 0 0 0 1 with a = -0.75 weights at t = 0.75: -0.03515625 0.26171875 0.87890625 -0.10546875.
  // On the row 0 1 2 3 that is -0.10546875. x = 1: 0.25, taps -1..2 -> 0 0 1 2, weights at
  // t = 0.25: -0.10546875 0.87890625 0.26171875 -0.03515625 -> 0.26171875 - 0.0703125.
  // x = 4: 1.75, taps 0..3 unclamped, weights at t = 0.75: 0.26171875 + 1.7578125 - 0.31640625
  // = 1.703125 (a = -0.75 does not reproduce a ramp; MATLAB's a = -0.5 would give 1.75).
  // Columns act on 0 10 20 30 the same way.
  const Tensor out = quicksr::resize_bicubic(ramp4x4(), 2.0, quicksr::BicubicFlavour::opencv);
  ASSERT_EQ(out.height, 8);
  ASSERT_EQ(out.width, 8);
  EXPECT_NEAR(out.at(0, 0, 0), 11 * -0.10546875, 1e-6);
  EXPECT_NEAR(out.at(0, 1, 1), 11 * 0.19140625, 1e-6);
  EXPECT_NEAR(out.at(0, 4, 4), 11 * 1.703125, 1e-5);
  EXPECT_NEAR(out.at(0, 0, 4), 10 * -0.10546875 + 1.703125, 1e-6);
}

// `t` (planar) as an interleaved OpenCV float image, and back.
cv::Mat to_mat(const Tensor& t) {
  cv::Mat mat(t.height, t.width, CV_32FC(t.channels));
  for (int y = 0; y < t.height; ++y) {
    for (int x = 0; x < t.width; ++x) {
      for (int c = 0; c < t.channels; ++c) mat.ptr<float>(y)[x * t.channels + c] = t.at(c, y, x);
    }
  }
  return mat;
}

// Every value of `got` within `tolerance` of the interleaved float image `want` (same size).
void expect_matches(const Tensor& got, const cv::Mat& want, float tolerance) {
  ASSERT_EQ(got.height, want.rows);
  ASSERT_EQ(got.width, want.cols);
  for (int y = 0; y < got.height; ++y) {
    for (int x = 0; x < got.width; ++x) {
      for (int c = 0; c < got.channels; ++c) {
        ASSERT_NEAR(got.at(c, y, x), want.ptr<float>(y)[x * got.channels + c], tolerance)
            << "channel " << c << " at " << y << "," << x;
      }
    }
  }
}

TEST(ResizeBicubicOpenCv, MatchesCvResizeInterCubic) {
  const Tensor in = quicksr::test_support::random_tensor(3, 13, 17, 11);
  const cv::Mat source = to_mat(in);
  for (double scale : {2.0, 3.0, 4.0, 1.5, 1.0, 0.5, 0.3, 1.0 / 3.0, 2.7}) {
    SCOPED_TRACE("scale " + std::to_string(scale));
    cv::Mat want;
    cv::resize(source, want, cv::Size(), scale, scale, cv::INTER_CUBIC);
    expect_matches(quicksr::resize_bicubic(in, scale, quicksr::BicubicFlavour::opencv), want, 2e-6);
    EXPECT_EQ(quicksr::bicubic_output_length(in.width, scale, quicksr::BicubicFlavour::opencv),
              want.cols);
  }
}

TEST(ResizeBicubicOpenCv, MatchesCvResizeOn8BitImagesWithinOneLevel) {
  // On 8-bit images OpenCV uses 11-bit fixed-point weights and rounds: one level at most apart.
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> level(0, 255);
  cv::Mat source(21, 30, CV_8UC3);
  Tensor in(3, 21, 30);
  for (int y = 0; y < 21; ++y) {
    for (int x = 0; x < 30; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int v = level(rng);
        source.ptr<unsigned char>(y)[x * 3 + c] = static_cast<unsigned char>(v);
        in.at(c, y, x) = static_cast<float>(v);
      }
    }
  }
  for (double scale : {2.0, 1.5, 4.0}) {
    cv::Mat want;
    cv::resize(source, want, cv::Size(), scale, scale, cv::INTER_CUBIC);
    const Tensor got = quicksr::resize_bicubic(in, scale, quicksr::BicubicFlavour::opencv);
    ASSERT_EQ(got.height, want.rows);
    ASSERT_EQ(got.width, want.cols);
    for (int y = 0; y < got.height; ++y) {
      for (int x = 0; x < got.width; ++x) {
        for (int c = 0; c < 3; ++c) {
          const float mine = std::round(std::clamp(got.at(c, y, x), 0.0f, 255.0f));
          ASSERT_LE(std::abs(mine - want.ptr<unsigned char>(y)[x * 3 + c]), 1.0f) << scale;
        }
      }
    }
  }
}

TEST(ResizeBicubicOpenCv, OutputSizeRoundsHalfToEven) {
  // cvRound: 7 * 1.5 = 10.5 -> 10, 5 * 1.5 = 7.5 -> 8; MATLAB's ceil gives 11 and 8.
  const Tensor out =
      quicksr::resize_bicubic(Tensor(1, 5, 7, 0.5f), 1.5, quicksr::BicubicFlavour::opencv);
  EXPECT_EQ(out.width, 10);
  EXPECT_EQ(out.height, 8);
  EXPECT_EQ(quicksr::bicubic_output_length(7, 1.5), 11);
}

TEST(Downscale, PointTakesThePixelUnderEachCentre) {
  // x2: the centre of output x is 2x + 1, the boundary of input pixels 2x and 2x + 1: 2x.
  // x1.5: centres 0.75, 2.25, 3.75, 5.25, ... inside pixels 0, 2, 3, 5, ...
  const Tensor in = ramp4x4();
  const Tensor half = quicksr::downscale_point(in, 2.0);
  ASSERT_EQ(half.width, 2);
  ASSERT_EQ(half.height, 2);
  EXPECT_EQ(half.at(0, 0, 0), 0.0f);
  EXPECT_EQ(half.at(0, 1, 0), 20.0f);
  EXPECT_EQ(half.at(0, 1, 1), 22.0f);
  Tensor row(1, 3, 9);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 9; ++x) row.at(0, y, x) = static_cast<float>(x);
  }
  const Tensor two_thirds = quicksr::downscale_point(row, 1.5);
  ASSERT_EQ(two_thirds.width, 6);
  const float want[] = {0, 2, 3, 5, 6, 8};
  for (int x = 0; x < 6; ++x) EXPECT_EQ(two_thirds.at(0, 0, x), want[x]) << x;
}

TEST(Downscale, AreaAveragesTheFootprint) {
  // x2 of 10 y + x: the mean of {0, 1, 10, 11} = 5.5. x1.5 of 0..8: [0, 1.5) -> (0 + 0.5 * 1)
  // / 1.5 = 1/3, [1.5, 3) -> (0.5 * 1 + 2) / 1.5 = 5/3.
  EXPECT_NEAR(quicksr::downscale_area(ramp4x4(), 2.0).at(0, 0, 0), 5.5, 1e-6);
  Tensor row(1, 3, 9);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 9; ++x) row.at(0, y, x) = static_cast<float>(x);
  }
  const Tensor two_thirds = quicksr::downscale_area(row, 1.5);
  ASSERT_EQ(two_thirds.width, 6);
  EXPECT_NEAR(two_thirds.at(0, 0, 0), 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(two_thirds.at(0, 0, 1), 5.0 / 3.0, 1e-6);
}

TEST(Downscale, MatchesCvResizeNearestExactAndArea) {
  const Tensor in = quicksr::test_support::random_tensor(3, 24, 36, 13);
  const cv::Mat source = to_mat(in);
  for (double factor : {2.0, 3.0, 4.0, 1.5}) {
    SCOPED_TRACE("factor " + std::to_string(factor));
    const Tensor point = quicksr::downscale_point(in, factor);
    EXPECT_EQ(point.width, static_cast<int>(36 / factor));
    const cv::Size size(point.width, point.height);
    cv::Mat want_point, want_area;
    cv::resize(source, want_point, size, 0, 0, cv::INTER_NEAREST_EXACT);
    cv::resize(source, want_area, size, 0, 0, cv::INTER_AREA);
    expect_matches(point, want_point, 0.0f);
    expect_matches(quicksr::downscale_area(in, factor), want_area, 2e-6);
  }
  EXPECT_THROW(quicksr::downscale_point(in, 0.5), quicksr::Error);
  EXPECT_THROW(quicksr::downscale_area(Tensor(1, 2, 2), 3.0), quicksr::Error);
}

TEST(ResizeBicubic, RejectsBadScale) {
  EXPECT_THROW(quicksr::resize_bicubic(Tensor(1, 4, 4), 0.0), quicksr::Error);
  EXPECT_THROW(quicksr::resize_bicubic(Tensor(1, 4, 4), -2.0), quicksr::Error);
  EXPECT_THROW(quicksr::resize_bicubic(Tensor(1, 4, 4), std::nan("")), quicksr::Error);
}

// The benchmark LR images were made in MATLAB from the HR cropped to a multiple of the scale at
// the top-left (modcrop) by imresize(hr, 1/s, 'bicubic') on uint8 and saved as PNG. MATLAB keeps
// uint8 data uint8 between its two passes (height, then width), so besides the float result this
// also replays that: each pass alone is a resize of single columns (or rows) stacked as channels,
// since an axis of length 1 maps onto itself (every tap mirrors to the one sample). Like MATLAB it
// works on 0..255 values, where the rounding ties (x.5, common with the dyadic weights of x2 and
// x4) are exact.
Tensor round_to_levels(const Tensor& t, float unit) {
  Tensor out = t;
  for (float& v : out.data) v = std::round(std::clamp(v * unit, 0.0f, 255.0f));
  return out;
}

// `hr` in 0..255 levels; the result too.
Tensor matlab_uint8_downscale(const Tensor& hr, int s) {
  Tensor columns(hr.channels * hr.width, hr.height, 1);
  for (int c = 0; c < hr.channels; ++c) {
    for (int y = 0; y < hr.height; ++y) {
      for (int x = 0; x < hr.width; ++x) columns.at(c * hr.width + x, y, 0) = hr.at(c, y, x);
    }
  }
  const Tensor tall = round_to_levels(quicksr::resize_bicubic(columns, 1.0 / s), 1.0f);
  const int h = tall.height;
  Tensor rows(hr.channels * h, 1, hr.width);
  for (int c = 0; c < hr.channels; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < hr.width; ++x) rows.at(c * h + y, 0, x) = tall.at(c * hr.width + x, y, 0);
    }
  }
  const Tensor wide = quicksr::resize_bicubic(rows, 1.0 / s);
  Tensor out(hr.channels, h, wide.width);
  for (int c = 0; c < hr.channels; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < wide.width; ++x) out.at(c, y, x) = wide.at(c * h + y, 0, x);
    }
  }
  return round_to_levels(out, 1.0f);
}

struct Agreement {
  long total = 0, exact = 0, within_one = 0;
  void add(const Tensor& mine, const Tensor& matlab_levels) {
    for (std::size_t i = 0; i < mine.data.size(); ++i) {
      const float difference = std::abs(mine.data[i] - matlab_levels.data[i]);
      exact += difference == 0.0f;
      within_one += difference <= 1.0f;
      ++total;
    }
  }
  double exact_fraction() const { return static_cast<double>(exact) / total; }
  double within_one_fraction() const { return static_cast<double>(within_one) / total; }
};

TEST(ResizeBicubic, ReproducesMatlabBenchmarkLrImages) {
  const fs::path root = fs::path(QUICKSR_SHARED_DIR) / "data" / "benchmarks";
  Agreement float_path, uint8_path;
#ifdef QUICKSR_TEST_ASAN
  const std::vector<const char*> sets = {
      "Set5"};  // the sanitizers check the code, Release the data
#else
  const std::vector<const char*> sets = {"Set5", "Set14"};
#endif
  for (const char* set : sets) {
    const fs::path hr_dir = root / set / "HR";
    if (!fs::is_directory(hr_dir)) GTEST_SKIP() << hr_dir << " is absent";
    for (const auto& entry : fs::directory_iterator(hr_dir)) {
      const std::string stem = entry.path().stem().string();
      const Tensor full = quicksr::to_tensor(quicksr::read_image(entry.path()));
      for (int s : {2, 3, 4}) {
        const fs::path lr_path = root / set / "LR_bicubic" / ("X" + std::to_string(s)) /
                                 (stem + "x" + std::to_string(s) + ".png");
        if (!fs::exists(lr_path)) GTEST_SKIP() << lr_path << " is absent";
        const Tensor reference =
            round_to_levels(quicksr::to_tensor(quicksr::read_image(lr_path)), 255.0f);
        Tensor hr(3, full.height - full.height % s, full.width - full.width % s);
        for (int c = 0; c < 3; ++c) {
          for (int y = 0; y < hr.height; ++y) {
            for (int x = 0; x < hr.width; ++x) hr.at(c, y, x) = full.at(c, y, x);
          }
        }
        const Tensor lr = quicksr::resize_bicubic(hr, 1.0 / s);
        ASSERT_EQ(lr.height, reference.height) << lr_path;
        ASSERT_EQ(lr.width, reference.width) << lr_path;
        float_path.add(round_to_levels(lr, 255.0f), reference);
        uint8_path.add(matlab_uint8_downscale(round_to_levels(hr, 255.0f), s), reference);
      }
    }
  }
  std::printf(
      "MATLAB LR reproduction over %ld values: float exact %.5f, within +-1 %.6f; "
      "uint8 passes exact %.6f\n",
      float_path.total, float_path.exact_fraction(), float_path.within_one_fraction(),
      uint8_path.exact_fraction());
  EXPECT_GE(float_path.within_one_fraction(), 0.999);
  EXPECT_GE(uint8_path.exact_fraction(), 0.9999);
}

}  // namespace
