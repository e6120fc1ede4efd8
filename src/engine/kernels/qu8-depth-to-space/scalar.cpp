// INT8 depth-to-space, portable: one byte at a time.
#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

void qu8_depth_to_space_ukernel_scalar(const QU8DepthToSpaceArgs& a) {
  const int row_bytes = a.scale * 3;  // output bytes of one input pixel in one output row
  for (int dy = 0; dy < a.scale; ++dy) {
    std::uint8_t* out = a.out + dy * a.out_row_step;
    const std::uint8_t* channels = a.channels + dy * row_bytes;
    for (int k = 0; k < row_bytes; ++k) {
      const std::uint8_t* in =
          a.in + channels[k] / kQu8Group * a.in_stride * kQu8Group + channels[k] % kQu8Group;
      for (int x = 0; x < a.pixels; ++x) out[x * row_bytes + k] = in[x * kQu8Group];
    }
  }
}

const QU8DepthToSpaceConfig qu8_depth_to_space_scalar_config{
    "qu8-depth-to-space/scalar", Isa::kScalar, qu8_depth_to_space_ukernel_scalar};

}  // namespace quicksr::engine
