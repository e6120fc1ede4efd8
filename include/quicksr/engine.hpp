#pragma once
// The fast fp32 CPU inference engine for QuickSRNet (every f, m, scale, with or without anchor).
//
//   auto engine = quicksr::Engine::create(net, {.threads = 2});
//   engine.run(rgb_in, width, height, rgb_out);  // interleaved RGB floats in [0,1]
//
// The image flows through all layers in bands of rows (and strips of columns for wide images),
// with the halo recomputed, so the workspace is bounded by the model and the thread count, never
// by the image size, and the output is bit-identical whatever the band layout or thread count.
// Kernels are chosen at run time (AVX2+FMA when the CPU has it, a portable one otherwise).
//
// Thread safety: run() is const and may be called from several threads at once; calls share the
// engine's worker pool, so concurrent calls are serialised rather than run side by side.
#include <cstddef>
#include <memory>
#include <string>

#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

// Instruction sets the engine has kernels for.
enum class Isa { kScalar, kAvx2Fma };

struct EngineOptions {
  int threads = 0;  // 0: all cores
  // Images wider than this run in strips of at most this many columns (with a column halo), which
  // bounds the workspace; narrower ones run in one strip. The output does not depend on it.
  int max_strip_width = 1024;
  // Forces an instruction set (tests use kScalar to cover the fallback); by default the best one
  // the CPU supports.
  bool force_isa = false;
  Isa isa = Isa::kScalar;
};

class Engine {
 public:
  // Throws quicksr::Error when `net` fails QuickSRNet::check() or the forced ISA is unsupported.
  static Engine create(const QuickSRNet& net, const EngineOptions& options = {});
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Interleaved RGB (rgb[(y * width + x) * 3 + c]) in, interleaved RGB of output_width() x
  // output_height() out. The buffers must not overlap.
  void run(const float* rgb_in, int width, int height, float* rgb_out) const;
  // Planar 3xHxW in, planar 3 x output_height x output_width out.
  Tensor run(const Tensor& chw) const;

  // floor(scale * size): x1.5 crops odd sizes (edge-replicated to even inside the network).
  int output_width(int width) const;
  int output_height(int height) const;

  int threads() const;
  Isa isa() const;
  std::string isa_name() const;
  // Extra memory one run() allocates, whatever the image size: the per-thread band buffers.
  std::size_t workspace_bytes() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True when this CPU can run the AVX2+FMA kernels.
bool cpu_has_avx2_fma();

}  // namespace quicksr
