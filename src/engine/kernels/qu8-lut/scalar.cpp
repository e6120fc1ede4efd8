// INT8 table lookup, portable: one byte at a time.
#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

void qu8_lut_ukernel_scalar(const QU8LutArgs& a) {
  for (std::size_t i = 0; i < a.count; ++i) a.out[i] = a.table[a.in[i]];
}

const QU8LutConfig qu8_lut_scalar_config{"qu8-lut/scalar", Isa::kScalar, qu8_lut_ukernel_scalar};

}  // namespace quicksr::engine
