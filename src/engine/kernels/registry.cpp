#include <string>

#include "engine/kernels/kernels.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr F32Conv3x3Kernel kF32Conv3x3Kernels[] = {
    {Isa::kAvx2Fma, "f32-conv3x3/4x24-avx2-fma", f32_conv3x3_ukernel_4x24_avx2_fma},
    {Isa::kScalar, "f32-conv3x3/scalar", f32_conv3x3_ukernel_scalar},
};

constexpr F32WinogradInputKernel kF32WinogradInputKernels[] = {
    {Isa::kAvx2Fma, "f32-winograd-f43-input/8-avx2-fma", f32_winograd_f43_input_ukernel_8_avx2_fma},
    {Isa::kScalar, "f32-winograd-f43-input/scalar", f32_winograd_f43_input_ukernel_scalar},
};

constexpr F32WinogradConvKernel kF32WinogradConvKernels[] = {
    {Isa::kAvx2Fma, "f32-winograd-f43-conv/4x24-avx2-fma",
     f32_winograd_f43_conv_ukernel_4x24_avx2_fma},
    {Isa::kScalar, "f32-winograd-f43-conv/scalar", f32_winograd_f43_conv_ukernel_scalar},
};

template <typename Kernel, std::size_t kCount>
const Kernel& find_kernel(const Kernel (&table)[kCount], Isa isa, const char* what) {
  for (const Kernel& kernel : table) {
    if (kernel.isa == isa) return kernel;
  }
  throw Error(std::string("engine: no ") + what + " kernel for ISA " +
              std::to_string(static_cast<int>(isa)));
}

}  // namespace

const F32Conv3x3Kernel& f32_conv3x3_kernel(Isa isa) {
  return find_kernel(kF32Conv3x3Kernels, isa, "f32 3x3 convolution");
}

const F32WinogradInputKernel& f32_winograd_input_kernel(Isa isa) {
  return find_kernel(kF32WinogradInputKernels, isa, "f32 Winograd input transform");
}

const F32WinogradConvKernel& f32_winograd_conv_kernel(Isa isa) {
  return find_kernel(kF32WinogradConvKernels, isa, "f32 Winograd convolution");
}

}  // namespace quicksr::engine
