#pragma once
// Runs a GraphPlan over one image: every step over whole-image tensors in the plan's slots (the
// engine's thread pool splits each step into row ranges), from interleaved or planar RGB in to
// RGB out. Every tensor is stored planar with zero rows and columns around it (the conv
// padding), so the kernels never test image edges.
#include <cstddef>
#include <vector>

#include "engine/graph_plan.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/thread_pool.hpp"

namespace quicksr::engine {

class GraphRunner {
 public:
  GraphRunner(const GraphPlan& plan, const F32Kernels& kernels) : plan_(plan), kernels_(kernels) {}
  // Reuses the slots of the previous run when the image size is the same.
  void run(const RgbView<const float>& input, const RgbView<float>& output, ThreadPool& pool);
  // The slots' bytes for a width x height input: the largest set of tensors alive at once (as
  // slots are reused), each padded by kGraphMaxPadding rows and a few columns.
  static std::size_t workspace_bytes(const GraphPlan& plan, int width, int height);

 private:
  const GraphPlan& plan_;
  const F32Kernels& kernels_;
  int width_ = 0;
  int height_ = 0;
  std::vector<std::vector<float>> slots_;
  std::vector<std::vector<float>> row_buffers_;  // per job: a conv's row for the 1x1 after it
};

}  // namespace quicksr::engine
