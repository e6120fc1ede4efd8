#include "engine/graph_bands.hpp"

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

}  // namespace

// Backwards through the steps: a step's output range (all its readers' ranges merged, as every
// reader comes later) gives the rows it reads of each input.
std::vector<RowRange> GraphBands::propagate(int y0, int y1, int height, bool clip) const {
  std::vector<RowRange> needed(factors_.size());
  const auto clip_to_image = [&](int tensor) {
    if (!clip) return;
    RowRange& range = needed[tensor];
    range.begin = std::max(range.begin, 0);
    range.end = std::min(range.end, height * factors_[tensor]);
  };
  merge(needed[output_], y0 * factors_[output_], y1 * factors_[output_]);
  for (auto step = steps_.rbegin(); step != steps_.rend(); ++step) {
    clip_to_image(step->output);
    const RowRange out = needed[step->output];
    if (out.empty()) continue;
    const RowReach& r = step->reach;
    for (int input : step->inputs) {
      if (r.block > 1) {
        merge(needed[input], floor_div(out.begin, r.block), ceil_div(out.end, r.block));
      } else {
        merge(needed[input], out.begin - r.above, out.end + r.below);
      }
    }
  }
  clip_to_image(input_);
  return needed;
}

std::vector<RowRange> GraphBands::needed_rows(int y0, int y1, int height) const {
  return propagate(y0, y1, height, true);
}

// Unclipped ranges only move with the band (by y0 * factor: a depth-to-space's input by exactly
// y0 * its factor too), so one band anywhere gives every band's sizes; clipping only shrinks them.
std::vector<int> GraphBands::ring_rows(int band_rows) const {
  std::vector<int> rows;
  for (const RowRange& range : propagate(0, band_rows, 0, false)) rows.push_back(range.size());
  return rows;
}

int GraphBands::halo_rows() const {
  const RowRange input = propagate(0, 1, 0, false)[input_];
  return std::max(-input.begin, input.end - 1);
}

}  // namespace quicksr::engine
