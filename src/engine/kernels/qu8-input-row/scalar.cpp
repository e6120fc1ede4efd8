// INT8 input row, portable: the 3 bytes of a pixel and its red again.
#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

void qu8_input_row_ukernel_scalar(const QU8InputRowArgs& a) {
  for (int x = 0; x < a.pixels; ++x) {
    for (int c = 0; c < kQu8Group; ++c) a.out[x * kQu8Group + c] = a.rgb[x * 3 + c % 3];
  }
}

const QU8InputRowConfig qu8_input_row_scalar_config{"qu8-input-row/scalar", Isa::kScalar,
                                                    qu8_input_row_ukernel_scalar};

}  // namespace quicksr::engine
