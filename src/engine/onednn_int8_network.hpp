#pragma once
// An INT8 QuickSRNet on oneDNN's u8s8 convolution primitives (VNNI where the CPU has it): the
// INT8 competitor of the engine in `quicksr bench --precision int8` and bench/. Not part of the
// inference path: only the benchmarks (and the test that checks it against the integer reference)
// link oneDNN.
#include <cstdint>
#include <memory>

#include "quicksr/model.hpp"

namespace quicksr::engine {

class OneDnnInt8Network {
 public:
  // Integer-scale nets without anchor whose activation zero points are all 0 (ReLU1 outputs);
  // throws quicksr::Error otherwise. Each conv: u8 source, s8 weights, s32 bias, per-channel
  // output scales (the requantisation multipliers) and a clip post-op (ReLU1 / final clip) to u8.
  OneDnnInt8Network(const QuantizedQuickSRNet& net, int width, int height, int threads);
  ~OneDnnInt8Network();
  OneDnnInt8Network(const OneDnnInt8Network&) = delete;
  OneDnnInt8Network& operator=(const OneDnnInt8Network&) = delete;

  // 8-bit interleaved RGB in (width x height) and out (scale * width x scale * height), layout
  // conversions and depth-to-space included.
  void run(const std::uint8_t* rgb_in, std::uint8_t* rgb_out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quicksr::engine
