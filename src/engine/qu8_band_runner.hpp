#pragma once
// The INT8 band pipeline: the same fused scheme as BandRunner (every layer keeps a three-row
// ring, each layer row computed once per band, halo rows recomputed), on grouped u8 rows (see
// qu8_kernels.hpp), 4x smaller than fp32 rows. Every conv is direct, so a layer needs one column
// of halo per later layer, and every output pixel is computed by the same integer arithmetic
// whatever the band, strip or thread: the output is bit-identical to the integer reference.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/band_runner.hpp"
#include "engine/qu8_plan.hpp"

namespace quicksr::engine {

class QU8BandRunner {
 public:
  // Allocates the workspace for strips up to `max_strip_width` columns.
  // `kernel` runs the 3x3 convs (and the x1.5 tail's 1x1); `plan` must be packed for it.
  // `im2col` forms the first conv's im2col rows when the plan runs it as a 1x1 on them.
  // `depth_to_space` forms the 8-bit output of integer scales without an anchor, `input_row`
  // the input rows of an 8-bit interleaved image.
  QU8BandRunner(const QU8Plan& plan, const QU8Conv3x3Config& kernel, const QU8Im2colConfig& im2col,
                const QU8DepthToSpaceConfig& depth_to_space, const QU8InputRowConfig& input_row,
                int max_strip_width);
  static std::size_t workspace_bytes(const QU8Plan& plan, int max_strip_width);

  // In, Out: std::uint8_t (the quantized image itself) or float (quantized on the way in with
  // the input encoding, dequantized on the way out).
  template <typename In, typename Out>
  void run(const RgbView<const In>& input, const RgbView<Out>& output, const Region& region);

 private:
  struct Geometry;
  // Where each part of the workspace starts (bytes) and how large rows are.
  struct Layout {
    Layout(const QU8Plan& plan, int max_strip_width);
    std::size_t stride = 0;                   // pixels between channel groups of a row
    std::vector<std::size_t> ring_offsets;    // ring of layer i (input = -1) at index i + 1
    std::vector<std::size_t> ring_row_bytes;  // same indexing
    std::vector<std::size_t> pad_rows;        // per conv: a row of its input's zero point
    std::size_t im2col = 0;  // the first conv's im2col row (kQu8Im2colGroups groups), if it has one
    std::size_t raw = 0;     // the anchored last conv's (or x1.5 tail's) s32 row
    std::size_t s2d = 0;   // x1.5: a space-to-depth row (4f channels, grouped) of two feature rows
    std::size_t tail = 0;  // x1.5: the tail's u8 output row (grouped)
    std::size_t total = 0;
  };

  std::uint8_t* ring_row(int layer, int y) const;
  const std::uint8_t* conv_input_row(int layer, int y, int net_height) const;
  template <typename In>
  void load_input_row(const RgbView<const In>& input, const Geometry& g, int y);
  void compute_conv_row(const Geometry& g, int layer, int y);
  // Runs `conv` (3x3 or 1x1) on one row: `rows` in, columns [col_begin, col_end) rounded out to
  // whole blocks, into `out` (or the raw row for a raw conv).
  void run_conv(const QU8PackedConv& conv, QU8Conv3x3Fn kernel, const std::uint8_t* const* rows,
                std::uint8_t* out, int col_begin, int col_end) const;
  // Sets buffer columns [begin, end) of every channel group of `row` to `value`.
  void pad_columns(std::uint8_t* row, int groups, int begin, int end, std::uint8_t value) const;
  // Pads the columns of [begin, end) that lie outside the image.
  void pad_outside_image(const Geometry& g, std::uint8_t* row, int groups, std::uint8_t value,
                         int begin, int end) const;
  void pad_rings(const Geometry& g);
  template <typename In, typename Out>
  void finish_integer_scale(const RgbView<const In>& input, const RgbView<Out>& output,
                            const Geometry& g, int y) const;
  template <typename In>
  void add_repeated_input(const RgbView<const In>& input, const Geometry& g, int y) const;
  template <typename In, typename Out>
  void finish_half_scale(const RgbView<const In>& input, const RgbView<Out>& output,
                         const Geometry& g, int y) const;

  const QU8Plan& plan_;
  const QU8Conv3x3Config& kernel_;
  const QU8Im2colConfig& im2col_;
  const QU8DepthToSpaceConfig& depth_to_space_;
  const QU8InputRowConfig& input_row_;
  // QU8DepthToSpaceArgs::channels for [4-byte pixels][blue first].
  std::vector<std::uint8_t> depth_to_space_channels_[2][2];
  Layout layout_;
  int left_margin_;  // buffer columns left of the strip's first column
  AlignedBuffer<std::uint8_t> buffer_;
  // (column_origin, net_width) of the strip whose padding the rings hold.
  std::pair<int, int> padded_for_{INT_MIN, 0};
};

}  // namespace quicksr::engine
