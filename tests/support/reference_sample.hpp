#pragma once
// A [0,1] value as an integer sample by its definition, with branches (NaN and negatives to 0,
// 1 and above to the maximum, else value * maximum + 0.5 truncated): the reference that the
// branch-free rounding of the image writers and the engines' 8-bit stores are checked against.
#include <cstdint>

namespace quicksr::test_support {

inline std::uint16_t reference_sample(float value, int max_value) {
  if (!(value > 0.0f)) return 0;
  if (value >= 1.0f) return static_cast<std::uint16_t>(max_value);
  return static_cast<std::uint16_t>(value * static_cast<float>(max_value) + 0.5f);
}

}  // namespace quicksr::test_support
