// The FMA peak loop: per thread, 12 independent accumulator chains (more than FMA latency x FMA
// ports on current x86 cores), so the loop is bound by FMA throughput alone.
#include "engine/fma_peak.hpp"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr int kChains = 12;
constexpr long kIterations = 100'000'000;

// Returns a value that depends on every chain so that nothing is optimised away.
float fma_chains(long iterations) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n) {
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  return _mm256_cvtss_f32(sum);
}

}  // namespace

double measure_fma_peak_gflops(int threads) {
  if (!cpu_has_avx2_fma()) throw Error("FMA peak: this CPU lacks AVX2+FMA");
  fma_chains(kIterations / 10);  // let the clock ramp up
  std::atomic<int> ready{0};
  std::vector<float> sinks(threads);
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ++ready;
      while (ready.load() < threads) {
      }
      sinks[t] = fma_chains(kIterations);
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  volatile float sink = 0.0f;
  for (float v : sinks) sink = sink + v;
  const double flops = 2.0 * 8 * kChains * static_cast<double>(kIterations) * threads;
  return flops / seconds / 1e9;
}

}  // namespace quicksr::engine
