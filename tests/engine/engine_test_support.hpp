#pragma once
// What the engine suites share: the ISA levels to run and engines forced onto one of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/kernels.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model.hpp"
#include "support/reference_sample.hpp"

namespace quicksr {

// Every level this CPU supports; the levels it lacks are reported once by
// Engine.IsaLevelsOfThisCpu (and their kernels skipped with a message by the kernel tests).
inline std::vector<Isa> isas_to_test() {
  std::vector<Isa> isas;
  for (Isa isa : kAllIsas) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

// Says which levels `what` is not run on, one "[ SKIPPED  ]" line each.
inline void report_lacking_isas(const std::string& what) {
  for (Isa isa : kAllIsas) {
    if (!cpu_supports(isa)) {
      std::cout << "[ SKIPPED  ] " << what << ": this CPU lacks " << isa_name(isa) << "\n";
    }
  }
}

// The levels of isas_to_test() with fp32 kernels of their own. An fp32 engine is its kernels
// (engine::f32_kernels); VNNI adds integer instructions only, so avx512vnni runs avx512's fp32
// code and avxvnni avx2's, and testing those levels again would run the same code twice (on an
// AVX-512 VNNI CPU, 5 runs for 3 kernel sets). An fp32 kernel for a VNNI level would make it one.
inline std::vector<Isa> fp32_isas_to_test() {
  std::vector<Isa> isas;
  std::vector<engine::F32Kernels> tested;
  for (Isa isa : isas_to_test()) {
    const engine::F32Kernels kernels = engine::f32_kernels(isa);
    if (std::find(tested.begin(), tested.end(), kernels) != tested.end()) continue;
    tested.push_back(kernels);
    isas.push_back(isa);
  }
  return isas;
}

// One engine configuration a test runs: a level, a thread count and a schedule size (band rows
// or strip width, as the test says; 0 where it has none).
struct EngineRun {
  Isa isa;
  int threads;
  int size;
};

// The runs of a test's matrix of `threads` x `sizes` over `isas` (most capable first, as
// isas_to_test() lists them). Bands, strips and thread shares are engine code above the kernels,
// the same on every level, and the kernel tests check each level at every edge size: so the whole
// matrix runs on the first level, and each other level runs once, on the most threads and the
// first size (tests list the smallest, the most band and strip edges, first). On an AVX-512 VNNI
// CPU the full matrix on every level was most of the sanitized engine tests, the portable
// kernels' share the largest.
inline std::vector<EngineRun> engine_runs(const std::vector<Isa>& isas,
                                          const std::vector<int>& threads,
                                          const std::vector<int>& sizes = {0}) {
  std::vector<EngineRun> runs;
  for (Isa isa : isas) {
    if (isa != isas.front()) {
      runs.push_back({isa, threads.back(), sizes.front()});
      continue;
    }
    for (int thread_count : threads) {
      for (int size : sizes) runs.push_back({isa, thread_count, size});
    }
  }
  return runs;
}

// An engine (fp32 or INT8, by the network's type) on `isa` with `threads` and strips of at most
// `strip_width` columns.
template <typename Net>
Engine make_engine(const Net& net, Isa isa, int threads, int strip_width = 1024) {
  EngineOptions options;
  options.threads = threads;
  options.isa = isa;
  options.max_strip_width = strip_width;
  return Engine::create(net, options);
}

// A real image for the end-to-end checks: Set5's butterfly (tests skip when it is absent).
inline std::filesystem::path butterfly_path() {
  return std::filesystem::path(QUICKSR_SHARED_DIR) / "data/benchmarks/Set5/HR/butterfly.png";
}

// A 71x45 crop of it (odd sizes, away from the borders).
inline Tensor butterfly_crop() {
  const Tensor full = to_tensor(read_image(butterfly_path()));
  Tensor crop(3, 45, 71);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < crop.height; ++y) {
      for (int x = 0; x < crop.width; ++x) crop.at(c, y, x) = full.at(c, y + 100, x + 90);
    }
  }
  return crop;
}

// A Small ReLU net (the paper's ablation) whose first conv's weights are doubled, so that many
// features exceed 1: a ReLU1 clamp left anywhere changes the output.
inline QuickSRNet relu_net_with_features_above_one(const char* scale, std::uint64_t seed) {
  QuickSRNetConfig config = QuickSRNetConfig::small(Scale::parse(scale));
  config.activation = Activation::kReLU;
  QuickSRNet net = QuickSRNet::initialized(config, seed);
  for (float& w : net.first.weight) w *= 2.0f;
  return net;
}

// An fp32 engine on 8-bit views (a BGRA frame with padded rows, random bytes) against its float
// run on the same samples / 255, rounded: every colour byte equal, the fourth byte of each pixel
// and the row padding untouched.
inline void expect_eight_bit_views_give_the_float_run_rounded(const Engine& engine, int width,
                                                              int height, unsigned seed) {
  constexpr std::uint8_t kUntouched = 0xA5;
  std::mt19937 rng(seed);
  const std::ptrdiff_t in_row = 4 * width + 3;
  std::vector<std::uint8_t> in(static_cast<std::size_t>(in_row) * height, kUntouched);
  Tensor planar(3, height, width);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const auto byte = static_cast<std::uint8_t>(rng() & 0xFF);
        in[y * in_row + x * 4 + 2 - c] = byte;
        planar.at(c, y, x) = static_cast<float>(byte) / 255.0f;
      }
    }
  }
  const Tensor expected = engine.run(planar);
  const std::ptrdiff_t out_row = 4 * expected.width + 5;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(out_row) * expected.height, kUntouched);
  engine.run(
      RgbView<const std::uint8_t>{in.data() + 2, in_row, 4, -1, width, height},
      RgbView<std::uint8_t>{out.data() + 2, out_row, 4, -1, expected.width, expected.height});
  int mismatches = 0;
  for (int y = 0; y < expected.height; ++y) {
    for (std::ptrdiff_t i = 0; i < out_row; ++i) {
      const std::ptrdiff_t x = i / 4, slot = i % 4;
      const bool colour = x < expected.width && slot < 3;
      const int want =
          colour ? test_support::reference_sample(expected.at(2 - int(slot), y, int(x)), 255)
                 : kUntouched;
      if (out[y * out_row + i] != want && ++mismatches <= 3) {
        ADD_FAILURE() << width << "x" << height << " " << engine.kernel_names() << ": row " << y
                      << " byte " << i << " is " << int(out[y * out_row + i]) << ", expected "
                      << int(want);
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << width << "x" << height << " " << engine.kernel_names();
}

}  // namespace quicksr
