#pragma once
// The machine's floating-point and INT8 dot-product peaks, the yardsticks of `quicksr bench`.
#include "quicksr/engine.hpp"

namespace quicksr::engine {

// Floating-point peak of `threads` cores: independent AVX2 FMA chains on every thread at once,
// in GFLOP/s (2 flops per lane). Throws quicksr::Error when the CPU lacks AVX2+FMA.
double measure_fma_peak_gflops(int threads);

struct Int8Peak {
  double gops = 0.0;      // 2 operations per u8 x s8 multiply-add
  const char* kind = "";  // the instruction measured, e.g. "vpdpbusd zmm"
};
// The u8 x s8 multiply-add peak of the instruction the INT8 kernel of ISA level `isa` uses
// (vpdpbusd zmm or ymm; vpmaddwd + vpaddd for the AVX2 kernel, which widens to s16), measured
// like the FMA peak. Throws quicksr::Error for the scalar kernel or an ISA this CPU lacks.
Int8Peak measure_int8_peak(Isa isa, int threads);

}  // namespace quicksr::engine
