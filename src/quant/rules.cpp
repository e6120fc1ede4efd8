// The scalar rules of docs/quantization.md. Everything here is float32 with round-half-to-even
// (std::nearbyint in the default rounding mode) and no contraction (-ffp-contract=off).
#include <algorithm>
#include <cmath>

#include "quicksr/quant.hpp"

namespace quicksr::quant {

namespace {

// clamp(nearbyint(t) + zero_point, bounds), clamping t first so the conversion is always in range
// (the same result: the bounds are integers). A NaN t (only where a multiplier overflowed to
// infinity and met a zero accumulator) gives lo, as vcvtps2dq's INT_MIN does after the clamp.
std::uint8_t round_and_clamp(float t, int zero_point, ClampBounds bounds) {
  const float lo = static_cast<float>(bounds.lo - zero_point);
  const float hi = static_cast<float>(bounds.hi - zero_point);
  const float clamped = t > lo ? std::min(t, hi) : lo;
  return static_cast<std::uint8_t>(static_cast<int>(std::nearbyint(clamped)) + zero_point);
}

}  // namespace

ActivationEncoding encoding_from_range(float min, float max) {
  constexpr float kMinRange = 1e-6f;
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  if (max - min < kMinRange) max = min + kMinRange;
  ActivationEncoding encoding;
  encoding.scale = (max - min) / 255.0f;
  encoding.zero_point = std::clamp(static_cast<int>(std::nearbyint(-min / encoding.scale)), 0, 255);
  return encoding;
}

std::uint8_t quantize(float x, const ActivationEncoding& encoding) {
  return round_and_clamp(x / encoding.scale, encoding.zero_point, ClampBounds{0, 255});
}

float dequantize(std::uint8_t q, const ActivationEncoding& encoding) {
  return encoding.scale * static_cast<float>(static_cast<int>(q) - encoding.zero_point);
}

ClampBounds clip_bounds(const ActivationEncoding& output, float lo, float hi) {
  const auto level = [&](float x) {
    const double steps = std::nearbyint(static_cast<double>(x) / static_cast<double>(output.scale));
    return static_cast<int>(std::clamp(output.zero_point + steps, 0.0, 255.0));
  };
  return ClampBounds{level(lo), level(hi)};
}

ClampBounds relu1_bounds(const ActivationEncoding& output) {
  return clip_bounds(output, 0.0f, 1.0f);
}

ClampBounds activation_bounds(const ActivationEncoding& output, Activation activation) {
  if (activation == Activation::kReLU1) return relu1_bounds(output);
  return ClampBounds{std::max(0, output.zero_point), 255};  // max(x, 0), then the u8 range
}

float requant_multiplier(float input_scale, float weight_scale, float output_scale) {
  return static_cast<float>(static_cast<double>(input_scale) * static_cast<double>(weight_scale) /
                            static_cast<double>(output_scale));
}

std::uint8_t requantize(std::int32_t acc, float multiplier, int zero_point, ClampBounds bounds) {
  const float t = static_cast<float>(acc) * multiplier;
  return round_and_clamp(t, zero_point, bounds);
}

std::uint8_t requantize_sum(std::int32_t acc_a, float multiplier_a, std::int32_t acc_b,
                            float multiplier_b, int zero_point, ClampBounds bounds) {
  const float product_a = static_cast<float>(acc_a) * multiplier_a;
  const float product_b = static_cast<float>(acc_b) * multiplier_b;
  return round_and_clamp(product_a + product_b, zero_point, bounds);
}

}  // namespace quicksr::quant
