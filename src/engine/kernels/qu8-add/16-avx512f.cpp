// INT8 add on zmm: 16 levels per step (qu8_add_loop.hpp), narrowed by vpmovdb.
#include <immintrin.h>

#include <cstdint>

#include "engine/kernels/f32_avx512_ops.hpp"
#include "engine/kernels/qu8_add_loop.hpp"

namespace quicksr::engine {

namespace {

struct Avx512AddOps : f32::Avx512Ops {
  using Levels = __m512i;
  static Levels set1_level(std::int32_t v) { return _mm512_set1_epi32(v); }
  static Levels load_levels(const std::uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static void store_levels(std::uint8_t* p, Levels levels) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(levels));
  }
  static Levels sub_levels(Levels x, Levels y) { return _mm512_sub_epi32(x, y); }
  static Levels add_levels(Levels x, Levels y) { return _mm512_add_epi32(x, y); }
  static V to_float(Levels x) { return _mm512_cvtepi32_ps(x); }
  static Levels to_int(V x) { return _mm512_cvtps_epi32(x); }
};

void qu8_add_ukernel_16_avx512f(const QU8AddArgs& args) { qu8::add_levels<Avx512AddOps>(args); }

}  // namespace

const QU8AddConfig qu8_add_16_avx512f_config{"qu8-add/16-avx512f", Isa::kAvx512,
                                             qu8_add_ukernel_16_avx512f};

}  // namespace quicksr::engine
