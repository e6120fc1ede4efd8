// Portable f32 3x3 row kernel: f32-conv/scalar (plain loops that compilers auto-vectorise), which
// takes any kernel size, with its tile.
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

const F32ConvConfig f32_conv3x3_scalar_config{"f32-conv3x3/scalar",    Isa::kScalar,
                                              kF32ScalarConvGroup,     kF32ScalarConvPixels,
                                              f32_conv_ukernel_scalar, pack_conv_goi};

}  // namespace quicksr::engine
