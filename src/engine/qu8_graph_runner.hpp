#pragma once
// Runs a QU8GraphPlan over one image band by band (graph_bands.hpp), one job of rows per thread,
// from RGB in to RGB out (graphs that are not local: all threads walk the image together,
// GraphBands::walk_together). Each job keeps every tensor in a ring of rows (of factor x the
// input's columns, after a depth-to-space inside the graph: QU8GraphTensor::factor); a row holds
// the tensor's channel words in the grouped layout (qu8_kernels.hpp) with kQu8ColumnBlock margin
// columns on each side holding its zero point (the conv padding); rows above and below the image
// read a row of that zero point. The workspace depends on the width and the band height, not on the
// image height: the rings plus, per job, a ring of k rows of each k x k conv's shifted copies
// (graphs that are not local, ERFDN: rings sized per height, bounded over heights).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/band_pipeline.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/qu8_graph_plan.hpp"
#include "engine/thread_pool.hpp"

namespace quicksr::engine {

// The input rows a shifted-copies buffer holds (QU8GraphConv::shifted): part `part`'s, input row
// rows[slot] in each ring slot.
struct ShiftRing {
  int part = -1;
  std::vector<int> rows;
};

class QU8GraphRunner {
 public:
  // `plan` must be packed for `kernel`; `lut` runs its tables, `add` its adds.
  QU8GraphRunner(const QU8GraphPlan& plan, const QU8Conv3x3Config& kernel,
                 const QU8DepthToSpaceConfig& depth_to_space, const QU8InputRowConfig& input_row,
                 const QU8LutConfig& lut, const QU8AddConfig& add, int band_rows)
      : plan_(plan),
        kernel_(kernel),
        depth_to_space_(depth_to_space),
        input_row_(input_row),
        lut_(lut),
        add_(add),
        band_rows_(band_rows) {}

  // In, Out: std::uint8_t (the quantized image itself) or float (quantized on the way in with
  // the input encoding, dequantized on the way out). Reuses the rings of the previous run when the
  // width is the same.
  template <typename In, typename Out>
  void run(const RgbView<const In>& input, const RgbView<Out>& output, ThreadPool& pool);
  // The rings, shifted copies and row buffers of `threads` jobs and the zero-point rows for a
  // width x height input in bands of `band_rows` rows (local graphs: the same for every height).
  static std::size_t workspace_bytes(const QU8GraphPlan& plan, int width, int height, int band_rows,
                                     int threads);

  struct Job {
    explicit Job(std::size_t row_buffer_bytes) : row_buffer(row_buffer_bytes) {}
    AlignedBuffer<std::uint8_t> row_buffer;  // a strided conv's stride-1 row, a pool's maxima
    std::vector<AlignedBuffer<std::uint8_t>> rings;    // per tensor
    std::vector<AlignedBuffer<std::uint8_t>> shifted;  // per conv: its shifted copies, or empty
    std::vector<ShiftRing> shift_rings;                // per conv: what `shifted` holds
  };

 private:
  void allocate(int width, int height, int jobs, int ring_sets, int band_rows);

  const QU8GraphPlan& plan_;
  const QU8Conv3x3Config& kernel_;
  const QU8DepthToSpaceConfig& depth_to_space_;
  const QU8InputRowConfig& input_row_;
  const QU8LutConfig& lut_;
  const QU8AddConfig& add_;
  int band_rows_;
  int width_ = 0;
  int height_ = 0;
  int ring_sets_ = 0;
  std::vector<int> ring_rows_;  // per tensor, for width_ (and height_, ring_sets_ if not local)
  std::vector<Job> jobs_;
  std::vector<AlignedBuffer<std::uint8_t>> pad_rows_;  // per tensor: a row of its zero point
};

}  // namespace quicksr::engine
