#pragma once
// The machine's floating-point and INT8 dot-product peaks, the yardsticks of `quicksr bench`.
#include "quicksr/engine.hpp"

namespace quicksr::engine {

// A measured peak of `threads` cores (peak_threads): independent chains of one instruction on every
// thread at once, best of many short trials.
struct Peak {
  double gops = 0.0;      // G operations per second: 2 per multiply-add (GFLOP/s for fp32)
  const char* kind = "";  // the instruction measured, e.g. "avx512-fma" or "vpdpbusd zmm"
};

// The threads a peak of `requested` threads is measured on: at most the machine's hardware
// threads, since more add no execution units (and their spinning start would take turns with the
// chains: 16 threads on 2 cores took 30 s).
int peak_threads(int requested);

// The fp32 peak for the vector width the engine's kernels use at level `isa`: zmm FMA chains
// ("avx512-fma") for the AVX-512 levels, ymm ones ("avx2-fma") otherwise (the portable kernels
// are measured against the CPU's AVX2 peak). Throws quicksr::Error when the CPU lacks them.
Peak measure_f32_peak(Isa isa, int threads);

// The u8 x s8 multiply-add peak of the instruction the INT8 kernel of ISA level `isa` uses
// (vpdpbusd zmm or ymm; vpmaddubsw + vpmaddwd + vpaddd ymm for AVX2; vpmaddwd + vpaddd zmm for
// the AVX-512 kernel that widens to s16). Throws
// quicksr::Error for the scalar kernel or an ISA this CPU lacks.
Peak measure_int8_peak(Isa isa, int threads);

}  // namespace quicksr::engine
