// INT8 input row, portable: one 4-byte copy per pixel.
#include <cstring>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

void qu8_input_row_ukernel_scalar(const QU8InputRowArgs& a) {
  for (int x = 0; x < a.pixels; ++x) std::memcpy(a.out + x * kQu8Group, a.rgb + x * 3, kQu8Group);
}

const QU8InputRowConfig qu8_input_row_scalar_config{"qu8-input-row/scalar", Isa::kScalar,
                                                    qu8_input_row_ukernel_scalar};

}  // namespace quicksr::engine
