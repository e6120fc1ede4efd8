// The FMA peak loop on zmm registers; built with AVX-512 flags, called after the CPU check.
#include <immintrin.h>

#include "engine/fma_chains.hpp"
#include "engine/fma_peak.hpp"

namespace quicksr::engine {

namespace {

struct Avx512Ops {
  using V = __m512;
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static float first(V v) { return _mm512_cvtss_f32(v); }
};

}  // namespace

float fma_chains_avx512(long iterations) { return fma_chains<Avx512Ops>(iterations); }

}  // namespace quicksr::engine
