#pragma once
// QuickSRNet on oneDNN's convolution primitives: the competitor the engine is benchmarked against
// (quicksr bench, bench/), fp32 or INT8 (u8s8, VNNI where the CPU has it). Not part of the
// inference path: only the benchmarks (and the test that checks the INT8 network against the
// integer reference) link oneDNN.
#include <cstdint>
#include <memory>

#include "quicksr/model.hpp"

namespace quicksr::engine {

class OneDnnNetwork {
 public:
  // Integer-scale ReLU1 QuickSRNets without anchor; throws quicksr::Error otherwise. Primitives are
  // created for one input size (oneDNN picks its blocked layouts: memory::format_tag::any), with
  // ReLU1 / clip fused as an eltwise clip post-op.
  OneDnnNetwork(const QuickSRNet& net, int width, int height, int threads);
  // INT8: also only activation zero points of 0 (ReLU1 outputs). Each conv: u8 source, s8
  // weights, s32 bias, per-channel output scales (the requantisation multipliers) and the clip
  // post-op to u8.
  OneDnnNetwork(const QuantizedQuickSRNet& net, int width, int height, int threads);
  ~OneDnnNetwork();
  OneDnnNetwork(const OneDnnNetwork&) = delete;
  OneDnnNetwork& operator=(const OneDnnNetwork&) = delete;

  // Interleaved RGB in (width x height), interleaved RGB out (scale * width x scale * height),
  // layout conversions and depth-to-space included: floats for an fp32 network, 8-bit values for
  // an INT8 one (the other overload throws quicksr::Error).
  void run(const float* rgb_in, float* rgb_out);
  void run(const std::uint8_t* rgb_in, std::uint8_t* rgb_out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quicksr::engine
