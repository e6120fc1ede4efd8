#include "engine/graph_bands.hpp"

#include <cmath>
#include <string>

#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

int floor_div(int value, int divisor) {
  return value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor);
}
int ceil_div(int value, int divisor) { return -floor_div(-value, divisor); }

void merge(RowRange& range, int begin, int end) {
  range.begin = std::min(range.begin, begin);
  range.end = std::max(range.end, end);
}

// The lower source row of output row y of a half-pixel bilinear resize from `in` to `out` rows,
// before clamping to the input (bilinear_taps clamps; its rows stay within this one and the
// next, so the unclamped map is monotone and covers them).
int resize_lower(int y, int in, int out) {
  const double ratio = static_cast<double>(in) / out;
  return static_cast<int>(std::floor((y + 0.5) * ratio - 0.5));
}

}  // namespace

RowRange GraphBands::input_rows(const RowReach& r, const RowRange& out,
                                const std::vector<int>* lengths, int input, int output) {
  if (r.resize_to >= 0) {
    const int in = (*lengths)[input];
    const int length = (*lengths)[output];
    return {resize_lower(out.begin, in, length), resize_lower(out.end - 1, in, length) + 2};
  }
  if (r.block > 1) return {floor_div(out.begin, r.block), ceil_div(out.end, r.block)};
  return {out.begin * r.stride - r.above, (out.end - 1) * r.stride + r.below + 1};
}

std::vector<int> GraphBands::lengths(int length) const {
  std::vector<int> result(factors_.size(), 0);
  result[input_] = length;
  for (const BandStep& step : steps_) {
    const RowReach& r = step.reach;
    const int in = result[step.inputs[0]];
    if (r.resize_to >= 0) {
      result[step.output] = result[r.resize_to];
    } else if (r.block > 1) {
      result[step.output] = in * r.block;
    } else if (in <= r.shrink) {
      throw Error("engine: a window of " + std::to_string(r.shrink + 1) + " rows does not fit " +
                  std::to_string(in) + " rows (the input is too small for this graph)");
    } else {
      result[step.output] = (in - r.shrink - 1) / r.stride + 1;
    }
  }
  return result;
}

// Backwards through the steps: a step's output range (all its readers' ranges merged, as every
// reader comes later) gives the rows it reads of each input.
std::vector<RowRange> GraphBands::propagate(int y0, int y1, const std::vector<int>* lengths) const {
  std::vector<RowRange> needed(factors_.size());
  merge(needed[output_], y0 * factors_[output_], y1 * factors_[output_]);
  for (auto step = steps_.rbegin(); step != steps_.rend(); ++step) {
    const RowRange out = needed[step->output];
    if (out.empty()) continue;
    for (int input : step->inputs) {
      const RowRange in = input_rows(step->reach, out, lengths, input, step->output);
      merge(needed[input], in.begin, in.end);
    }
  }
  return needed;
}

// Clipped after the propagation: the row maps are monotone and keep the image edges (row 0 to
// row 0, the last to the last, up to the resize's clamped neighbour), so that is at most a row
// more than clipping every range on the way, except that a band above the image (a lead band of
// the first job) still needs the rows below it.
std::vector<RowRange> GraphBands::needed_rows(int y0, int y1, int height) const {
  const std::vector<int> rows = local_ ? std::vector<int>() : lengths(height);
  std::vector<RowRange> needed = propagate(y0, y1, local_ ? nullptr : &rows);
  for (std::size_t t = 0; t < needed.size(); ++t) {
    needed[t].begin = std::max(needed[t].begin, 0);
    needed[t].end = std::min(needed[t].end, local_ ? height * factors_[t] : rows[t]);
  }
  return needed;
}

// A job's walk recording per tensor the rows from the lowest one read to its newest. Local
// graphs walk an unbounded image: unclipped ranges only move with the band (by y0 * factor), so
// after the first band of rows every band repeats the last one shifted and a few bands give the
// most; clipping at an image edge only shrinks ranges (and rows above the image read the
// padding, not the ring). Other graphs walk every job of the image itself.
std::vector<int> GraphBands::ring_rows(int band_rows, int height, int jobs) const {
  const std::vector<int> row_counts = local_ ? std::vector<int>() : lengths(height);
  std::vector<int> newest(factors_.size(), INT_MIN);
  std::vector<int> rows(factors_.size(), 1);
  const auto hold = [&](int tensor, int lowest) {
    rows[tensor] = std::max(rows[tensor], newest[tensor] - (local_ ? lowest : std::max(lowest, 0)));
  };
  const auto load = [&](int begin, int end) {
    newest[input_] = end;
    hold(input_, begin);
  };
  const auto compute = [&](int s, int begin, int end) {
    const BandStep& step = steps_[s];
    for (int input : step.inputs) {
      hold(input,
           input_rows(step.reach, {begin, end}, local_ ? nullptr : &row_counts, input, step.output)
               .begin);
    }
    newest[step.output] = end;
    hold(step.output, begin);
  };
  const auto finish = [&](int y0, int) { hold(output_, y0 * factors_[output_]); };
  if (local_) {
    walk(0, lead_rows(band_rows, 0) + 3 * band_rows, 0, band_rows, false, load, compute, finish);
    return rows;
  }
  for (int job = 0; job < jobs; ++job) {
    std::fill(newest.begin(), newest.end(), INT_MIN);
    run_job(job, jobs, height, band_rows, load, compute, finish);
  }
  return rows;
}

int GraphBands::reach_rows(int height) const {
  if (local_) {
    const RowRange input = propagate(0, 1, nullptr)[input_];
    return std::max(-input.begin, input.end - 1);
  }
  const std::vector<int> rows = lengths(height);
  int reach = 0;
  for (int y = 0; y < height; ++y) {
    const RowRange input = propagate(y, y + 1, &rows)[input_];
    reach = std::max({reach, y - input.begin, input.end - 1 - y});
  }
  return reach;
}

}  // namespace quicksr::engine
