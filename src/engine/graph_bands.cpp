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
std::vector<RowRange> GraphBands::propagate(int y0, int y1) const {
  std::vector<RowRange> needed(factors_.size());
  merge(needed[output_], y0 * factors_[output_], y1 * factors_[output_]);
  for (auto step = steps_.rbegin(); step != steps_.rend(); ++step) {
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
  return needed;
}

// Clipped after the propagation: the row maps are monotone and keep the image edges (row 0 to
// row 0, the last to the last), so that equals clipping every range on the way, except that a
// band above the image (a lead band of the first job) still needs the rows below it.
std::vector<RowRange> GraphBands::needed_rows(int y0, int y1, int height) const {
  std::vector<RowRange> needed = propagate(y0, y1);
  for (std::size_t t = 0; t < needed.size(); ++t) {
    needed[t].begin = std::max(needed[t].begin, 0);
    needed[t].end = std::min(needed[t].end, height * factors_[t]);
  }
  return needed;
}

// A job's walk on an unbounded image, recording per tensor the rows from the lowest one read to
// its newest. Unclipped ranges only move with the band (by y0 * factor), so after the first
// band of rows every band repeats the last one shifted: a few bands give the most; clipping at
// an image edge only shrinks ranges (and rows above the image read the padding, not the ring).
std::vector<int> GraphBands::ring_rows(int band_rows) const {
  std::vector<int> newest(factors_.size(), INT_MIN);
  std::vector<int> rows(factors_.size(), 1);
  const auto hold = [&](int tensor, int lowest) {
    rows[tensor] = std::max(rows[tensor], newest[tensor] - lowest);
  };
  const auto load = [&](int begin, int end) {
    newest[input_] = end;
    hold(input_, begin);
  };
  const auto compute = [&](int s, int begin, int end) {
    const BandStep& step = steps_[s];
    const RowReach& r = step.reach;
    for (int input : step.inputs) {
      hold(input, r.block > 1 ? floor_div(begin, r.block) : begin - r.above);
    }
    newest[step.output] = end;
    hold(step.output, begin);
  };
  const auto finish = [&](int y0, int) { hold(output_, y0 * factors_[output_]); };
  walk(0, lead_rows(band_rows) + 3 * band_rows, 0, band_rows, false, load, compute, finish);
  return rows;
}

int GraphBands::halo_rows() const {
  const RowRange input = propagate(0, 1)[input_];
  return std::max(-input.begin, input.end - 1);
}

}  // namespace quicksr::engine
