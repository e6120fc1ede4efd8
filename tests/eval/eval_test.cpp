// The evaluation protocol against hand-computed scores, a direct SSIM, and published bicubic
// numbers on Set5.
#include "quicksr/eval.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "quicksr/error.hpp"
#include "quicksr/image.hpp"
#include "quicksr/resize.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using quicksr::EvalProtocol;
using quicksr::Scale;
using quicksr::Tensor;

namespace {

// The PSNR the authors' formula gives for a root-mean-square error `rms` on the 0..255 scale.
double psnr_for_rms(double rms) { return 10 * std::log10(255.0 * 255.0 / (rms * rms + 1e-8)); }

Tensor random_image(int h, int w, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  Tensor t(3, h, w);
  for (float& v : t.data) v = value(rng);
  return t;
}

EvalProtocol rgb_protocol() {
  EvalProtocol protocol;
  protocol.rgb = true;
  return protocol;
}

TEST(Psnr, ConstantOffsetOnAllChannels) {
  const Tensor hr(3, 8, 8, 0.5f);
  Tensor sr = hr;
  for (float& v : sr.data) v += 10.0f / 255.0f;
  // RGB: every value is off by 10 levels.
  EXPECT_NEAR(quicksr::psnr(sr, hr, rgb_protocol()), psnr_for_rms(10), 1e-4);
  // Y: the offset is scaled by 65.481 + 128.553 + 24.966 = 219 (per unit of RGB).
  EXPECT_NEAR(quicksr::psnr(sr, hr), psnr_for_rms(219.0 * 10 / 255), 1e-4);
}

TEST(Psnr, YWeightsAreBt601) {
  const Tensor hr(3, 6, 6, 0.25f);
  const double weights[3] = {65.481, 128.553, 24.966};
  for (int c = 0; c < 3; ++c) {
    Tensor sr = hr;
    for (int y = 0; y < 6; ++y) {
      for (int x = 0; x < 6; ++x) sr.at(c, y, x) += 0.125f;
    }
    EXPECT_NEAR(quicksr::psnr(sr, hr), psnr_for_rms(weights[c] * 0.125), 1e-4) << "channel " << c;
  }
}

TEST(Psnr, BorderIsExcluded) {
  const Tensor hr(3, 10, 10, 0.5f);
  Tensor sr = hr;
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 10; ++i) {
      sr.at(c, 0, i) = sr.at(c, 9, i) = sr.at(c, i, 0) = sr.at(c, i, 9) = 0.0f;
    }
  }
  EvalProtocol border1 = rgb_protocol();
  border1.border = 1;
  EXPECT_NEAR(quicksr::psnr(sr, hr, border1), psnr_for_rms(0), 1e-9);
  // Without the crop 36 of 100 values are off by 127.5 levels.
  EXPECT_NEAR(quicksr::psnr(sr, hr, rgb_protocol()), psnr_for_rms(std::sqrt(0.36) * 127.5), 1e-4);
}

TEST(Psnr, RejectsMismatchedSizesAndHugeBorders) {
  EXPECT_THROW(quicksr::psnr(Tensor(3, 4, 4), Tensor(3, 4, 5)), quicksr::Error);
  EvalProtocol border;
  border.border = 2;
  EXPECT_THROW(quicksr::psnr(Tensor(3, 4, 4), Tensor(3, 4, 4), border), quicksr::Error);
}

// SSIM written out directly: for every window position, Gaussian-weighted means, variances and
// covariance from their definitions.
double direct_ssim_plane(const std::vector<double>& a, const std::vector<double>& b, int h, int w) {
  double g[11][11];
  double total = 0;
  for (int i = 0; i < 11; ++i) {
    for (int j = 0; j < 11; ++j) {
      g[i][j] = std::exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
      total += g[i][j];
    }
  }
  const double c1 = std::pow(0.01 * 255, 2), c2 = std::pow(0.03 * 255, 2);
  double sum = 0;
  int count = 0;
  for (int y = 0; y + 11 <= h; ++y) {
    for (int x = 0; x + 11 <= w; ++x) {
      double ma = 0, mb = 0;
      for (int i = 0; i < 11; ++i) {
        for (int j = 0; j < 11; ++j) {
          ma += g[i][j] / total * a[(y + i) * w + x + j];
          mb += g[i][j] / total * b[(y + i) * w + x + j];
        }
      }
      double va = 0, vb = 0, cov = 0;
      for (int i = 0; i < 11; ++i) {
        for (int j = 0; j < 11; ++j) {
          const double da = a[(y + i) * w + x + j] - ma, db = b[(y + i) * w + x + j] - mb;
          va += g[i][j] / total * da * da;
          vb += g[i][j] / total * db * db;
          cov += g[i][j] / total * da * db;
        }
      }
      sum += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      ++count;
    }
  }
  return sum / count;
}

std::vector<double> y_plane(const Tensor& t) {
  std::vector<double> y;
  for (int i = 0; i < t.height * t.width; ++i) {
    y.push_back(16 + 65.481 * t.data[i] + 128.553 * t.data[t.height * t.width + i] +
                24.966 * t.data[2 * t.height * t.width + i]);
  }
  return y;
}

TEST(Ssim, IdenticalImagesScoreOne) {
  const Tensor image = random_image(20, 24, 1);
  EXPECT_NEAR(quicksr::ssim(image, image), 1.0, 1e-12);
  EXPECT_NEAR(quicksr::ssim(image, image, rgb_protocol()), 1.0, 1e-12);
}

TEST(Ssim, ConstantImagesFollowTheLuminanceTerm) {
  // No variance: SSIM = (2 a b + C1) / (a^2 + b^2 + C1) with a, b the Y values.
  const Tensor a(3, 12, 12, 0.2f), b(3, 12, 12, 0.6f);
  const double ya = 16 + 219 * 0.2, yb = 16 + 219 * 0.6, c1 = 6.5025;
  EXPECT_NEAR(quicksr::ssim(a, b), (2 * ya * yb + c1) / (ya * ya + yb * yb + c1), 1e-6);
}

TEST(Ssim, MatchesDirectImplementation) {
  const Tensor a = random_image(19, 23, 2);
  Tensor b = a;
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (float& v : b.data) v += noise(rng);
  EXPECT_NEAR(quicksr::ssim(b, a), direct_ssim_plane(y_plane(b), y_plane(a), 19, 23), 1e-9);

  EvalProtocol border = rgb_protocol();
  border.border = 2;
  double expected = 0;
  for (int c = 0; c < 3; ++c) {
    std::vector<double> pa, pb;
    for (int y = 2; y < 17; ++y) {
      for (int x = 2; x < 21; ++x) {
        pa.push_back(255.0 * a.at(c, y, x));
        pb.push_back(255.0 * b.at(c, y, x));
      }
    }
    expected += direct_ssim_plane(pb, pa, 15, 19) / 3;
  }
  EXPECT_NEAR(quicksr::ssim(b, a, border), expected, 1e-9);
}

TEST(Ssim, RejectsImagesSmallerThanTheWindow) {
  EXPECT_THROW(quicksr::ssim(Tensor(3, 10, 40), Tensor(3, 10, 40)), quicksr::Error);
}

TEST(CropToMultiple, CentresTheCrop) {
  Tensor hr(1, 11, 8);
  for (int y = 0; y < 11; ++y) {
    for (int x = 0; x < 8; ++x) hr.at(0, y, x) = static_cast<float>(100 * y + x);
  }
  // x3: 11 -> 9 rows from row 1, 8 -> 6 columns from column 1.
  const Tensor x3 = quicksr::crop_to_multiple(hr, Scale{3, 1});
  ASSERT_EQ(x3.height, 9);
  ASSERT_EQ(x3.width, 6);
  EXPECT_EQ(x3.at(0, 0, 0), 101.0f);
  EXPECT_EQ(x3.at(0, 8, 5), 906.0f);
  // x1.5 crops to a multiple of 3 as well; x4: 11 -> 8 from row 1, 8 stays.
  EXPECT_EQ(quicksr::crop_to_multiple(hr, Scale{3, 2}).height, 9);
  const Tensor x4 = quicksr::crop_to_multiple(hr, Scale{4, 1});
  ASSERT_EQ(x4.height, 8);
  ASSERT_EQ(x4.width, 8);
  EXPECT_EQ(x4.at(0, 0, 0), 100.0f);
}

TEST(MakeLr, SizesAreExactForEveryScale) {
  const Tensor hr = random_image(24, 36, 4);
  EXPECT_EQ(quicksr::make_lr(hr, Scale{2, 1}).width, 18);
  EXPECT_EQ(quicksr::make_lr(hr, Scale{3, 1}).height, 8);
  EXPECT_EQ(quicksr::make_lr(hr, Scale{4, 1}).width, 9);
  const Tensor lr = quicksr::make_lr(hr, Scale{3, 2});
  EXPECT_EQ(lr.height, 16);
  EXPECT_EQ(lr.width, 24);
  EXPECT_THROW(quicksr::make_lr(random_image(10, 10, 5), Scale{3, 1}), quicksr::Error);
}

TEST(MakeLr, TruncatesOrRoundsTo8Bits) {
  // A constant HR stays constant through the bicubic; 100.6 levels truncate to 100, round to 101,
  // and an exact level survives truncation.
  const Tensor between(3, 8, 8, 100.6f / 255.0f);
  for (float v : quicksr::make_lr(between, Scale{2, 1}).data) EXPECT_FLOAT_EQ(v, 100.0f / 255.0f);
  EvalProtocol round;
  round.round_lr = true;
  for (float v : quicksr::make_lr(between, Scale{2, 1}, round).data) {
    EXPECT_FLOAT_EQ(v, 101.0f / 255.0f);
  }
  const Tensor level(3, 12, 12, 37.0f / 255.0f);
  for (float v : quicksr::make_lr(level, Scale{3, 1}).data) EXPECT_FLOAT_EQ(v, 37.0f / 255.0f);
}

TEST(BasicsrProtocol, BorderIsTheScale) {
  EXPECT_EQ(quicksr::basicsr_protocol(Scale{4, 1}).border, 4);
  EXPECT_EQ(quicksr::basicsr_protocol(Scale{3, 2}).border, 2);
  EXPECT_TRUE(quicksr::basicsr_protocol(Scale{2, 1}).round_lr);
  EXPECT_FALSE(quicksr::basicsr_protocol(Scale{2, 1}).rgb);
}

class EvaluateFolder : public ::testing::Test {
 protected:
  void write_constant(const std::string& name, int w, int h, float value) {
    quicksr::Image image;
    image.width = w;
    image.height = h;
    image.rgb.assign(static_cast<std::size_t>(w) * h * 3, value);
    quicksr::write_image(image, dir_ / name);
  }
  quicksr::test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(EvaluateFolder, ScoresEveryImageSortedByName) {
  write_constant("b.png", 25, 22, 51.0f / 255.0f);   // 0.2
  write_constant("a.png", 23, 24, 153.0f / 255.0f);  // 0.6
  std::ofstream(dir_ / "notes.txt") << "not an image";
  std::vector<std::pair<int, int>> lr_sizes;
  // An "upscaler" that answers mid-gray: the score then depends only on the HR.
  const auto gray = [&](const Tensor& lr) {
    lr_sizes.emplace_back(lr.width, lr.height);
    return Tensor(3, lr.height * 2, lr.width * 2, 0.4f);
  };
  const quicksr::EvalResult result = quicksr::evaluate(gray, dir_, Scale{2, 1});
  ASSERT_EQ(result.images.size(), 2u);
  EXPECT_EQ(result.images[0].name, "a");
  EXPECT_EQ(result.images[1].name, "b");
  // Y differs by 219 * 0.2 everywhere for both images; mean luminance terms as for constants.
  EXPECT_NEAR(result.images[0].psnr, psnr_for_rms(219 * 0.2), 1e-3);
  EXPECT_NEAR(result.mean_psnr, psnr_for_rms(219 * 0.2), 1e-3);
  const double ya = 16 + 219 * 0.6, yb = 16 + 219 * 0.4, c1 = 6.5025;
  EXPECT_NEAR(result.images[0].ssim, (2 * ya * yb + c1) / (ya * ya + yb * yb + c1), 1e-5);
  // a: 23x24 cropped to 22x24 -> LR 11x12; b: 25x22 -> 24x22 -> 12x11.
  ASSERT_EQ(lr_sizes.size(), 2u);
  EXPECT_EQ(lr_sizes[0], std::make_pair(11, 12));
  EXPECT_EQ(lr_sizes[1], std::make_pair(12, 11));
}

TEST_F(EvaluateFolder, ReportsBadFoldersAndOutputs) {
  EXPECT_THROW(quicksr::evaluate([](const Tensor& t) { return t; }, dir_, Scale{2, 1}),
               quicksr::Error);  // empty
  EXPECT_THROW(quicksr::evaluate([](const Tensor& t) { return t; }, dir_ / "missing", Scale{2, 1}),
               quicksr::Error);
  write_constant("a.png", 8, 8, 0.5f);
  try {
    quicksr::evaluate([](const Tensor& t) { return t; }, dir_, Scale{2, 1});
    FAIL() << "an output of the LR size was accepted";
  } catch (const quicksr::Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.png"), std::string::npos) << e.what();
  }
}

TEST_F(EvaluateFolder, MatchesPairsByNameWithoutLrHrWords) {
  fs::create_directories(dir_ / "lr");
  fs::create_directories(dir_ / "hr");
  write_constant("lr/0801x4.png", 4, 4, 0.5f);
  write_constant("lr/city_LR4.png", 4, 4, 0.5f);
  write_constant("hr/0801.png", 16, 16, 0.5f);
  write_constant("hr/city_HR.png", 16, 16, 0.5f);
  write_constant("hr/0802.png", 16, 16, 0.5f);  // no LR: left out
  const std::vector<quicksr::ImagePair> pairs =
      quicksr::match_image_pairs(dir_ / "lr", dir_ / "hr");
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].name, "0801");
  EXPECT_EQ(pairs[0].hr, dir_ / "hr/0801.png");
  EXPECT_EQ(pairs[1].name, "city");
  EXPECT_EQ(pairs[1].hr, dir_ / "hr/city_HR.png");

  // One folder holding both sides (as SRGD's pair/): the LR/HR word says which is which.
  write_constant("LR_270p.png", 4, 4, 0.5f);
  write_constant("HR_1080p.png", 16, 16, 0.5f);
  const std::vector<quicksr::ImagePair> one = quicksr::match_image_pairs(dir_, dir_);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].lr, dir_ / "LR_270p.png");
  EXPECT_EQ(one[0].hr, dir_ / "HR_1080p.png");

  write_constant("lr/0900x4.png", 4, 4, 0.5f);
  try {
    quicksr::match_image_pairs(dir_ / "lr", dir_ / "hr");
    FAIL() << "an LR without HR was accepted";
  } catch (const quicksr::Error& e) {
    EXPECT_NE(std::string(e.what()).find("0900x4.png"), std::string::npos) << e.what();
  }
}

// Given pairs whose LR is the protocol's own LR score exactly what the synthesised-LR evaluation
// scores.
TEST_F(EvaluateFolder, PairsScoreLikeTheSynthesisedLr) {
  fs::create_directories(dir_ / "hr");
  fs::create_directories(dir_ / "lr");
  for (int n = 0; n < 2; ++n) {
    const Tensor hr = random_image(24, 30 + 6 * n, 7 + n);
    const std::string name = "im" + std::to_string(n);
    quicksr::write_image(quicksr::from_tensor(hr), dir_ / "hr" / (name + ".png"));
    const Tensor lr = quicksr::make_lr(
        quicksr::to_tensor(quicksr::read_image(dir_ / "hr" / (name + ".png"))), Scale{3, 1});
    quicksr::write_image(quicksr::from_tensor(lr), dir_ / "lr" / (name + "x3.png"));
  }
  const auto bicubic = [](const Tensor& lr) { return quicksr::resize_bicubic(lr, 3.0); };
  const quicksr::EvalResult synthesised = quicksr::evaluate(bicubic, dir_ / "hr", Scale{3, 1});
  const quicksr::EvalResult given = quicksr::evaluate_pairs(
      bicubic, quicksr::match_image_pairs(dir_ / "lr", dir_ / "hr"), Scale{3, 1});
  ASSERT_EQ(given.images.size(), 2u);
  EXPECT_EQ(given.images[1].name, "im1");
  EXPECT_EQ(given.mean_psnr, synthesised.mean_psnr);
  EXPECT_EQ(given.mean_ssim, synthesised.mean_ssim);
}

// Published bicubic baseline (the SRCNN/VDSR-era MATLAB scripts: Y, border = scale; the tables of
// EDSR, RCAN and others repeat it): Set5 x2 33.66 dB / 0.9299, x3 30.39 / 0.8682,
// x4 28.42 / 0.8104. Those scripts resize the Y plane in double while the basicsr protocol
// resizes RGB and rounds to 8 bits, which moves the mean by about 0.02 dB.
TEST(EvaluateSet5, BicubicMatchesPublishedBaseline) {
  const fs::path hr_dir = fs::path(QUICKSR_SHARED_DIR) / "data" / "benchmarks" / "Set5" / "HR";
  if (!fs::is_directory(hr_dir)) GTEST_SKIP() << hr_dir << " is absent";
  const struct {
    int scale;
    double psnr, ssim;
  } published[] = {{2, 33.66, 0.9299}, {3, 30.39, 0.8682}, {4, 28.42, 0.8104}};
  for (const auto& p : published) {
    const Scale scale{p.scale, 1};
    const auto bicubic = [&](const Tensor& lr) { return quicksr::resize_bicubic(lr, p.scale); };
    const quicksr::EvalResult basicsr =
        quicksr::evaluate(bicubic, hr_dir, scale, quicksr::basicsr_protocol(scale));
    const quicksr::EvalResult authors = quicksr::evaluate(bicubic, hr_dir, scale);
    std::printf("Set5 x%d bicubic: basicsr protocol %.3f / %.4f, quicksr protocol %.3f / %.4f\n",
                p.scale, basicsr.mean_psnr, basicsr.mean_ssim, authors.mean_psnr,
                authors.mean_ssim);
    EXPECT_NEAR(basicsr.mean_psnr, p.psnr, 0.03) << "x" << p.scale;
    EXPECT_NEAR(basicsr.mean_ssim, p.ssim, 0.0015) << "x" << p.scale;
  }
}

}  // namespace
