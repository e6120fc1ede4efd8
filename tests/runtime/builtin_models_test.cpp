// The built-in models are exactly the Small models shipped in models/, one per scale.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "quicksr/error.hpp"
#include "quicksr/upscaler.hpp"
#include "support/random_tensor.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;

fs::path shipped_small(Scale scale) {
  std::string suffix = scale.to_string();
  std::replace(suffix.begin(), suffix.end(), '.', '_');
  return fs::path(QUICKSR_SOURCE_DIR) / "models" / ("quicksrnet-small-x" + suffix + ".safetensors");
}

TEST(BuiltinModels, EachShippedSmallModelIsBuiltInAndOthersAreRefused) {
  const Tensor input = test_support::random_tensor(3, 17, 23, 5);
  for (const Scale scale : {Scale{2, 1}, Scale{3, 1}, Scale{4, 1}, Scale{3, 2}}) {
    SCOPED_TRACE(scale.to_string());
    if (!fs::exists(shipped_small(scale))) {
      try {
        Upscaler::builtin(scale);
        ADD_FAILURE() << "no model of this scale ships, yet one is built in";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("x2"), std::string::npos) << e.what();
      }
      continue;
    }
    const Upscaler builtin = Upscaler::builtin(scale);
    const Upscaler file = Upscaler::load(shipped_small(scale));
    EXPECT_EQ(builtin.name(), file.name());
    EXPECT_EQ(builtin.upscale(input).data, file.upscale(input).data);
  }
}

TEST(BuiltinModels, DefaultIsSmallX2) {
  EXPECT_EQ(Upscaler::builtin().name(), Upscaler::load(shipped_small({2, 1})).name());
  EXPECT_EQ(Upscaler::builtin().scale(), (Scale{2, 1}));
}

// output_length announces what upscale() returns, for odd sizes too (MATLAB bicubic and FSR 1
// round up, OpenCV bicubic to even, the x1.5 network rounds down).
TEST(UpscalerOutputLength, IsTheLengthUpscaleReturns) {
  const Tensor input = test_support::random_tensor(3, 17, 23, 5);
  for (const Upscaler& upscaler : {Upscaler::builtin(Scale{3, 2}), Upscaler::builtin(Scale{3, 1}),
                                   Upscaler::bicubic(Scale{3, 2}), Upscaler::bicubic(Scale{4, 1}),
                                   Upscaler::bicubic(Scale{3, 2}, BicubicFlavour::opencv),
                                   Upscaler::fsr1(Scale{3, 2}), Upscaler::fsr1(Scale{3, 1})}) {
    SCOPED_TRACE(upscaler.name());
    const Tensor output = upscaler.upscale(input);
    EXPECT_EQ(upscaler.output_length(23), output.width);
    EXPECT_EQ(upscaler.output_length(17), output.height);
  }
}

}  // namespace
}  // namespace quicksr
