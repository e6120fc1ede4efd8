// INT8 add on ymm: 8 levels per step (qu8_add_loop.hpp), narrowed by saturating packs (exact: the
// levels are already within [0, 255]).
#include <immintrin.h>

#include <cstdint>

#include "engine/kernels/f32_avx256_ops.hpp"
#include "engine/kernels/qu8_add_loop.hpp"

namespace quicksr::engine {

namespace {

struct Avx2AddOps : f32::Avx256Ops {
  using Levels = __m256i;
  static Levels set1_level(std::int32_t v) { return _mm256_set1_epi32(v); }
  static Levels load_levels(const std::uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static void store_levels(std::uint8_t* p, Levels levels) {
    const __m128i words =
        _mm_packus_epi32(_mm256_castsi256_si128(levels), _mm256_extracti128_si256(levels, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(words, words));
  }
  static Levels sub_levels(Levels x, Levels y) { return _mm256_sub_epi32(x, y); }
  static Levels add_levels(Levels x, Levels y) { return _mm256_add_epi32(x, y); }
  static V to_float(Levels x) { return _mm256_cvtepi32_ps(x); }
  static Levels to_int(V x) { return _mm256_cvtps_epi32(x); }
};

void qu8_add_ukernel_8_avx2(const QU8AddArgs& args) { qu8::add_levels<Avx2AddOps>(args); }

}  // namespace

const QU8AddConfig qu8_add_8_avx2_config{"qu8-add/8-avx2", Isa::kAvx2Fma, qu8_add_ukernel_8_avx2};

}  // namespace quicksr::engine
