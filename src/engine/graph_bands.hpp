#pragma once
// Bands of rows for the general-graph paths (fp32 GraphRunner, INT8 QU8GraphRunner): which rows
// of each tensor a band of output rows needs, derived once from each step's row reach (a conv's
// kernel rows, a depth-to-space's block), and the loop that runs the steps band by band. Every
// tensor lives in a ring of rows; a band computes only the rows of each tensor that the previous
// band of the same job did not (rows are carried, not recomputed), so the rings hold a band plus
// the receptive-field halo: the workspace depends on the width and the band height, never on the
// image height. Jobs (one per thread) start with their whole halo: that is the only recompute.
#include <algorithm>
#include <climits>
#include <utility>
#include <vector>

namespace quicksr::engine {

// How output row y of a step reads its inputs: rows [y - above, y + below] of each (at the
// output's resolution), or row y / block (a depth-to-space of that block).
struct RowReach {
  int above = 0;
  int below = 0;
  int block = 1;
};

struct BandStep {
  std::vector<int> inputs;  // tensor indices
  int output = 0;
  RowReach reach;
};

struct RowRange {
  int begin = INT_MAX;
  int end = INT_MIN;
  bool empty() const { return begin >= end; }
  int size() const { return empty() ? 0 : end - begin; }
};

class GraphBands {
 public:
  GraphBands() = default;
  // `factors`: each tensor's resolution (factor x the input's); the runner loads `input`, and a
  // band [y0, y1) of input rows delivers rows [y0 * f, y1 * f) of `output` (at its factor f).
  GraphBands(std::vector<BandStep> steps, std::vector<int> factors, int input, int output)
      : steps_(std::move(steps)), factors_(std::move(factors)), input_(input), output_(output) {}

  // The rows of each tensor that the band [y0, y1) of an image of `height` input rows needs
  // (clipped to the tensor's rows: a conv reads the padding beyond them).
  std::vector<RowRange> needed_rows(int y0, int y1, int height) const;
  // The rows each tensor's ring holds for bands of `band_rows` input rows: the most any band
  // needs (independent of where the band is, so of the image height).
  std::vector<int> ring_rows(int band_rows) const;
  // Input rows above and below a band that its output depends on.
  int halo_rows() const;
  int tensor_count() const { return static_cast<int>(factors_.size()); }

  // Jobs for an image of `height` rows on `threads` threads: one range of rows each.
  static int job_count(int threads, int height) { return std::max(1, std::min(threads, height)); }

  // Job `job` of `jobs`: its range of the `height` input rows, in bands of `band_rows`. Per band:
  // load(y_begin, y_end) for the new rows of the input tensor, compute(step, y_begin, y_end) for
  // the new rows of each step's output (steps in order), then finish(y0, y1).
  template <typename Load, typename Compute, typename Finish>
  void run_job(int job, int jobs, int height, int band_rows, const Load& load,
               const Compute& compute, const Finish& finish) const {
    const int begin = static_cast<int>(static_cast<long long>(height) * job / jobs);
    const int end = static_cast<int>(static_cast<long long>(height) * (job + 1) / jobs);
    std::vector<int> done(factors_.size(), INT_MIN);  // rows below it are in the rings
    const auto next = [&](int tensor, const RowRange& needed) {
      const RowRange fresh{std::max(done[tensor], needed.begin), needed.end};
      done[tensor] = std::max(done[tensor], needed.end);
      return fresh;
    };
    for (int y0 = begin; y0 < end; y0 += band_rows) {
      const int y1 = std::min(end, y0 + band_rows);
      const std::vector<RowRange> needed = needed_rows(y0, y1, height);
      const RowRange input = next(input_, needed[input_]);
      if (!input.empty()) load(input.begin, input.end);
      for (int s = 0; s < static_cast<int>(steps_.size()); ++s) {
        const RowRange rows = next(steps_[s].output, needed[steps_[s].output]);
        if (!rows.empty()) compute(s, rows.begin, rows.end);
      }
      finish(y0, y1);
    }
  }

 private:
  // needed_rows(), clipped to an image of `height` input rows or (clip false) not.
  std::vector<RowRange> propagate(int y0, int y1, int height, bool clip) const;

  std::vector<BandStep> steps_;
  std::vector<int> factors_;
  int input_ = 0;
  int output_ = 0;
};

}  // namespace quicksr::engine
