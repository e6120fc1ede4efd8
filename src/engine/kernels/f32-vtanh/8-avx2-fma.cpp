// AVX2 + FMA tanh, 8 floats per vector (kernels/f32_vtanh.hpp). Built with AVX2 and FMA flags for
// this file only; called only after the run-time CPU check.
#include "engine/kernels/f32_avx256_ops.hpp"
#include "engine/kernels/f32_vtanh.hpp"
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

void f32_vtanh_ukernel_8_avx2_fma(const float* in, float* out, std::size_t n) {
  f32_vtanh_run<f32::Avx256Ops>(in, out, n);
}

}  // namespace

const F32VUnaryConfig f32_vtanh_8_avx2_fma_config{"f32-vtanh/8-avx2-fma", Isa::kAvx2Fma,
                                                  f32_vtanh_ukernel_8_avx2_fma};

}  // namespace quicksr::engine
