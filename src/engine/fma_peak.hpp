#pragma once
// The machine's floating-point peak, the yardstick of `quicksr bench`.

namespace quicksr::engine {

// Floating-point peak of `threads` cores: independent AVX2 FMA chains on every thread at once,
// in GFLOP/s (2 flops per lane). Throws quicksr::Error when the CPU lacks AVX2+FMA.
double measure_fma_peak_gflops(int threads);

}  // namespace quicksr::engine
