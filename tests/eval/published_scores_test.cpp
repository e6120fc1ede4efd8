// The protocol reproduces the scores published for the official QuickSRNet-Small weights (the
// authors' evaluation code, listed in shared/README.md): ONNX import + engine + evaluate().
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "quicksr/engine.hpp"
#include "quicksr/eval.hpp"
#include "quicksr/onnx.hpp"

namespace fs = std::filesystem;

namespace {

struct Published {
  const char* model;
  int scale;
  const char* set;
  double psnr;
  double ssim;  // 0 when not published
};

TEST(PublishedScores, QuickSrNetSmallReferenceWeights) {
  const fs::path shared = QUICKSR_SHARED_DIR;
  const Published cases[] = {
      {"quicksrnetsmall-2x-360p.onnx", 2, "Set5", 37.032, 0.9575},
      {"quicksrnetsmall-2x-360p.onnx", 2, "Set14", 32.522, 0.9107},
      {"quicksrnetsmall-4x-180p.onnx", 4, "Set5", 30.801, 0},
      {"quicksrnetsmall-4x-180p.onnx", 4, "Set14", 27.537, 0},
      {"quicksrnetsmall-2x-360p.onnx", 2, "BSD100", 31.582, 0.8927},
      {"quicksrnetsmall-4x-180p.onnx", 4, "BSD100", 27.059, 0.7196},
  };
  for (const Published& p : cases) {
    const fs::path model_path = shared / "models" / "reference" / p.model;
    const fs::path hr_dir = shared / "data" / "benchmarks" / p.set / "HR";
    if (!fs::exists(model_path)) GTEST_SKIP() << model_path << " is absent";
    if (!fs::is_directory(hr_dir)) GTEST_SKIP() << hr_dir << " is absent";
    const quicksr::Model model = quicksr::import_onnx(model_path);
    ASSERT_TRUE(model.is_quicksrnet()) << p.model;
    const quicksr::Engine engine =
        quicksr::Engine::create(std::get<quicksr::QuickSRNet>(model.net));
    const quicksr::EvalResult result =
        quicksr::evaluate([&](const quicksr::Tensor& lr) { return engine.run(lr); }, hr_dir,
                          quicksr::Scale{p.scale, 1});
    std::printf("%s on %s: %.3f dB / %.4f (published %.3f / %.4f)\n", p.model, p.set,
                result.mean_psnr, result.mean_ssim, p.psnr, p.ssim);
    EXPECT_NEAR(result.mean_psnr, p.psnr, 0.01) << p.model << " " << p.set;
    if (p.ssim > 0) {
      EXPECT_NEAR(result.mean_ssim, p.ssim, 0.0005) << p.model << " " << p.set;
    }
  }
}

}  // namespace
