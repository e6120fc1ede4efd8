#pragma once
// Upscaler::Backend: one way to turn RGB into upscaled RGB. Upscaler adds the image plumbing
// (upscaler.cpp) and the frame-buffer plumbing (frame_buffer.cpp) around it.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "quicksr/engine.hpp"
#include "quicksr/tensor.hpp"
#include "quicksr/upscaler.hpp"

namespace quicksr {

struct Upscaler::Backend {
  virtual ~Backend() = default;
  virtual Scale scale() const = 0;
  virtual std::string name() const = 0;
  virtual int output_length(int length) const = 0;
  virtual Tensor run(const Tensor& rgb) const = 0;
  // Input rows above and below a band that its output rows depend on; 0: only the whole image.
  virtual int halo_rows() const = 0;
  // run() on views: `output` has output_length() of each side of `input`. This default copies
  // through planar tensors; the engine runs on the views themselves.
  virtual void run_view(const RgbView<const float>& input, const RgbView<float>& output) const;
  // The same on 8-bit views, with the pixels run_view() gives once rounded to 8 bits, where the
  // backend runs on them (engines); false, writing nothing, elsewhere.
  virtual bool run_u8_view(const RgbView<const std::uint8_t>& /*input*/,
                           const RgbView<std::uint8_t>& /*output*/) const {
    return false;
  }

  // The float frames of frame-buffer calls, kept for the next call (one call at a time).
  struct FloatFrames {
    std::mutex mutex;
    std::vector<float> input, output;
  };
  mutable FloatFrames frames;
};

// A planar 1xHxW alpha upscaled by bicubic interpolation, clamped to [0, 1] and cropped to
// out_w x out_h (MATLAB bicubic rounds sizes up; x1.5 networks round odd sizes down).
std::vector<float> upscale_alpha(const Tensor& alpha, Scale scale, int out_w, int out_h);

}  // namespace quicksr
