#pragma once
// A dense fp32 feature map in planar CHW layout (batch 1): the currency of the reference runtime.
#include <cstddef>
#include <vector>

#if !defined(NDEBUG) || defined(QUICKSR_CHECKED_ACCESS)
#include <cstdio>
#include <cstdlib>
#endif

namespace quicksr {

struct Tensor {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> data;  // data[(c * height + y) * width + x]

  Tensor() = default;
  Tensor(int c, int h, int w, float fill = 0.0f)
      : channels(c), height(h), width(w), data(static_cast<std::size_t>(c) * h * w, fill) {}

  // Bounds-checked in debug and sanitizer builds (QUICKSR_CHECKED_ACCESS): an index outside the
  // tensor aborts with its coordinates instead of reading a neighbour's memory.
  float& at(int c, int y, int x) { return data[index(c, y, x)]; }
  float at(int c, int y, int x) const { return data[index(c, y, x)]; }
  float* plane(int c) { return data.data() + static_cast<std::size_t>(c) * height * width; }
  const float* plane(int c) const {
    return data.data() + static_cast<std::size_t>(c) * height * width;
  }

 private:
  std::size_t index(int c, int y, int x) const {
#if !defined(NDEBUG) || defined(QUICKSR_CHECKED_ACCESS)
    if (c < 0 || c >= channels || y < 0 || y >= height || x < 0 || x >= width ||
        data.size() != static_cast<std::size_t>(channels) * height * width) {
      std::fprintf(stderr, "Tensor::at(%d, %d, %d) outside a %dx%dx%d tensor of %zu values\n", c, y,
                   x, channels, height, width, data.size());
      std::abort();
    }
#endif
    return (static_cast<std::size_t>(c) * height + y) * width + x;
  }
};

}  // namespace quicksr
