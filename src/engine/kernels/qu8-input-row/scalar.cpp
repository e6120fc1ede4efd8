// INT8 input row, portable: the 3 bytes of a pixel and its red again.
#include <array>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

// The bytes of R, G, B, R within a pixel.
std::array<int, kQu8Group> word_bytes(bool blue_first) {
  const int red = blue_first ? 2 : 0;
  return {red, 1, 2 - red, red};
}

}  // namespace

void qu8_input_row_ukernel_scalar(const QU8InputRowArgs& a) {
  const std::array<int, kQu8Group> bytes = word_bytes(a.blue_first);
  for (int x = 0; x < a.pixels; ++x) {
    for (int c = 0; c < kQu8Group; ++c)
      a.out[x * kQu8Group + c] = a.rgb[x * a.pixel_bytes + bytes[c]];
  }
}

void qu8_input_row_from(const QU8InputRowArgs& a, int x) {
  QU8InputRowArgs rest = a;
  rest.rgb += x * a.pixel_bytes;
  rest.pixels -= x;
  rest.out += x * kQu8Group;
  qu8_input_row_ukernel_scalar(rest);
}

std::array<std::uint8_t, 16> qu8_input_row_lane_shuffle(int pixel_bytes, bool blue_first) {
  const std::array<int, kQu8Group> bytes = word_bytes(blue_first);
  std::array<std::uint8_t, 16> mask;
  for (int i = 0; i < 16; ++i) {
    mask[i] = static_cast<std::uint8_t>(i / kQu8Group * pixel_bytes + bytes[i % kQu8Group]);
  }
  return mask;
}

const QU8InputRowConfig qu8_input_row_scalar_config{"qu8-input-row/scalar", Isa::kScalar,
                                                    qu8_input_row_ukernel_scalar};

}  // namespace quicksr::engine
