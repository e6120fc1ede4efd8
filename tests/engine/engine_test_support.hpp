#pragma once
// What the engine suites share: the ISA levels to run and engines forced onto one of them.
#include <filesystem>
#include <vector>

#include "quicksr/engine.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model.hpp"

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

}  // namespace quicksr
