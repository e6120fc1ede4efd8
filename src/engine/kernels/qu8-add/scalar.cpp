// INT8 add, portable: the integer reference's own rule, one byte at a time.
#include "engine/kernels/qu8_kernels.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::engine {

void qu8_add_ukernel_scalar(const QU8AddArgs& a) {
  const QU8AddParams& p = *a.params;
  const quant::ClampBounds bounds{p.lo, p.hi};
  for (std::size_t i = 0; i < a.count; ++i) {
    a.out[i] = quant::requantize_sum(a.a[i] - p.a_zero_point, p.a_multiplier,
                                     a.b[i] - p.b_zero_point, p.b_multiplier, p.zero_point, bounds);
  }
}

const QU8AddConfig qu8_add_scalar_config{"qu8-add/scalar", Isa::kScalar, qu8_add_ukernel_scalar};

}  // namespace quicksr::engine
