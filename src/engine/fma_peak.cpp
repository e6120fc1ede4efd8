// The FMA peak loop: per thread, 12 independent accumulator chains (more than FMA latency x FMA
// ports on current x86 cores), so the loop is bound by FMA throughput alone.
#include "engine/fma_peak.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr int kChains = 12;
constexpr long kIterations = 2'000'000;  // about 10 ms per trial
constexpr int kTrials = 30;

// Returns a value that depends on every chain so that nothing is optimised away. The chains are
// separate variables (not an array) so that they stay in registers at any optimisation level.
float fma_chains(long iterations) {
  const __m256 a = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  __m256 c0 = _mm256_set1_ps(0.0f), c1 = _mm256_set1_ps(1.0f), c2 = _mm256_set1_ps(2.0f);
  __m256 c3 = _mm256_set1_ps(3.0f), c4 = _mm256_set1_ps(4.0f), c5 = _mm256_set1_ps(5.0f);
  __m256 c6 = _mm256_set1_ps(6.0f), c7 = _mm256_set1_ps(7.0f), c8 = _mm256_set1_ps(8.0f);
  __m256 c9 = _mm256_set1_ps(9.0f), c10 = _mm256_set1_ps(10.0f), c11 = _mm256_set1_ps(11.0f);
  for (long n = 0; n < iterations; ++n) {
    c0 = _mm256_fmadd_ps(c0, a, b);
    c1 = _mm256_fmadd_ps(c1, a, b);
    c2 = _mm256_fmadd_ps(c2, a, b);
    c3 = _mm256_fmadd_ps(c3, a, b);
    c4 = _mm256_fmadd_ps(c4, a, b);
    c5 = _mm256_fmadd_ps(c5, a, b);
    c6 = _mm256_fmadd_ps(c6, a, b);
    c7 = _mm256_fmadd_ps(c7, a, b);
    c8 = _mm256_fmadd_ps(c8, a, b);
    c9 = _mm256_fmadd_ps(c9, a, b);
    c10 = _mm256_fmadd_ps(c10, a, b);
    c11 = _mm256_fmadd_ps(c11, a, b);
  }
  const __m256 sum =
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                                  _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7))),
                    _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  return _mm256_cvtss_f32(sum);
}

}  // namespace

// The best of several short trials: on a shared or virtual machine a long single run would
// measure the neighbours as much as the FMA units.
double measure_fma_peak_gflops(int threads) {
  if (!cpu_supports(Isa::kAvx2Fma)) throw Error("FMA peak: this CPU lacks AVX2+FMA");
  fma_chains(kIterations);  // let the clock ramp up
  double best = 0.0;
  for (int trial = 0; trial < kTrials; ++trial) {
    using Clock = std::chrono::steady_clock;
    std::atomic<int> ready{0};
    std::vector<float> sinks(threads);
    std::vector<Clock::time_point> starts(threads), ends(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        ++ready;
        while (ready.load() < threads) {
        }
        starts[t] = Clock::now();
        sinks[t] = fma_chains(kIterations);
        ends[t] = Clock::now();
      });
    }
    for (std::thread& worker : workers) worker.join();
    const double seconds =
        std::chrono::duration<double>(*std::max_element(ends.begin(), ends.end()) -
                                      *std::min_element(starts.begin(), starts.end()))
            .count();
    volatile float sink = 0.0f;
    for (float v : sinks) sink = sink + v;
    const double flops = 2.0 * 8 * kChains * static_cast<double>(kIterations) * threads;
    best = std::max(best, flops / seconds / 1e9);
  }
  return best;
}

}  // namespace quicksr::engine
