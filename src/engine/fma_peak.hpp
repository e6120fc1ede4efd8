#pragma once
// The machine's floating-point peak, the yardstick of `quicksr bench`.
#include <string>

#include "quicksr/engine.hpp"

namespace quicksr::engine {

struct Peak {
  std::string kind;  // the instruction measured, e.g. "avx512-fma"
  double gflops;     // 2 flops per lane and FMA
};

// The fp32 peak of `threads` cores for the vector width the engine's kernels use at level `isa`:
// independent zmm FMA chains ("avx512-fma") for the AVX-512 levels, ymm ones ("avx2-fma")
// otherwise (the portable kernels are measured against the CPU's AVX2 peak), on every thread at
// once. Throws quicksr::Error when the CPU lacks the instructions.
Peak measure_f32_peak(Isa isa, int threads);

// The zmm chains (fma_peak_avx512.cpp): returns a value depending on every chain.
float fma_chains_avx512(long iterations);

}  // namespace quicksr::engine
