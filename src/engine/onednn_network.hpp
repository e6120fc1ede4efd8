#pragma once
// QuickSRNet on oneDNN's convolution primitives: the competitor the engine is benchmarked against
// (quicksr bench, bench/). Not part of the inference path: only the benchmarks link oneDNN.
#include <memory>

#include "quicksr/model.hpp"

namespace quicksr::engine {

class OneDnnNetwork {
 public:
  // Integer-scale QuickSRNets without anchor; throws quicksr::Error otherwise. Primitives are
  // created for one input size (oneDNN picks its blocked layouts: memory::format_tag::any), with
  // ReLU1 / clip fused as an eltwise clip post-op.
  OneDnnNetwork(const QuickSRNet& net, int width, int height, int threads);
  ~OneDnnNetwork();
  OneDnnNetwork(const OneDnnNetwork&) = delete;
  OneDnnNetwork& operator=(const OneDnnNetwork&) = delete;

  // Interleaved RGB in (width x height), interleaved RGB out (scale * width x scale * height),
  // layout conversions and depth-to-space included.
  void run(const float* rgb_in, float* rgb_out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quicksr::engine
