#pragma once
// Runs one rectangle of the network output through every layer at once: rows stream through a
// three-row ring per layer (each layer row computed once per band), columns carry a halo that
// shrinks by one Winograd tile per layer. Memory: a few rows per layer of one strip, whatever the
// image size.
#include <cstddef>
#include <utility>
#include <vector>

#include "engine/band_pipeline.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/plan.hpp"

namespace quicksr::engine {

// Strip boundaries are multiples of this many columns: whole Winograd tiles, even for x1.5.
inline constexpr int kStripAlignment = 8;

// Row layouts (kernels.hpp): the input ring and the last conv's ring are row-planar; the ring of
// every other conv holds its rows transformed for the next (Winograd) conv.
class BandRunner {
 public:
  // Allocates the workspace for strips up to `max_strip_width` columns; `plan` must be packed for
  // `kernels`, whose tiles set the column blocks and the scratch sizes.
  BandRunner(const Plan& plan, const F32Kernels& kernels, int max_strip_width);
  static std::size_t workspace_bytes(const Plan& plan, const F32Kernels& kernels,
                                     int max_strip_width);

  // Float or 8-bit views (Sample float or std::uint8_t): 8-bit samples are converted as each
  // input row is loaded and each output row stored, with the float views' values.
  template <typename Sample>
  void run(const RgbView<const Sample>& input, const RgbView<Sample>& output, const Region& region);

 private:
  struct Geometry;
  // Where each part of the workspace starts (in floats) and how large rows are.
  struct Layout {
    Layout(const Plan& plan, const F32Kernels& kernels, int max_strip_width);
    std::size_t stride = 0;       // floats between channels of a row (buffer columns)
    std::size_t tile_stride = 0;  // floats between planes of a phase-split or transformed row
    std::vector<std::size_t> ring_offsets;    // ring of layer i (input = -1) at index i + 1
    std::vector<std::size_t> ring_row_sizes;  // floats per ring row, same indexing
    std::size_t zero_row = 0;                 // zeros: rows above and below the image
    std::size_t spatial = 0;                  // a direct conv's row-planar output
    std::size_t phases = 0;    // a conv's phase-split output, before the input transform
    std::size_t products = 0;  // the Winograd conv kernel's scratch
    std::size_t total = 0;
  };

  float* ring_row(int layer, int y) const;
  const float* conv_input_row(int layer, int y, int net_height) const;
  template <typename Sample>
  void load_input_row(const RgbView<const Sample>& input, const Geometry& g, int y);
  void compute_conv_row(const Geometry& g, int layer, int y);
  std::pair<int, int> run_direct_conv(const Geometry& g, int layer, int y, float* out) const;
  void run_winograd_conv(const Geometry& g, int layer, int y, float* phases) const;
  void zero_outside_image(const Geometry& g, float* row, int channels) const;
  void zero_outside_image_phases(const Geometry& g, float* row, int channels) const;
  void split_phases(const float* row, float* phases, int channels, int tile_begin,
                    int tile_end) const;
  void merge_phases(const float* phases, float* row, int channels, int tile_begin,
                    int tile_end) const;
  template <typename Sample>
  void finish_row(const RgbView<const Sample>& input, const RgbView<Sample>& output,
                  const Geometry& g, int y) const;

  const Plan& plan_;
  F32Kernels kernels_;
  Layout layout_;
  int tile_block_columns_;  // Winograd tile ranges are multiples of this many columns
  int left_margin_;         // buffer columns left of the strip's first column
  AlignedBuffer<float> buffer_;
};

}  // namespace quicksr::engine
