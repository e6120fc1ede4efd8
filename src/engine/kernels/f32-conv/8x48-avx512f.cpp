// AVX-512 f32 row kernel for convs of any kernel size (1x1, 5x5...). Tile: 8 output channels x
// 48 pixels (3 zmm) = 24 accumulators + 3 inputs, weights broadcast; channel counts that are 4
// mod 8 end with a 4 x 48 tile (no padding to 16). Built with AVX-512 flags for this file only;
// called only after the run-time CPU check.
#include "engine/kernels/f32_avx512_ops.hpp"
#include "engine/kernels/f32_conv_tile.hpp"

namespace quicksr::engine {

namespace {

constexpr int kChannels = 8;

void f32_conv_ukernel_8x48_avx512f(const F32ConvArgs& args) {
  f32_conv_row<f32::Avx512Ops, kChannels, 3, 192>(args);
}

// Padded to multiples of 4, packed in blocks of 8 (and a last one of 4).
std::vector<float> pack_8_then_4(const Conv2d& conv, int channel_group) {
  return pack_conv_goi_blocks(conv, channel_group, kChannels);
}

}  // namespace

const F32ConvConfig f32_conv_8x48_avx512f_config{
    "f32-conv/8x48-avx512f",       Isa::kAvx512, 4, f32::Avx512Ops::kLanes,
    f32_conv_ukernel_8x48_avx512f, pack_8_then_4};

}  // namespace quicksr::engine
