#pragma once
// A reproducible tensor of uniform values in [0, 1) (many tests want one; this is the one).
#include <random>

#include "quicksr/tensor.hpp"

namespace quicksr::test_support {

inline Tensor random_tensor(int channels, int height, int width, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Tensor t(channels, height, width);
  for (float& v : t.data) v = unit(rng);
  return t;
}

}  // namespace quicksr::test_support
