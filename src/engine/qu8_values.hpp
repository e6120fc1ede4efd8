#pragma once
// How the INT8 runners (band pipeline and general graphs) take an image in and give one out.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "quicksr/model.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::engine {

// The network input as u8: the 8-bit image itself, or a float image rounded to 8 bits as
// quant::to_u8 does (clamped to [0, 1], NaN -> 0).
inline std::uint8_t to_u8(std::uint8_t v) { return v; }
inline std::uint8_t to_u8(float v) {
  const float x = v > 0.0f ? std::min(v, 1.0f) : 0.0f;
  return static_cast<std::uint8_t>(std::nearbyint(x * 255.0f));
}

// An output value: the u8 itself, or dequantized with the output encoding.
inline void store(std::uint8_t& out, std::uint8_t q, const ActivationEncoding&) { out = q; }
inline void store(float& out, std::uint8_t q, const ActivationEncoding& encoding) {
  out = quant::dequantize(q, encoding);
}

}  // namespace quicksr::engine
