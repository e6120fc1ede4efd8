// The portable tanh kernel: std::tanh per value (the plain reference beside the SIMD kernels).
#include <cmath>

#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

void f32_vtanh_ukernel_scalar(const float* in, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}

}  // namespace

const F32VUnaryConfig f32_vtanh_scalar_config{"f32-vtanh/scalar", Isa::kScalar,
                                              f32_vtanh_ukernel_scalar};

}  // namespace quicksr::engine
