#pragma once
// Runs a GraphPlan over one image band by band (graph_bands.hpp), one job of rows per thread,
// from interleaved or planar RGB in to RGB out (graphs that are not local: all threads walk the
// image together, GraphBands::walk_together). Each job keeps every tensor in a ring of rows; a
// row holds the tensor's planes one after the other (channel c at c * pitch), with zero columns
// on both sides (the conv padding), and rows outside the image read a zero row, so the kernels
// never test image edges. The workspace depends on the width and the band height, not on the
// image height (graphs that are not local, ERFDN: rings sized per height, bounded over heights).
#include <cstddef>
#include <vector>

#include "engine/graph_plan.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/thread_pool.hpp"

namespace quicksr::engine {

class GraphRunner {
 public:
  GraphRunner(const GraphPlan& plan, const F32Kernels& kernels, int band_rows)
      : plan_(plan), kernels_(kernels), band_rows_(band_rows) {}
  // Reuses the rings of the previous run when the width is the same.
  // Float or 8-bit views (Sample float or std::uint8_t; 8-bit samples converted as rows are
  // loaded and stored, common/samples.hpp).
  template <typename Sample>
  void run(const RgbView<const Sample>& input, const RgbView<Sample>& output, ThreadPool& pool);
  // The rings and row buffers of `threads` jobs and the zero row for a width x height input in
  // bands of `band_rows` rows (local graphs: the same for every height).
  static std::size_t workspace_bytes(const GraphPlan& plan, int width, int height, int band_rows,
                                     int threads);

  struct Job {
    std::vector<std::vector<float>> rings;  // per tensor
    std::vector<float> row_buffer;          // a conv's row for the 1x1 conv after it
  };

 private:
  const GraphPlan& plan_;
  const F32Kernels& kernels_;
  int band_rows_;
  int width_ = 0;
  int height_ = 0;
  int ring_sets_ = 0;
  std::vector<int> ring_rows_;  // per tensor, for width_ (and height_, ring_sets_ if not local)
  std::vector<Job> jobs_;
  std::vector<float> zero_row_;  // rows outside the image
};

}  // namespace quicksr::engine
