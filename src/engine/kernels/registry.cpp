#include <string>

#include "engine/kernels/kernels.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr F32Conv3x3Kernel kF32Conv3x3Kernels[] = {
    {Isa::kAvx2Fma, "f32-conv3x3/4x24-avx2-fma", f32_conv3x3_ukernel_4x24_avx2_fma},
    {Isa::kScalar, "f32-conv3x3/scalar", f32_conv3x3_ukernel_scalar},
};

}  // namespace

const F32Conv3x3Kernel& f32_conv3x3_kernel(Isa isa) {
  for (const F32Conv3x3Kernel& kernel : kF32Conv3x3Kernels) {
    if (kernel.isa == isa) return kernel;
  }
  throw Error("engine: no f32 3x3 convolution kernel for ISA " +
              std::to_string(static_cast<int>(isa)));
}

}  // namespace quicksr::engine
