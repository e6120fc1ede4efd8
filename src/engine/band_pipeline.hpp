#pragma once
// What the fp32 (BandRunner) and INT8 (QU8BandRunner) band runners share, whatever their row
// layouts: the region a job computes, the halo geometry, the step schedule of the fused pipeline
// and the aligned workspace.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>

namespace quicksr::engine {

// Rows and columns of the last 3x3 conv's output (network-input coordinates, so even for x1.5).
struct Region {
  int row_begin = 0;
  int row_end = 0;
  int col_begin = 0;
  int col_end = 0;
};

constexpr int round_up(int value, int multiple) {
  return (value + multiple - 1) / multiple * multiple;
}
constexpr int round_down(int value, int multiple) {
  return value >= 0 ? value / multiple * multiple : -round_up(-value, multiple);
}
// The slot of image row y in a layer's three-row ring.
inline int ring_slot(int y) { return ((y % 3) + 3) % 3; }

// Where a band job's layers are: each layer (the input: -1) computes `halo(layer)` rows and
// `column_halo(layer)` columns beyond the region on each side, which later layers read.
struct BandGeometry {
  Region region;
  int net_width = 0;
  int net_height = 0;
  int column_origin = 0;          // image column of buffer column 0
  int layers = 0;                 // 3x3 convs in the pipeline
  int column_halo_per_layer = 1;  // 1 for direct convs, a Winograd tile for Winograd ones
  int halo(int layer) const { return layers - 1 - layer; }
  int column_halo(int layer) const { return column_halo_per_layer * halo(layer); }
  // Buffer columns [begin, end) of layer `layer` that later layers read.
  int needed_begin(int layer) const {
    return std::max(0, region.col_begin - column_halo(layer)) - column_origin;
  }
  int needed_end(int layer) const {
    return std::min(net_width, region.col_end + column_halo(layer)) - column_origin;
  }
};

// Input rows above and below a region that its output rows depend on, for a pipeline of `layers`
// 3x3 convs: the rows run_band loads beyond the region (halo(-1), one per conv). The tails reach no
// further: an integer scale's anchor is 1x1, and the x1.5 one (3x3, stride 2) reads one input row
// above each pair of rows, within the first conv's reach.
inline int input_halo_rows(int layers) { return BandGeometry{.layers = layers}.halo(-1); }

// The fused schedule: step s computes row s + halo(layer) of every layer (`load_input_row(y)`
// for the input, `compute_conv_row(layer, y)`), so each layer's three-row ring holds the rows the
// next layer reads at that step; the band's first steps fill the halo. `finish_row(y)` then turns
// row y of the last layer into output (for x1.5 on odd rows only, with row y - 1).
template <typename LoadInputRow, typename ComputeConvRow, typename FinishRow>
void run_band(const BandGeometry& g, bool half_scale, const LoadInputRow& load_input_row,
              const ComputeConvRow& compute_conv_row, const FinishRow& finish_row) {
  for (int step = g.region.row_begin - 2 * g.halo(-1); step < g.region.row_end; ++step) {
    for (int layer = -1; layer < g.layers; ++layer) {
      const int y = step + g.halo(layer);
      if (step < g.region.row_begin - 2 * g.halo(layer) || y < 0 || y >= g.net_height) continue;
      if (layer < 0) {
        load_input_row(y);
      } else {
        compute_conv_row(layer, y);
      }
    }
    if (step >= g.region.row_begin && (!half_scale || step % 2 == 1)) finish_row(step);
  }
}

// A zeroed, cache-line aligned workspace of `count` values.
template <typename T>
class AlignedBuffer {
 public:
  explicit AlignedBuffer(std::size_t count)
      : data_(static_cast<T*>(::operator new(count * sizeof(T), kAlignment))) {
    std::memset(data_.get(), 0, count * sizeof(T));
  }
  T* get() const { return data_.get(); }

 private:
  static constexpr std::align_val_t kAlignment{64};
  struct Free {
    void operator()(T* p) const { ::operator delete(p, kAlignment); }
  };
  std::unique_ptr<T[], Free> data_;
};

}  // namespace quicksr::engine
