// The peak loops: per thread, 12 independent accumulator chains (more than latency x ports of
// FMA and vpdpbusd on current x86 cores), so a loop is bound by the instruction's throughput.
#include "engine/fma_peak.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/qu8_kernels.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr int kChains = 12;
constexpr long kIterations = 400'000;  // about 1-2 ms per trial: shorter than a time slice
constexpr int kTrials = 100;

// Independent FMA / vpdpbusd / vpmaddwd / vpmaddubsw chains in inline assembly, the loop included:
// compilers copy the accumulators of the intrinsics around the loop, and store an accumulator array
// back to memory after every asm block inside a C++ loop (a store per instruction: a store-bound
// loop). Each function is compiled for the ISA it measures (the rest of this file stays AVX2); the
// result depends on every chain, so nothing is optimised away.
#define QUICKSR_CHAIN_OPERANDS                                                                    \
  "+v"(c[0]), "+v"(c[1]), "+v"(c[2]), "+v"(c[3]), "+v"(c[4]), "+v"(c[5]), "+v"(c[6]), "+v"(c[7]), \
      "+v"(c[8]), "+v"(c[9]), "+v"(c[10]), "+v"(c[11])
#define QUICKSR_CHAIN_STEP(instruction)                                           \
  instruction " %[b], %[a], %0\n\t" instruction " %[b], %[a], %1\n\t" instruction \
              " %[b], %[a], %2\n\t" instruction " %[b], %[a], %3\n\t" instruction \
              " %[b], %[a], %4\n\t" instruction " %[b], %[a], %5\n\t" instruction \
              " %[b], %[a], %6\n\t" instruction " %[b], %[a], %7\n\t" instruction \
              " %[b], %[a], %8\n\t" instruction " %[b], %[a], %9\n\t" instruction \
              " %[b], %[a], %10\n\t" instruction " %[b], %[a], %11\n\t"

// `body` repeated %[n] (>= 1) times.
#define QUICKSR_LOOP(body) "1:\n\t" body "dec %[n]\n\tjnz 1b\n\t"

// c = c * 1 + 1e-7 stays finite and normal over any trial.
double fma_ymm_chains(long iterations) {
  __m256 c[kChains];
  for (__m256& v : c) v = _mm256_set1_ps(1.0f);
  const __m256 a = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  long n = iterations;
  asm volatile(QUICKSR_LOOP(QUICKSR_CHAIN_STEP("vfmadd231ps"))
               : QUICKSR_CHAIN_OPERANDS, [n] "+r"(n)
               : [a] "x"(a), [b] "x"(b)
               : "cc");
  double sum = 0.0;
  for (const __m256& v : c) sum += _mm256_cvtss_f32(v);
  return sum;
}

__attribute__((target("avx512f"))) double fma_zmm_chains(long iterations) {
  __m512 c[kChains];
  for (__m512& v : c) v = _mm512_set1_ps(1.0f);
  const __m512 a = _mm512_set1_ps(0.999999f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  long n = iterations;
  asm volatile(QUICKSR_LOOP(QUICKSR_CHAIN_STEP("vfmadd231ps"))
               : QUICKSR_CHAIN_OPERANDS, [n] "+r"(n)
               : [a] "v"(a), [b] "v"(b)
               : "cc");
  double sum = 0.0;
  for (const __m512& v : c) sum += _mm512_cvtss_f32(v);
  return sum;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) double dpbusd_zmm_chains(long iterations) {
  __m512i c[kChains];
  for (__m512i& v : c) v = _mm512_setzero_si512();
  const __m512i a = _mm512_set1_epi8(1);
  const __m512i b = _mm512_set1_epi8(-1);
  long n = iterations;
  asm volatile(QUICKSR_LOOP(QUICKSR_CHAIN_STEP("vpdpbusd"))
               : QUICKSR_CHAIN_OPERANDS, [n] "+r"(n)
               : [a] "v"(a), [b] "v"(b)
               : "cc");
  alignas(64) std::int32_t lanes[16];
  double sum = 0.0;
  for (const __m512i& v : c) {
    _mm512_store_si512(lanes, v);
    sum += lanes[0];
  }
  return sum;
}

__attribute__((target("avx2,avxvnni"))) double dpbusd_ymm_chains(long iterations) {
  __m256i c[kChains];
  for (__m256i& v : c) v = _mm256_setzero_si256();
  const __m256i a = _mm256_set1_epi8(1);
  const __m256i b = _mm256_set1_epi8(-1);
  long n = iterations;
  asm volatile(QUICKSR_LOOP(QUICKSR_CHAIN_STEP("%{vex%} vpdpbusd"))
               : QUICKSR_CHAIN_OPERANDS, [n] "+r"(n)
               : [a] "x"(a), [b] "x"(b)
               : "cc");
  double sum = 0.0;
  for (const __m256i& v : c) sum += _mm256_extract_epi32(v, 0);
  return sum;
}

#define QUICKSR_MADD_STEP(n) "vpmaddwd %[b], %[a], %[p]\n\tvpaddd %[p], %" #n ", %" #n "\n\t"
#define QUICKSR_MADD_CHAINS                                                                    \
  asm volatile(QUICKSR_LOOP(QUICKSR_MADD_STEP(0) QUICKSR_MADD_STEP(1) QUICKSR_MADD_STEP(       \
      2) QUICKSR_MADD_STEP(3) QUICKSR_MADD_STEP(4) QUICKSR_MADD_STEP(5) QUICKSR_MADD_STEP(6)   \
                                QUICKSR_MADD_STEP(7) QUICKSR_MADD_STEP(8) QUICKSR_MADD_STEP(9) \
                                    QUICKSR_MADD_STEP(10) QUICKSR_MADD_STEP(11))               \
               : QUICKSR_CHAIN_OPERANDS, [p] "=&v"(product), [n] "+r"(n)                       \
               : [a] "v"(a), [b] "v"(b)                                                        \
               : "cc")

// The exact s16 kernel's inner step per 2 channels (4x64-avx512bw): vpmaddwd of s16 pairs, then
// vpaddd into the s32 accumulator (32 multiply-adds per zmm pair of instructions).
__attribute__((target("avx512f,avx512bw"))) double maddwd_zmm_chains(long iterations) {
  __m512i c[kChains];
  for (__m512i& v : c) v = _mm512_setzero_si512();
  const __m512i a = _mm512_set1_epi16(1);
  const __m512i b = _mm512_set1_epi16(-1);
  __m512i product = _mm512_setzero_si512();
  long n = iterations;
  QUICKSR_MADD_CHAINS;
  alignas(64) std::int32_t lanes[16];
  double sum = 0.0;
  for (const __m512i& v : c) {
    _mm512_store_si512(lanes, v);
    sum += lanes[0];
  }
  return sum;
}

// The AVX2 kernel's step (4x16-avx2-split): vpmaddubsw of u8 x s8 byte pairs into s16, vpmaddwd by
// ones into s32, vpaddd into the accumulator (32 multiply-adds per ymm triple).
#define QUICKSR_MADDUBS_STEP(n)                                                               \
  "vpmaddubsw %[b], %[a], %[p]\n\tvpmaddwd %[ones], %[p], %[p]\n\tvpaddd %[p], %" #n ", %" #n \
  "\n"                                                                                        \
  "\t"
double maddubs_ymm_chains(long iterations) {
  __m256i c[kChains];
  for (__m256i& v : c) v = _mm256_setzero_si256();
  const __m256i a = _mm256_set1_epi8(1);
  const __m256i b = _mm256_set1_epi8(-1);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i product = _mm256_setzero_si256();
  long n = iterations;
  asm volatile(QUICKSR_LOOP(QUICKSR_MADDUBS_STEP(0) QUICKSR_MADDUBS_STEP(1) QUICKSR_MADDUBS_STEP(
      2) QUICKSR_MADDUBS_STEP(3) QUICKSR_MADDUBS_STEP(4) QUICKSR_MADDUBS_STEP(5)
                                QUICKSR_MADDUBS_STEP(6) QUICKSR_MADDUBS_STEP(7)
                                    QUICKSR_MADDUBS_STEP(8) QUICKSR_MADDUBS_STEP(9)
                                        QUICKSR_MADDUBS_STEP(10) QUICKSR_MADDUBS_STEP(11))
               : QUICKSR_CHAIN_OPERANDS, [p] "=&x"(product), [n] "+r"(n)
               : [a] "x"(a), [b] "x"(b), [ones] "x"(ones)
               : "cc");
  double sum = 0.0;
  for (const __m256i& v : c) sum += _mm256_extract_epi32(v, 0);
  return sum;
}

#undef QUICKSR_MADDUBS_STEP
#undef QUICKSR_MADD_CHAINS
#undef QUICKSR_MADD_STEP
#undef QUICKSR_CHAIN_STEP
#undef QUICKSR_LOOP
#undef QUICKSR_CHAIN_OPERANDS

// The best of several short trials of `chains` on all threads at once, in operations per second
// (`ops_per_iteration` per thread and loop iteration): on a shared or virtual machine a long
// single run would measure the neighbours as much as the execution units.
template <typename Chains>
double best_rate(int requested_threads, double ops_per_iteration, Chains chains) {
  const int threads = peak_threads(requested_threads);
  chains(kIterations);  // let the clock ramp up
  double best = 0.0;
  for (int trial = 0; trial < kTrials; ++trial) {
    using Clock = std::chrono::steady_clock;
    std::atomic<int> ready{0};
    std::vector<double> sinks(threads);
    std::vector<Clock::time_point> starts(threads), ends(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        ++ready;
        while (ready.load() < threads) {
        }
        starts[t] = Clock::now();
        sinks[t] = chains(kIterations);
        ends[t] = Clock::now();
      });
    }
    for (std::thread& worker : workers) worker.join();
    const double seconds =
        std::chrono::duration<double>(*std::max_element(ends.begin(), ends.end()) -
                                      *std::min_element(starts.begin(), starts.end()))
            .count();
    volatile double sink = 0.0;
    for (double v : sinks) sink = sink + v;
    best = std::max(best, ops_per_iteration * kIterations * threads / seconds);
  }
  return best;
}

}  // namespace

int peak_threads(int requested) {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(requested, 1, hardware);
}

Peak measure_f32_peak(Isa isa, int threads) {
  // Operations per chain step: 2 per lane (a multiply and an add).
  if (isa_includes(isa, Isa::kAvx512)) {
    if (!cpu_supports(Isa::kAvx512)) throw Error("FMA peak: this CPU lacks AVX-512");
    return {best_rate(threads, 2.0 * 16 * kChains, fma_zmm_chains) / 1e9, "avx512-fma"};
  }
  if (!cpu_supports(Isa::kAvx2Fma)) throw Error("FMA peak: this CPU lacks AVX2+FMA");
  return {best_rate(threads, 2.0 * 8 * kChains, fma_ymm_chains) / 1e9, "avx2-fma"};
}

Peak measure_int8_peak(Isa isa, int threads) {
  if (!cpu_supports(isa)) throw Error("INT8 peak: this CPU lacks the requested instruction set");
  // Operations per chain step: 2 per multiply-add; vpdpbusd does 4 per 32-bit lane, vpmaddwd 2.
  switch (qu8_conv3x3_config(isa).isa) {
    case Isa::kAvx512Vnni:
      return {best_rate(threads, 2.0 * 64 * kChains, dpbusd_zmm_chains) / 1e9, "vpdpbusd zmm"};
    case Isa::kAvxVnni:
      return {best_rate(threads, 2.0 * 32 * kChains, dpbusd_ymm_chains) / 1e9, "vpdpbusd ymm"};
    case Isa::kAvx2Fma:
      return {best_rate(threads, 2.0 * 32 * kChains, maddubs_ymm_chains) / 1e9,
              "vpmaddubsw+vpmaddwd+vpaddd ymm"};
    case Isa::kAvx512:
      return {best_rate(threads, 2.0 * 32 * kChains, maddwd_zmm_chains) / 1e9,
              "vpmaddwd+vpaddd zmm"};
    case Isa::kScalar:
      break;
  }
  throw Error("INT8 peak: no SIMD dot product to measure for the scalar kernels");
}

}  // namespace quicksr::engine
