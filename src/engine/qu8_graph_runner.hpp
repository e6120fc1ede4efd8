#pragma once
// Runs a QU8GraphPlan over one image: every step over whole-image u8 tensors in the plan's slots
// (the engine's thread pool splits each step into row ranges), from RGB in to RGB out. A tensor
// row holds its channel words in the grouped layout (qu8_kernels.hpp) with kQu8ColumnBlock
// margin columns on each side holding the tensor's zero point (the conv padding); rows above and
// below the image read a row of that zero point. Memory grows with the image: the slots (the
// largest set of tensors alive at once) plus, per job, a ring of k rows of a k x k conv's shifted
// copies.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/band_pipeline.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/qu8_graph_plan.hpp"
#include "engine/thread_pool.hpp"

namespace quicksr::engine {

// The input rows a job's shifted-copies buffer holds (QU8GraphConv::shifted): part `part`'s,
// input row rows[slot] in each ring slot.
struct ShiftRing {
  int part = -1;
  std::vector<int> rows;
};

class QU8GraphRunner {
 public:
  // `plan` must be packed for `kernel`; `lut` runs its tables.
  QU8GraphRunner(const QU8GraphPlan& plan, const QU8Conv3x3Config& kernel,
                 const QU8DepthToSpaceConfig& depth_to_space, const QU8InputRowConfig& input_row,
                 const QU8LutConfig& lut)
      : plan_(plan),
        kernel_(kernel),
        depth_to_space_(depth_to_space),
        input_row_(input_row),
        lut_(lut) {}

  // In, Out: std::uint8_t (the quantized image itself) or float (quantized on the way in with
  // the input encoding, dequantized on the way out). Reuses the slots of the previous run when the
  // image size is the same.
  template <typename In, typename Out>
  void run(const RgbView<const In>& input, const RgbView<Out>& output, ThreadPool& pool);
  // The slots' and padding rows' bytes for a width x height input.
  static std::size_t workspace_bytes(const QU8GraphPlan& plan, int width, int height);

 private:
  void allocate(int width, int height, int jobs);

  const QU8GraphPlan& plan_;
  const QU8Conv3x3Config& kernel_;
  const QU8DepthToSpaceConfig& depth_to_space_;
  const QU8InputRowConfig& input_row_;
  const QU8LutConfig& lut_;
  int width_ = 0;
  int height_ = 0;
  std::vector<AlignedBuffer<std::uint8_t>> slots_;
  std::vector<AlignedBuffer<std::uint8_t>> pad_rows_;  // per tensor: a row of its zero point
  std::vector<AlignedBuffer<std::uint8_t>> shifted_;   // per job: a ring of shifted copies
  std::vector<ShiftRing> rings_;                       // per job: what its ring holds
};

}  // namespace quicksr::engine
