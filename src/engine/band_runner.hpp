#pragma once
// Runs one rectangle of the network output through every layer at once: rows stream through a
// three-row ring per layer (each layer row computed once per band), columns carry a halo that
// shrinks by one per layer. Memory: a few rows per layer of one strip, whatever the image size.
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/kernels/kernels.hpp"
#include "engine/plan.hpp"

namespace quicksr::engine {

// An RGB image with arbitrary strides (interleaved or planar), pixel (y, x) channel c at
// data[y * row_step + x * pixel_step + c * channel_step].
template <typename T>
struct RgbView {
  T* data = nullptr;
  std::ptrdiff_t row_step = 0;
  std::ptrdiff_t pixel_step = 0;
  std::ptrdiff_t channel_step = 0;
  int width = 0;
  int height = 0;

  T& at(int y, int x, int c) const {
    return data[y * row_step + x * pixel_step + c * channel_step];
  }
};

// Rows and columns of the last 3x3 conv's output (network-input coordinates, so even for x1.5).
struct Region {
  int row_begin = 0;
  int row_end = 0;
  int col_begin = 0;
  int col_end = 0;
};

class BandRunner {
 public:
  // Allocates the workspace for strips up to `max_strip_width` columns.
  BandRunner(const Plan& plan, F32Conv3x3Fn conv3x3, int max_strip_width);
  static std::size_t workspace_bytes(const Plan& plan, int max_strip_width);

  void run(const RgbView<const float>& input, const RgbView<float>& output, const Region& region);

 private:
  struct Geometry;
  float* ring_row(int layer, int y) const;
  const float* conv_input_row(int layer, int y, int net_height) const;
  void load_input_row(const RgbView<const float>& input, const Geometry& g, int y);
  void compute_conv_row(const Geometry& g, int layer, int y);
  void zero_outside_image(const Geometry& g, float* row, int channels) const;
  void finish_integer_scale(const RgbView<const float>& input, const RgbView<float>& output,
                            const Geometry& g, int y) const;
  void finish_half_scale(const RgbView<const float>& input, const RgbView<float>& output,
                         const Geometry& g, int y) const;

  const Plan& plan_;
  F32Conv3x3Fn conv3x3_;
  std::size_t stride_;                      // floats between channels of a ring row
  int left_margin_;                         // buffer columns left of the strip's first column
  std::vector<std::size_t> layer_offsets_;  // ring of layer i (input = -1) at index i + 1
  std::size_t zero_row_offset_;
  struct AlignedFree {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], AlignedFree> buffer_;
};

}  // namespace quicksr::engine
