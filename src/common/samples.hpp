#pragma once
// Integer samples (0..max_value: 255 for 8-bit, 65535 for 16-bit) and [0,1] values: the one
// conversion each way that the image writers, frame buffers and the engine's 8-bit views share
// (the image readers divide by the maximum in float as sample_to_unit does), so that every path
// gives the same pixels.
#include <cstdint>

namespace quicksr {

// A sample as a [0,1] value: sample / max_value, divided in float.
inline float sample_to_unit(unsigned sample, int max_value) {
  return static_cast<float>(sample) / static_cast<float>(max_value);
}

// A value clamped to [0,1]; NaN maps to 0. Compiles to maxss/minss (no data-dependent branches).
inline float clamp_unit(float value) {
  const float positive = value > 0.0f ? value : 0.0f;  // NaN too
  return positive < 1.0f ? positive : 1.0f;
}

// A clamp_unit() value as an integer in 0..max_value, rounded to nearest.
inline std::uint16_t round_to_sample(float clamped, int max_value) {
  return static_cast<std::uint16_t>(
      static_cast<int>(clamped * static_cast<float>(max_value) + 0.5f));
}

// A [0,1] value as an integer in 0..max_value, rounded to nearest; NaN and negatives map to 0.
// Inline and branch-free: frame-buffer calls run it on every output sample, and loops of it
// vectorise. (Loops on a constant max_value do only with the clamp and the rounding in loops of
// their own: GCC 12 makes the pair branches; see the engine's f32-tail.)
inline std::uint16_t unit_to_sample(float value, int max_value) {
  return round_to_sample(clamp_unit(value), max_value);
}

// A sample of a float or 8-bit RGB view as a [0,1] value, and a value stored into one: the
// engine's 8-bit views hold the float views' values converted as above.
inline float unit_of(float sample) { return sample; }
inline float unit_of(std::uint8_t sample) { return sample_to_unit(sample, 255); }
inline void store_unit(float& sample, float value) { sample = value; }
inline void store_unit(std::uint8_t& sample, float value) {
  sample = static_cast<std::uint8_t>(unit_to_sample(value, 255));
}

}  // namespace quicksr
