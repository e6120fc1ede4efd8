// Portable INT8 3x3 row kernel: plain loops (weights packed 4 x s8 per word, as for VNNI).
#include <cmath>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

// The 4 pixel bytes times the 4 s8 weights of a packed word, read in memory order as the vector
// kernels load them. In place: a local copy of the weights was an ASan-guarded stack array per
// call, which made this loop a third of the sanitized engine tests.
std::int32_t dot4(const std::uint8_t* pixel, const std::int32_t* packed) {
  const auto* w = reinterpret_cast<const unsigned char*>(packed);
  std::int32_t sum = 0;
  for (int j = 0; j < kQu8Group; ++j) sum += pixel[j] * static_cast<std::int8_t>(w[j]);
  return sum;
}

// A kernel x kernel conv (3x3, or the 1x1 of the x1.5 tail).
void qu8_conv_scalar(const QU8Conv3x3Args& a, int kernel) {
  for (int o = 0; o < a.out_channels; ++o) {
    const int group = o / kQu8Group;
    const std::int32_t* weights =
        a.weights + static_cast<std::size_t>(group) * a.in_groups * kernel * kernel * kQu8Group;
    for (int x = a.col_begin; x < a.col_begin + a.col_count; ++x) {
      std::int32_t acc = a.bias[o];
      const std::int32_t* w = weights + o % kQu8Group;
      for (int g = 0; g < a.in_groups; ++g) {
        for (int ky = 0; ky < kernel; ++ky) {
          const std::uint8_t* row = a.rows[ky] + (g * a.in_stride + x - kernel / 2) * kQu8Group;
          for (int kx = 0; kx < kernel; ++kx, w += kQu8Group) {
            acc += dot4(row + kx * kQu8Group, w);
          }
        }
      }
      if (a.raw_out != nullptr) {
        a.raw_out[o * a.out_stride + x] = acc;
        continue;
      }
      const float t = static_cast<float>(acc) * a.multipliers[o];
      const float clamped = std::fmin(std::fmax(t, a.clamp_min), a.clamp_max);
      a.out[(group * a.out_stride + x) * kQu8Group + o % kQu8Group] =
          static_cast<std::uint8_t>(static_cast<int>(std::nearbyint(clamped)) + a.zero_point);
    }
  }
}

void qu8_conv3x3_ukernel_scalar(const QU8Conv3x3Args& a) { qu8_conv_scalar(a, 3); }
void qu8_conv1x1_ukernel_scalar(const QU8Conv3x3Args& a) { qu8_conv_scalar(a, 1); }

}  // namespace

const QU8Conv3x3Config qu8_conv3x3_scalar_config{
    "qu8-conv3x3/scalar",       Isa::kScalar,          1,   1, qu8_conv3x3_ukernel_scalar,
    qu8_conv1x1_ukernel_scalar, pack_qu8_conv3x3_s8x4, true};

}  // namespace quicksr::engine
