// AVX-512 tanh, 16 floats per vector (kernels/f32_vtanh.hpp). Built with AVX-512 flags for this
// file only; called only after the run-time CPU check.
#include "engine/kernels/f32_avx512_ops.hpp"
#include "engine/kernels/f32_vtanh.hpp"
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

void f32_vtanh_ukernel_16_avx512f(const float* in, float* out, std::size_t n) {
  f32_vtanh_run<f32::Avx512Ops>(in, out, n);
}

}  // namespace

const F32VUnaryConfig f32_vtanh_16_avx512f_config{"f32-vtanh/16-avx512f", Isa::kAvx512,
                                                  f32_vtanh_ukernel_16_avx512f};

}  // namespace quicksr::engine
