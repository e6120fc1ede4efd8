// The fp32 FMA peak: the chains of fma_chains.hpp on every thread at once, best of short trials.
#include "engine/fma_peak.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/fma_chains.hpp"
#include "engine/kernels/kernels.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr long kIterations = 2'000'000;  // about 10 ms per trial
constexpr int kTrials = 30;

struct Avx2Ops {
  using V = __m256;
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static float first(V v) { return _mm256_cvtss_f32(v); }
};

float fma_chains_avx2(long iterations) { return fma_chains<Avx2Ops>(iterations); }

// The best of several short trials: on a shared or virtual machine a long single run would
// measure the neighbours as much as the FMA units.
double best_gflops(int threads, int lanes, float (*fma_chains)(long)) {
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
    const double flops = 2.0 * lanes * kChains * static_cast<double>(kIterations) * threads;
    best = std::max(best, flops / seconds / 1e9);
  }
  return best;
}

}  // namespace

Peak measure_f32_peak(Isa isa, int threads) {
  if (isa_includes(isa, Isa::kAvx512)) {
    if (!cpu_supports(Isa::kAvx512)) throw Error("FMA peak: this CPU lacks AVX-512");
    return {"avx512-fma", best_gflops(threads, 16, fma_chains_avx512)};
  }
  if (!cpu_supports(Isa::kAvx2Fma)) throw Error("FMA peak: this CPU lacks AVX2+FMA");
  return {"avx2-fma", best_gflops(threads, 8, fma_chains_avx2)};
}

}  // namespace quicksr::engine
