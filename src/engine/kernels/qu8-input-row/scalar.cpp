// INT8 input row, portable: the 3 bytes of a pixel and its red again.
#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

void qu8_input_row_ukernel_scalar(const QU8InputRowArgs& a) {
  const int red = a.blue_first ? 2 : 0;
  const int bytes[kQu8Group] = {red, 1, 2 - red, red};  // R, G, B, R within a pixel
  for (int x = 0; x < a.pixels; ++x) {
    for (int c = 0; c < kQu8Group; ++c)
      a.out[x * kQu8Group + c] = a.rgb[x * a.pixel_bytes + bytes[c]];
  }
}

const QU8InputRowConfig qu8_input_row_scalar_config{"qu8-input-row/scalar", Isa::kScalar,
                                                    qu8_input_row_ukernel_scalar};

}  // namespace quicksr::engine
