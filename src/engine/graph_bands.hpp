#pragma once
// Bands of rows for the general-graph paths (fp32 GraphRunner, INT8 QU8GraphRunner): which rows
// of each tensor a band of output rows needs, derived once from each step's row reach (a conv's
// kernel rows, a depth-to-space's block), and the loop that runs the steps band by band. Every
// tensor lives in a ring of rows; a band computes only the rows of each tensor that the previous
// band of the same job did not (rows are carried, not recomputed). A job walks bands from above
// its first row ("lead" bands that compute only the rows its first band needs, a few at a time),
// so every band adds about a band of rows to each tensor and a ring holds only the rows its
// readers still read (a band plus their kernels' reach, plus a skip connection's span): the
// workspace depends on the width and the band height, never on the image height. Jobs (one per
// thread) compute their whole halo: that is the only recompute.
#include <algorithm>
#include <climits>
#include <utility>
#include <vector>

namespace quicksr::engine {

// How output row y of a step reads its inputs: rows [y * stride - above, y * stride + below] of
// each (a conv, a pool), or row y / block (a depth-to-space of that block), or, for a half-pixel
// bilinear resize to the length of tensor `resize_to`, the rows around (y + 0.5) in / out - 0.5,
// a map that depends on both lengths (so on the image's). The same map holds for columns.
struct RowReach {
  int above = 0;
  int below = 0;
  int block = 1;
  int stride = 1;
  int shrink = 0;  // a window without padding: out = (in - shrink - 1) / stride + 1 rows
  int resize_to = -1;
  // A translation by the band (stride 1, no shrink, no resize) keeps the rings height-free.
  bool is_local() const { return stride == 1 && shrink == 0 && resize_to < 0; }
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
      : steps_(std::move(steps)), factors_(std::move(factors)), input_(input), output_(output) {
    for (const BandStep& step : steps_) local_ = local_ && step.reach.is_local();
  }

  // Whether every step's row map is a translation by the band (no strided window, no resize):
  // then rings are sized on an unbounded image and a band's output depends on the rows within
  // halo_rows() only. Otherwise (ERFDN's ESA) the maps depend on the image's height.
  bool is_local() const { return local_; }
  // Each tensor's rows (or columns) for an input of `length` rows (or columns); throws
  // quicksr::Error when a window without padding does not fit.
  std::vector<int> lengths(int length) const;
  // The rows of each tensor that the band [y0, y1) of an image of `height` input rows needs
  // (clipped to the tensor's rows: a conv reads the padding beyond them).
  std::vector<RowRange> needed_rows(int y0, int y1, int height) const;
  // The rows each tensor's ring holds for bands of `band_rows` input rows: the most rows between
  // the lowest row a step reads (or the output's rows finish() reads) and the tensor's newest
  // row. Local graphs: over a job's walk on an unbounded image (clipping at image edges only
  // shrinks it), so independent of the image height (and of `height`, `jobs`). Otherwise over
  // the walks of the `jobs` jobs of an image of `height` rows: exact for that height, and
  // bounded over heights (the maps are affine up to a bounded drift of the resize ratio).
  std::vector<int> ring_rows(int band_rows, int height = 0, int jobs = 1) const;
  // Input rows above and below a band that its output depends on; 0 for a graph that is not
  // local (a band's output then depends on the whole image: cropping changes ESA's pool grid and
  // resize ratio), so callers that cut images into crops must run whole images instead.
  int halo_rows() const { return local_ ? reach_rows(0) : 0; }
  int tensor_count() const { return static_cast<int>(factors_.size()); }

  // Jobs for an image of `height` rows on `threads` threads: one range of rows each.
  static int job_count(int threads, int height) { return std::max(1, std::min(threads, height)); }

  // Whether the threads of a run walk the image together (walk_together) rather than one range
  // of rows each: graphs that are not local (ERFDN), where a range's halo (ESA's reach, ~100
  // input rows through four blocks) would be computed by both threads (+35-38 % work at 360 rows).
  bool walks_together(int threads, int height) const {
    return !local_ && job_count(threads, height) > 1;
  }
  // The band height for the option `band_rows` (EngineOptions::graph_band_rows; 0: the default),
  // on `threads` threads and `height` rows: 2 rows, or 16 for a walk together, whose threads meet
  // at a barrier after every step of a band with new rows (up to ~100 in ERFDN): 8x fewer bands,
  // so fewer barriers a frame, each a wait on a loaded machine, for rings ~1.8x larger (ERFDN at
  // 640x360: still less than main's ring set per thread of 2-row bands).
  int band_rows(int option, int threads, int height) const {
    if (option > 0) return option;
    return walks_together(threads, height) ? 16 : 2;
  }
  // The rings a run needs (ring_rows(band_rows, height, ring_sets(...)) rows each): one for a
  // walk together, else one per job.
  int ring_sets(int threads, int height) const {
    return walks_together(threads, height) ? 1 : job_count(threads, height);
  }

  // Job `job` of `jobs`: its range of the `height` input rows, in bands of `band_rows`. Per band:
  // load(y_begin, y_end) for the new rows of the input tensor, compute(step, y_begin, y_end) for
  // the new rows of each step's output (steps in order), then finish(y0, y1).
  template <typename Load, typename Compute, typename Finish>
  void run_job(int job, int jobs, int height, int band_rows, const Load& load,
               const Compute& compute, const Finish& finish) const {
    const int begin = static_cast<int>(static_cast<long long>(height) * job / jobs);
    const int end = static_cast<int>(static_cast<long long>(height) * (job + 1) / jobs);
    walk(begin, end, height, band_rows, true, load, compute, finish);
  }
  // Thread `thread` of `threads` that all walk the whole image as job 0 of 1 (one set of rings):
  // each loads, computes and finishes its share of every band's new rows, and sync() (a barrier
  // of the threads) follows each of them, so a step reads rows whichever thread computed them,
  // none is computed twice, and the steps' order within a band is the one job's.
  template <typename Sync, typename Load, typename Compute, typename Finish>
  void walk_together(int thread, int threads, int height, int band_rows, const Sync& sync,
                     const Load& load, const Compute& compute, const Finish& finish) const {
    const auto share = [&](int begin, int end) {
      const int rows = end - begin;
      return RowRange{begin + rows * thread / threads, begin + rows * (thread + 1) / threads};
    };
    walk(
        0, height, height, band_rows, true,
        [&](int begin, int end) {
          const RowRange mine = share(begin, end);
          if (!mine.empty()) load(mine.begin, mine.end);
          sync();
        },
        [&](int step, int begin, int end) {
          const RowRange mine = share(begin, end);
          if (!mine.empty()) compute(step, mine.begin, mine.end);
          sync();
        },
        [&](int y0, int y1) {
          const RowRange mine = share(y0, y1);
          if (!mine.empty()) finish(mine.begin, mine.end);
          sync();  // the next band's steps overwrite ring rows finish() reads
        });
  }

 private:
  // needed_rows() before clipping to the image (of an unbounded image when `lengths` is null,
  // only for a local graph; else each tensor's rows for the resize maps).
  std::vector<RowRange> propagate(int y0, int y1, const std::vector<int>* lengths) const;
  // The rows of `input` that output rows `out` of a step read (unclipped).
  static RowRange input_rows(const RowReach& reach, const RowRange& out,
                             const std::vector<int>* lengths, int input, int output);
  // The most input rows above or below a band that its output reads: local graphs from one row
  // of an unbounded image, others over every row of an image of `height` rows.
  int reach_rows(int height) const;
  // Input rows of lead bands above a job's first row: enough that the first lead band needs
  // none of the rows the job computes (a kernel's reach above and below is at most the halo).
  int lead_rows(int band_rows, int height) const {
    return (2 * reach_rows(height) + 2 + band_rows - 1) / band_rows * band_rows;
  }

  // run_job() over input rows [begin, end) (clip false: of an unbounded image). Each tensor's
  // rows start at those the band [begin, ...) needs; the lead bands compute them in steps.
  template <typename Load, typename Compute, typename Finish>
  void walk(int begin, int end, int height, int band_rows, bool clip, const Load& load,
            const Compute& compute, const Finish& finish) const {
    const int tensors = static_cast<int>(factors_.size());
    const auto needed_in = [&](int y0, int y1) {
      return clip ? needed_rows(y0, y1, height) : propagate(y0, y1, nullptr);
    };
    const std::vector<RowRange> first = needed_in(begin, std::min(end, begin + band_rows));
    std::vector<int> done(tensors, INT_MIN);  // rows below it are in the rings
    for (int t = 0; t < tensors; ++t) done[t] = first[t].begin;
    const auto next = [&](int tensor, const RowRange& needed) {
      const RowRange fresh{std::max(done[tensor], needed.begin), needed.end};
      done[tensor] = std::max(done[tensor], needed.end);
      return fresh;
    };
    for (int y0 = begin - lead_rows(band_rows, height); y0 < end; y0 += band_rows) {
      const int y1 = std::min(end, y0 + band_rows);
      const std::vector<RowRange> needed = needed_in(y0, y1);
      const RowRange input = next(input_, needed[input_]);
      if (!input.empty()) load(input.begin, input.end);
      for (int s = 0; s < static_cast<int>(steps_.size()); ++s) {
        const RowRange rows = next(steps_[s].output, needed[steps_[s].output]);
        if (!rows.empty()) compute(s, rows.begin, rows.end);
      }
      if (y0 >= begin) finish(y0, y1);
    }
  }

  std::vector<BandStep> steps_;
  std::vector<int> factors_;
  int input_ = 0;
  int output_ = 0;
  bool local_ = true;
};

}  // namespace quicksr::engine
