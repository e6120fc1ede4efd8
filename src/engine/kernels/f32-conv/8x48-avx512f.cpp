// AVX-512 f32 row kernel for convs of any kernel size (1x1, 5x5...). Tile: 8 output channels x
// 48 pixels (3 zmm) = 24 accumulators + 3 inputs, weights broadcast; channel counts that are 4
// mod 8 end with a 4 x 48 tile (no padding to 16). Built with AVX-512 flags for this file only;
// called only after the run-time CPU check.
#include <immintrin.h>

#include "engine/kernels/f32_conv_tile.hpp"

namespace quicksr::engine {

namespace {

constexpr int kChannels = 8;

struct Avx512Ops {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V broadcast(float v) { return _mm512_set1_ps(v); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V clamp(V v, float max) {
    return _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(max));
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
};

void f32_conv_ukernel_8x48_avx512f(const F32ConvArgs& args) {
  f32_conv_row<Avx512Ops, kChannels, 3, 192>(args);
}

// Padded to multiples of 4, packed in blocks of 8 (and a last one of 4).
std::vector<float> pack_8_then_4(const Conv2d& conv, int channel_group) {
  return pack_conv_goi_blocks(conv, channel_group, kChannels);
}

}  // namespace

const F32ConvConfig f32_conv_8x48_avx512f_config{
    "f32-conv/8x48-avx512f",       Isa::kAvx512, 4, Avx512Ops::kLanes,
    f32_conv_ukernel_8x48_avx512f, pack_8_then_4};

}  // namespace quicksr::engine
