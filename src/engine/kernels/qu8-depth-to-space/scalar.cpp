// INT8 depth-to-space, portable: one byte at a time.
#include "engine/kernels/kernels.hpp"
#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

void qu8_depth_to_space_ukernel_scalar(const QU8DepthToSpaceArgs& a) {
  const int row_bytes = a.scale * a.pixel_bytes;  // output bytes of one input pixel in one row
  for (int dy = 0; dy < a.scale; ++dy) {
    std::uint8_t* out = a.out + dy * a.out_row_step;
    const std::uint8_t* channels = a.channels + dy * row_bytes;
    for (int k = 0; k < row_bytes; ++k) {
      if (channels[k] == kQu8KeepByte) continue;
      const std::uint8_t* in =
          a.in + channels[k] / kQu8Group * a.in_stride * kQu8Group + channels[k] % kQu8Group;
      for (int x = 0; x < a.pixels; ++x) out[x * row_bytes + k] = in[x * kQu8Group];
    }
  }
}

std::vector<std::uint8_t> d2s_byte_map(ChannelOrder order, int scale, int pixel_bytes,
                                       bool blue_first) {
  std::vector<std::uint8_t> map;
  for (int dy = 0; dy < scale; ++dy) {
    for (int dx = 0; dx < scale; ++dx) {
      for (int b = 0; b < pixel_bytes; ++b) {
        const int c = blue_first && b < 3 ? 2 - b : b;  // the colour of byte b
        map.push_back(c < 3 ? static_cast<std::uint8_t>(d2s_channel(order, 3, scale, c, dy, dx))
                            : kQu8KeepByte);
      }
    }
  }
  return map;
}

const QU8DepthToSpaceConfig qu8_depth_to_space_scalar_config{
    "qu8-depth-to-space/scalar", Isa::kScalar, qu8_depth_to_space_ukernel_scalar};

}  // namespace quicksr::engine
