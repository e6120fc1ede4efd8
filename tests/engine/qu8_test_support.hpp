#pragma once
// What the INT8 engine suites share: random 8-bit images, 8-bit runs and the bit-identity check
// against the integer reference's planar output.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "engine/kernels/qu8_kernels.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/quant.hpp"

namespace quicksr {

// The exact AVX2 kernel's config (its packing is what the plan's channel order works for), or null
// in a build without x86 kernels.
inline const engine::QU8Conv3x3Config* avx2_split_config() {
  for (const engine::QU8Conv3x3Config* config : engine::qu8_conv3x3_configs()) {
    if (std::string_view(config->name) == "qu8-conv3x3/4x16-avx2-split") return config;
  }
  return nullptr;
}

inline U8Tensor random_u8_image(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  U8Tensor image(3, height, width);
  for (std::uint8_t& v : image.data) v = static_cast<std::uint8_t>(rng());
  return image;
}

inline std::vector<std::uint8_t> interleaved(const U8Tensor& planar) {
  std::vector<std::uint8_t> rgb(planar.data.size());
  for (int y = 0; y < planar.height; ++y) {
    for (int x = 0; x < planar.width; ++x) {
      for (int c = 0; c < 3; ++c) rgb[(y * planar.width + x) * 3 + c] = planar.at(c, y, x);
    }
  }
  return rgb;
}

inline std::vector<std::uint8_t> run_u8(const Engine& engine, const U8Tensor& image) {
  const std::vector<std::uint8_t> rgb = interleaved(image);
  std::vector<std::uint8_t> out(
      3ull * engine.output_width(image.width) * engine.output_height(image.height), 0);
  engine.run(rgb.data(), image.width, image.height, out.data());
  return out;
}

// Counts differing values (and reports the first) between the engine's interleaved output and
// the reference's planar one.
inline void expect_identical(const std::vector<std::uint8_t>& got, const U8Tensor& expected) {
  ASSERT_EQ(got.size(), expected.data.size());
  int mismatches = 0;
  for (int y = 0; y < expected.height; ++y) {
    for (int x = 0; x < expected.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int value = got[(y * expected.width + x) * 3 + c];
        if (value != expected.at(c, y, x) && mismatches++ == 0) {
          ADD_FAILURE() << "first mismatch at (" << y << ", " << x << ", " << c << "): engine "
                        << value << ", reference " << int{expected.at(c, y, x)};
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << expected.data.size() << " values";
}

}  // namespace quicksr
