// Interleaved image <-> planar tensor, against hand-laid-out values.
#include "gtest/gtest.h"
#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

namespace quicksr {
namespace {

TEST(ImageTensorTest, ToTensorMakesPlanesAndFromTensorInterleaves) {
  Image image;
  image.width = 2;
  image.height = 2;
  // Pixels (x, y): (0,0) (1,0) (0,1) (1,1), channel values 10 * pixel + channel.
  image.rgb = {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32};
  image.alpha = {1, 1, 1, 1};

  const Tensor tensor = to_tensor(image);
  EXPECT_EQ(tensor.channels, 3);
  EXPECT_EQ(tensor.height, 2);
  EXPECT_EQ(tensor.width, 2);
  EXPECT_EQ(tensor.data, (std::vector<float>{0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32}));

  const Image back = from_tensor(tensor);
  EXPECT_EQ(back.width, 2);
  EXPECT_EQ(back.height, 2);
  EXPECT_EQ(back.rgb, image.rgb);
  EXPECT_FALSE(back.has_alpha());
}

TEST(ImageTensorTest, NonSquareKeepsRowsAndColumns) {
  Tensor tensor(3, 1, 3);
  for (int x = 0; x < 3; ++x) tensor.at(1, 0, x) = static_cast<float>(x + 1);
  const Image image = from_tensor(tensor);
  EXPECT_EQ(image.width, 3);
  EXPECT_EQ(image.height, 1);
  EXPECT_EQ(image.rgb, (std::vector<float>{0, 1, 0, 0, 2, 0, 0, 3, 0}));
}

TEST(ImageTensorTest, FromTensorNeedsThreeChannels) {
  EXPECT_THROW(from_tensor(Tensor(1, 2, 2)), Error);
  EXPECT_THROW(from_tensor(Tensor(4, 2, 2)), Error);
}

// Issue 11: out-of-bounds Tensor::at is caught in debug and sanitizer builds.
TEST(ImageTensorTest, AtChecksBoundsInCheckedBuilds) {
#if !defined(NDEBUG) || defined(QUICKSR_CHECKED_ACCESS)
  Tensor tensor(2, 3, 4);
  tensor.at(1, 2, 3) = 1.0f;
  EXPECT_EQ(tensor.data.back(), 1.0f);
  EXPECT_DEATH(tensor.at(2, 0, 0), "outside a 2x3x4 tensor");
  EXPECT_DEATH(tensor.at(0, 3, 0), "outside");
  EXPECT_DEATH(tensor.at(0, 0, -1), "outside");
#else
  GTEST_SKIP() << "Tensor::at is unchecked in Release builds (checked with -DQUICKSR_SANITIZE=ON)";
#endif
}

}  // namespace
}  // namespace quicksr
