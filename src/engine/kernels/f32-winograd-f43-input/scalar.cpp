// Portable Winograd F(4,3) input transform: phase-split row to transformed row, plain loops.
#include "engine/kernels/kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

void f32_winograd_f43_input_ukernel_scalar(const F32WinogradInputArgs& args) {
  const std::size_t stride = args.tile_stride;
  for (int c = 0; c < args.channels; ++c) {
    const float* phase = args.in + c * kWinogradTile * stride;
    for (int t = args.tile_begin; t < args.tile_begin + args.tile_count; ++t) {
      // Pixels 4t-1..4t+4: the last phase of tile t-1, the whole tile t, the first of t+1.
      const float d[kWinogradPoints] = {phase[3 * stride + t - 1], phase[t],
                                        phase[stride + t],         phase[2 * stride + t],
                                        phase[3 * stride + t],     phase[t + 1]};
      float u[kWinogradPoints];
      winograd_f43::transform_input(d, u);
      for (int k = 0; k < kWinogradPoints; ++k) {
        args.out[(k * args.channels + c) * stride + t] = u[k];
      }
    }
  }
}

}  // namespace quicksr::engine
