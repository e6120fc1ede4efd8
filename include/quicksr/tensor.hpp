#pragma once
// A dense fp32 feature map in planar CHW layout (batch 1): the currency of the reference runtime.
#include <cstddef>
#include <vector>

namespace quicksr {

struct Tensor {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> data;  // data[(c * height + y) * width + x]

  Tensor() = default;
  Tensor(int c, int h, int w, float fill = 0.0f)
      : channels(c), height(h), width(w), data(static_cast<std::size_t>(c) * h * w, fill) {}

  float& at(int c, int y, int x) { return data[(static_cast<std::size_t>(c) * height + y) * width + x]; }
  float at(int c, int y, int x) const {
    return data[(static_cast<std::size_t>(c) * height + y) * width + x];
  }
  float* plane(int c) { return data.data() + static_cast<std::size_t>(c) * height * width; }
  const float* plane(int c) const { return data.data() + static_cast<std::size_t>(c) * height * width; }
};

}  // namespace quicksr
