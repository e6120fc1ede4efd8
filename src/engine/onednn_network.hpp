#pragma once
// QuickSRNet on oneDNN's convolution primitives: the competitor the engine is benchmarked against
// (quicksr bench, bench/). Not part of the inference path: only the benchmarks link oneDNN.
#include <cstdint>
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

// Depth-to-space of a NHWC map of 3 * block^2 channels (width x height) into interleaved RGB
// (block * width x block * height), on `threads` OpenMP threads: the oneDNN networks' tail.
void depth_to_space_interleaved(const float* nhwc, int width, int height, int block,
                                ChannelOrder order, int threads, float* rgb_out);
void depth_to_space_interleaved(const std::uint8_t* nhwc, int width, int height, int block,
                                ChannelOrder order, int threads, std::uint8_t* rgb_out);

}  // namespace quicksr::engine
