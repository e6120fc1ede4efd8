#include "engine/qu8_graph_runner.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "engine/qu8_values.hpp"

namespace quicksr::engine {

namespace {

constexpr int kMargin = kQu8ColumnBlock;  // >= half the largest kernel (kQu8GraphMaxKernel)
static_assert(kMargin >= kQu8GraphMaxKernel / 2);

// Pixels between the channel groups of a row at image width `width`: image column x at buffer
// column kMargin + x; kernels compute whole blocks of columns, up to kMargin past the image.
std::size_t stride_for(int width) {
  return static_cast<std::size_t>(kMargin + round_up(width, kQu8ColumnBlock) + kMargin);
}

std::size_t row_bytes(int groups, int width) { return groups * stride_for(width) * kQu8Group; }

// The columns and rows of each tensor (GraphBands::lengths on both axes: factor x the input's,
// EDSR's tensors after its upsampler; smaller for ESA's strided conv and pool; the windows are
// square, their maps the same on columns).
struct TensorSizes {
  std::vector<int> widths;
  std::vector<int> heights;
  std::vector<std::size_t> strides;
  std::vector<int> conv_input_widths;  // per conv
  TensorSizes(const QU8GraphPlan& plan, int width, int height)
      : widths(plan.bands.lengths(width)),
        heights(plan.bands.lengths(height)),
        conv_input_widths(plan.convs.size(), 0) {
    for (int w : widths) strides.push_back(stride_for(w));
    for (const QU8GraphStep& step : plan.steps) {
      if (step.kind == QU8GraphStepKind::kConv) {
        conv_input_widths[step.conv] = widths[step.inputs[0]];
      }
    }
  }
};

// Channel groups of a shifted conv's copies (k * k shifts of its input groups), else 0.
int shifted_groups(const QU8GraphConv& conv) {
  return conv.shifted * conv.shifted * conv.in_groups;
}

// The bytes of a job's row buffer: a strided conv's stride-1 row (its output groups at its
// input's width), a max pool's column maxima (its input's groups), a concat input's looked-up
// words (a concat inside channel words).
std::size_t row_buffer_bytes(const QU8GraphPlan& plan, const TensorSizes& sizes) {
  std::size_t bytes = 0;
  for (const QU8GraphStep& step : plan.steps) {
    const int in_width = sizes.widths[step.inputs[0]];
    if (step.kind == QU8GraphStepKind::kMaxPool) {
      bytes = std::max(bytes, row_bytes(plan.tensors[step.inputs[0]].groups, in_width));
    }
    if (step.kind == QU8GraphStepKind::kConv && plan.convs[step.conv].stride != 1) {
      bytes = std::max(bytes, row_bytes(plan.tensors[step.output].groups, in_width));
    }
    if (step.kind == QU8GraphStepKind::kConcat && !step.words) {
      for (int input : step.inputs) {
        bytes = std::max(bytes, row_bytes(plan.tensors[input].groups, in_width));
      }
    }
  }
  return bytes;
}

// A resize step's fixed-point taps for each output row and column (shared by the jobs of a run),
// indexed by step (empty for the other steps).
struct ResizeTaps {
  std::vector<quant::FixedBilinearTap> rows;
  std::vector<quant::FixedBilinearTap> columns;
};

std::vector<ResizeTaps> resize_taps(const QU8GraphPlan& plan, const TensorSizes& sizes) {
  std::vector<ResizeTaps> taps(plan.steps.size());
  for (std::size_t s = 0; s < plan.steps.size(); ++s) {
    const QU8GraphStep& step = plan.steps[s];
    if (step.kind != QU8GraphStepKind::kResize) continue;
    const int in = step.inputs[0];
    taps[s] = {quant::fixed_bilinear_taps(sizes.heights[in], sizes.heights[step.output]),
               quant::fixed_bilinear_taps(sizes.widths[in], sizes.widths[step.output])};
  }
  return taps;
}

// The steps of one job (or one thread of a walk together) over rows of `rings` (another job's
// when the threads share them), with the job's own row buffer and shifted copies; each step
// writes whole rows of its output tensor, margins included, so its readers never test image
// edges.
class StepRunner {
 public:
  StepRunner(const QU8GraphPlan& plan, const QU8Conv3x3Config& kernel, const QU8LutConfig& lut,
             const QU8AddConfig& add, QU8GraphRunner::Job& rings, QU8GraphRunner::Job& job,
             const std::vector<AlignedBuffer<std::uint8_t>>& pad_rows, const TensorSizes& sizes,
             const std::vector<int>& ring_rows, const std::vector<ResizeTaps>& resize_taps)
      : plan_(plan),
        kernel_(kernel),
        lut_(lut),
        add_(add),
        rings_(rings.rings),
        job_(job),
        pad_rows_(pad_rows),
        sizes_(sizes),
        ring_rows_(ring_rows),
        resize_taps_(resize_taps) {}

  // Pixels between the channel groups of a row of `tensor`.
  std::size_t stride(int tensor) const { return sizes_.strides[tensor]; }
  int width(int tensor) const { return sizes_.widths[tensor]; }
  // Row y of `tensor` in its ring.
  std::uint8_t* row(int tensor, int y) const {
    const int ring = ring_rows_[tensor];
    const std::size_t bytes = plan_.tensors[tensor].groups * stride(tensor) * kQu8Group;
    return rings_[tensor].get() + ((y % ring + ring) % ring) * bytes;
  }
  // Row y of `tensor` as a conv reads it: rows outside the image are its zero point.
  const std::uint8_t* padded_row(int tensor, int y) const {
    return y < 0 || y >= sizes_.heights[tensor] ? pad_rows_[tensor].get() : row(tensor, y);
  }
  // The bytes of a channel group's image columns.
  std::size_t image_bytes(int tensor) const {
    return static_cast<std::size_t>(width(tensor)) * kQu8Group;
  }
  // Buffer column x of channel group g of a row of `tensor`.
  std::size_t at(int tensor, int g, int x) const { return (g * stride(tensor) + x) * kQu8Group; }

  // Sets the margin columns of every group of row y of `tensor` to its zero point.
  void pad_margins(int tensor, int y) const {
    const QU8GraphTensor& t = plan_.tensors[tensor];
    std::uint8_t* r = row(tensor, y);
    const int w = width(tensor);
    for (int g = 0; g < t.groups; ++g) {
      std::memset(r + at(tensor, g, 0), t.zero_point, kMargin * kQu8Group);
      std::memset(r + at(tensor, g, kMargin + w), t.zero_point,
                  (stride(tensor) - kMargin - w) * kQu8Group);
    }
  }

  void run(int index, int begin, int end) const {
    const QU8GraphStep& step = plan_.steps[index];
    for (int y = begin; y < end; ++y) {
      switch (step.kind) {
        case QU8GraphStepKind::kConv:
          if (plan_.convs[step.conv].stride != 1) {
            strided_conv_row(step, y);
          } else {
            conv_row(step, y);
          }
          break;
        case QU8GraphStepKind::kMaxPool:
          max_pool_row(step, y);
          break;
        case QU8GraphStepKind::kResize:
          resize_row(step, resize_taps_[index].rows[y], resize_taps_[index].columns, y);
          break;
        case QU8GraphStepKind::kMul:
          mul_row(step, y);
          break;
        case QU8GraphStepKind::kTable:
          table_row(step, y);
          break;
        case QU8GraphStepKind::kAdd:
          add_row(step, y);
          break;
        case QU8GraphStepKind::kConcat:
          concat_row(step, y);
          break;
        case QU8GraphStepKind::kDepthToSpace:
          depth_to_space_row(step, y);
          break;
      }
      pad_margins(step.output, y);
    }
  }

 private:
  void conv_row(const QU8GraphStep& step, int y) const {
    const QU8GraphConv& conv = plan_.convs[step.conv];
    const int input = step.inputs[0];
    std::uint8_t* out = row(step.output, y);
    int out_group = 0;
    for (int p = 0; p < conv.part_count(); ++p) {
      const std::uint8_t* rows[3];
      int rotation = 0;
      if (conv.shifted != 0) {
        rows[0] = rows[1] = rows[2] = shift_copies(step.conv, input, p, y);
        rotation = ((y - conv.shifted / 2) % conv.shifted + conv.shifted) % conv.shifted;
      } else {
        const std::size_t in_offset = at(input, p * conv.in_groups, 0);
        const int reach = conv.tile_kernel / 2;
        for (int k = 0; k < 3; ++k) {
          rows[k] = padded_row(input, y - reach + std::min(k, conv.tile_kernel - 1)) + in_offset;
        }
      }
      const QU8PackedConv& part = conv.parts[p * conv.rotations() + rotation];
      run_qu8_conv(part, conv.tile_kernel == 3 ? kernel_.run : kernel_.run_1x1, rows, stride(input),
                   out + at(step.output, out_group, 0), nullptr, kMargin,
                   kMargin + round_up(width(input), kQu8ColumnBlock));
      out_group += part.padded_out_channels / kQu8Group;
    }
    if (conv.row_table.empty()) return;
    for (int g = 0; g < out_group; ++g) {
      look_up(step.output, conv.row_table.data(), out + at(step.output, g, kMargin),
              out + at(step.output, g, kMargin));
    }
  }

  // An unpadded strided conv's output row y: the tile's stride-1 row centred on input row
  // y * stride + k / 2 into the job's row buffer (the tile steps one column at a time; ESA's
  // strided conv is a small share of ERFDN's work), then its column x * stride + k / 2 as column x.
  void strided_conv_row(const QU8GraphStep& step, int y) const {
    const QU8GraphConv& conv = plan_.convs[step.conv];
    const int input = step.inputs[0];
    const int k = conv.tile_kernel;
    std::uint8_t* buffer = job_.row_buffer.get();
    int out_group = 0;
    for (int p = 0; p < conv.part_count(); ++p) {
      const std::size_t in_offset = at(input, p * conv.in_groups, 0);
      const std::uint8_t* rows[3];
      for (int r = 0; r < 3; ++r) {
        rows[r] = padded_row(input, y * conv.stride + std::min(r, k - 1)) + in_offset;
      }
      const QU8PackedConv& part = conv.parts[p];
      run_qu8_conv(part, k == 3 ? kernel_.run : kernel_.run_1x1, rows, stride(input),
                   buffer + at(input, out_group, 0), nullptr, kMargin,
                   kMargin + round_up(width(input), kQu8ColumnBlock));
      out_group += part.padded_out_channels / kQu8Group;
    }
    std::uint8_t* out = row(step.output, y);
    for (int g = 0; g < out_group; ++g) {
      const std::uint8_t* from = buffer + at(input, g, kMargin + k / 2);
      std::uint8_t* to = out + at(step.output, g, kMargin);
      for (int x = 0; x < width(step.output); ++x) {
        std::memcpy(to + x * kQu8Group, from + x * conv.stride * kQu8Group, kQu8Group);
      }
    }
  }

  // Output row y: the largest value over input rows y * stride .. + window - 1 (no padding), first
  // down the rows into the row buffer, then along each window of columns (the reference's
  // max_pool: u8 values, the encoding unchanged).
  void max_pool_row(const QU8GraphStep& step, int y) const {
    const int input = step.inputs[0];
    const int t = step.output;
    const std::size_t bytes = image_bytes(input);
    std::uint8_t* column_max = job_.row_buffer.get();
    std::uint8_t* out = row(t, y);
    for (int g = 0; g < plan_.tensors[t].groups; ++g) {
      const std::size_t in_at = at(input, g, kMargin);
      std::memcpy(column_max, row(input, y * step.stride) + in_at, bytes);
      for (int k = 1; k < step.window; ++k) {
        const std::uint8_t* r = row(input, y * step.stride + k) + in_at;
        for (std::size_t i = 0; i < bytes; ++i) column_max[i] = std::max(column_max[i], r[i]);
      }
      std::uint8_t* o = out + at(t, g, kMargin);
      for (int x = 0; x < width(t); ++x) {
        for (int lane = 0; lane < kQu8Group; ++lane) {
          const std::uint8_t* w = column_max + x * step.stride * kQu8Group + lane;
          std::uint8_t largest = 0;
          for (int k = 0; k < step.window; ++k) largest = std::max(largest, w[k * kQu8Group]);
          o[x * kQu8Group + lane] = largest;
        }
      }
    }
  }

  // Output row y from the input rows of its tap, each value by quant::bilinear_value (the
  // reference's resize_bilinear: u8 values, the encoding unchanged).
  void resize_row(const QU8GraphStep& step, const quant::FixedBilinearTap& tap,
                  const std::vector<quant::FixedBilinearTap>& columns, int y) const {
    const int input = step.inputs[0];
    const int t = step.output;
    std::uint8_t* out = row(t, y);
    for (int g = 0; g < plan_.tensors[t].groups; ++g) {
      const std::uint8_t* upper = row(input, tap.lower) + at(input, g, kMargin);
      const std::uint8_t* lower = row(input, tap.upper) + at(input, g, kMargin);
      std::uint8_t* o = out + at(t, g, kMargin);
      for (int x = 0; x < width(t); ++x) {
        const std::size_t left = static_cast<std::size_t>(columns[x].lower) * kQu8Group;
        const std::size_t right = static_cast<std::size_t>(columns[x].upper) * kQu8Group;
        for (int lane = 0; lane < kQu8Group; ++lane) {
          o[x * kQu8Group + lane] =
              quant::bilinear_value(tap, columns[x], upper[left + lane], upper[right + lane],
                                    lower[left + lane], lower[right + lane]);
        }
      }
    }
  }

  // Every value through the step's table of quant::multiply_value (the reference's multiply, no
  // broadcast).
  void mul_row(const QU8GraphStep& step, int y) const {
    const int t = step.output;
    const std::uint8_t* table = step.table.data();
    const std::uint8_t* a = row(step.inputs[0], y);
    const std::uint8_t* b = row(step.inputs[1], y);
    std::uint8_t* out = row(t, y);
    for (int g = 0; g < plan_.tensors[t].groups; ++g) {
      const std::size_t begin = at(t, g, kMargin);
      for (std::size_t i = begin; i < begin + image_bytes(t); ++i) {
        out[i] = table[a[i] * 256 + b[i]];
      }
    }
  }

  // The k * k shifted copies of part p's `conv.in_groups` channel groups of `input` around row
  // y: input row r in ring slot r mod k, its copy kx (input column x + kx - k / 2 at column x) at
  // group (slot * k + kx) * in_groups. The job's ring of this conv keeps the rows it holds, so
  // each output row copies one new input row (the weights' rotation follows, as_shifted_1x1).
  const std::uint8_t* shift_copies(int conv_index, int input, int p, int y) const {
    const QU8GraphConv& conv = plan_.convs[conv_index];
    const int k = conv.shifted;
    const int pad = k / 2;
    ShiftRing& ring = job_.shift_rings[conv_index];
    if (ring.part != p || static_cast<int>(ring.rows.size()) != k) {
      ring.part = p;
      ring.rows.assign(k, INT_MIN);
    }
    std::uint8_t* copies = job_.shifted[conv_index].get();
    const std::size_t bytes =
        static_cast<std::size_t>(round_up(width(input), kQu8ColumnBlock)) * kQu8Group;
    for (int r = y - pad; r <= y + pad; ++r) {
      const int slot = (r % k + k) % k;
      if (ring.rows[slot] == r) continue;
      ring.rows[slot] = r;
      const std::uint8_t* source = padded_row(input, r) + at(input, p * conv.in_groups, 0);
      for (int kx = 0; kx < k; ++kx) {
        for (int g = 0; g < conv.in_groups; ++g) {
          std::memcpy(copies + at(input, (slot * k + kx) * conv.in_groups + g, kMargin),
                      source + at(input, g, kMargin + kx - pad), bytes);
        }
      }
    }
    return copies;
  }

  // The image columns of one channel group of `tensor` through `table` (in == out allowed).
  void look_up(int tensor, const std::uint8_t* table, const std::uint8_t* in,
               std::uint8_t* out) const {
    lut_.run({table, in, out, image_bytes(tensor)});
  }

  void table_row(const QU8GraphStep& step, int y) const {
    const int t = step.output;
    const std::uint8_t* in = row(step.inputs[0], y);
    std::uint8_t* out = row(t, y);
    for (int g = 0; g < plan_.tensors[t].groups; ++g) {
      look_up(t, step.table.data(), in + at(t, g, kMargin), out + at(t, g, kMargin));
    }
  }

  void add_row(const QU8GraphStep& step, int y) const {
    const int t = step.output;
    const std::uint8_t* a = row(step.inputs[0], y);
    const std::uint8_t* b = row(step.inputs[1], y);
    std::uint8_t* out = row(t, y);
    for (int g = 0; g < plan_.tensors[t].groups; ++g) {
      const std::size_t begin = at(t, g, kMargin);
      add_.run({a + begin, b + begin, out + begin, image_bytes(t), &step.add});
    }
  }

  // Input k's groups follow those of the inputs before it, through its table; channel by channel
  // when an input starts inside a word (the lanes past the last channel: the zero point).
  void concat_row(const QU8GraphStep& step, int y) const {
    if (!step.words) return concat_channels_row(step, y);
    const int t = step.output;
    std::uint8_t* out = row(t, y);
    int out_group = 0;
    for (std::size_t k = 0; k < step.inputs.size(); ++k) {
      const std::uint8_t* table = step.table.data() + 256 * k;
      const std::uint8_t* in = row(step.inputs[k], y);
      for (int g = 0; g < plan_.tensors[step.inputs[k]].groups; ++g, ++out_group) {
        look_up(t, table, in + at(t, g, kMargin), out + at(t, out_group, kMargin));
      }
    }
  }

  // Each input's words through its table (the qu8-lut kernel) into the job's row buffer, then
  // merged into the output's words: input channel i is output channel offset + i, so input word g
  // lands at lane offset % 4 of output word offset / 4 + g and the next (little-endian shifts,
  // masked to the input's channels). The lanes past the last channel: the zero point.
  void concat_channels_row(const QU8GraphStep& step, int y) const {
    const int t = step.output;
    const int w = width(t);
    std::uint8_t* out = row(t, y);
    for (int g = 0; g < plan_.tensors[t].groups; ++g) {
      std::memset(out + at(t, g, kMargin), plan_.tensors[t].zero_point, image_bytes(t));
    }
    std::uint8_t* looked_up = job_.row_buffer.get();
    int offset = 0;
    for (std::size_t k = 0; k < step.inputs.size(); ++k) {
      const int input = step.inputs[k];
      const QU8GraphTensor& in_tensor = plan_.tensors[input];
      for (int g = 0; g < in_tensor.groups; ++g) {
        look_up(t, step.table.data() + 256 * k, row(input, y) + at(input, g, kMargin),
                looked_up + g * image_bytes(t));
      }
      for (int g = 0; g < in_tensor.groups; ++g) {
        const int channels = std::min(kQu8Group, in_tensor.channels - g * kQu8Group);
        const int first = offset + g * kQu8Group;
        const int shift = 8 * (first % kQu8Group);
        const std::uint32_t lanes = channels == kQu8Group ? ~0u : (1u << (8 * channels)) - 1;
        const std::uint8_t* from = looked_up + g * image_bytes(t);
        std::uint8_t* to = out + at(t, first / kQu8Group, kMargin);
        merge_shifted(from, to, w, lanes << shift, [shift](std::uint32_t v) { return v << shift; });
        if (shift != 0 && (lanes >> (32 - shift)) != 0) {
          merge_shifted(from, to + at(t, 1, 0), w, lanes >> (32 - shift),
                        [shift](std::uint32_t v) { return v >> (32 - shift); });
        }
      }
      offset += in_tensor.channels;
    }
  }

  // Word x of `to` takes the `mask` bits of moved(word x of `from`), for `count` words.
  template <typename Move>
  static void merge_shifted(const std::uint8_t* from, std::uint8_t* to, int count,
                            std::uint32_t mask, const Move& moved) {
    for (int x = 0; x < count; ++x) {
      std::uint32_t value;
      std::uint32_t word;
      std::memcpy(&value, from + x * kQu8Group, kQu8Group);
      std::memcpy(&word, to + x * kQu8Group, kQu8Group);
      word = (word & ~mask) | (moved(value) & mask);
      std::memcpy(to + x * kQu8Group, &word, kQu8Group);
    }
  }

  // Output row y: input row y / b, channel c of output column x from channel
  // d2s_channel(c, y mod b, x mod b) of input column x / b; the words' unused lanes hold the zero
  // point.
  void depth_to_space_row(const QU8GraphStep& step, int y) const {
    const int input = step.inputs[0];
    const int t = step.output;
    const int b = step.block;
    const int dy = y % b;
    const QU8GraphTensor& out_tensor = plan_.tensors[t];
    const std::uint8_t* in = row(input, y / b);
    std::uint8_t* out = row(t, y);
    const int in_width = width(input);
    for (int c = 0; c < out_tensor.groups * kQu8Group; ++c) {
      std::uint8_t* to = out + at(t, c / kQu8Group, kMargin) + c % kQu8Group;
      if (c >= out_tensor.channels) {
        for (int x = 0; x < width(t); ++x) to[x * kQu8Group] = out_tensor.zero_point;
        continue;
      }
      for (int dx = 0; dx < b; ++dx) {
        const int from = d2s_channel(step.order, out_tensor.channels, b, c, dy, dx);
        const std::uint8_t* values = in + at(input, from / kQu8Group, kMargin) + from % kQu8Group;
        for (int x = 0; x < in_width; ++x) {
          to[(x * b + dx) * kQu8Group] = values[x * kQu8Group];
        }
      }
    }
  }

  const QU8GraphPlan& plan_;
  const QU8Conv3x3Config& kernel_;
  const QU8LutConfig& lut_;
  const QU8AddConfig& add_;
  std::vector<AlignedBuffer<std::uint8_t>>& rings_;
  QU8GraphRunner::Job& job_;
  const std::vector<AlignedBuffer<std::uint8_t>>& pad_rows_;
  const TensorSizes& sizes_;
  const std::vector<int>& ring_rows_;
  const std::vector<ResizeTaps>& resize_taps_;  // per step
};

// The bytes of one set of rings.
std::size_t ring_bytes(const QU8GraphPlan& plan, const TensorSizes& sizes,
                       const std::vector<int>& ring_rows) {
  std::size_t bytes = 0;
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    bytes += ring_rows[t] * row_bytes(plan.tensors[t].groups, sizes.widths[t]);
  }
  return bytes;
}

// The bytes of one job's own buffers: each conv's shifted copies, the row buffer.
std::size_t scratch_bytes(const QU8GraphPlan& plan, const TensorSizes& sizes) {
  std::size_t bytes = row_buffer_bytes(plan, sizes);
  for (std::size_t c = 0; c < plan.convs.size(); ++c) {
    bytes += row_bytes(shifted_groups(plan.convs[c]), sizes.conv_input_widths[c]);
  }
  return bytes;
}

}  // namespace

std::size_t QU8GraphRunner::workspace_bytes(const QU8GraphPlan& plan, int width, int height,
                                            int band_rows, int threads) {
  band_rows = plan.bands.band_rows(band_rows, threads, height);
  const TensorSizes sizes(plan, width, height);
  std::size_t pad_rows = 0;
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    pad_rows += row_bytes(plan.tensors[t].groups, sizes.widths[t]);
  }
  // A job's rings per thread (as many as any height uses), or one set for a walk together.
  const int sets = plan.bands.walks_together(threads, height) ? 1 : threads;
  const std::vector<int> ring_rows =
      plan.bands.ring_rows(band_rows, height, plan.bands.ring_sets(threads, height));
  return sets * ring_bytes(plan, sizes, ring_rows) + threads * scratch_bytes(plan, sizes) +
         pad_rows;
}

// Local graphs: rings for any height of this width; others (ERFDN) sized for this height and
// number of ring sets.
void QU8GraphRunner::allocate(int width, int height, int jobs, int ring_sets, int band_rows) {
  const bool local = plan_.bands.is_local();
  if (width != width_ || (!local && (height != height_ || ring_sets != ring_sets_))) {
    jobs_.clear();
    pad_rows_.clear();
    const TensorSizes sizes(plan_, width, height);
    for (std::size_t t = 0; t < plan_.tensors.size(); ++t) {
      const std::size_t bytes = row_bytes(plan_.tensors[t].groups, sizes.widths[t]);
      pad_rows_.emplace_back(bytes);
      std::memset(pad_rows_.back().get(), plan_.tensors[t].zero_point, bytes);
    }
    ring_rows_ = plan_.bands.ring_rows(band_rows, height, ring_sets);
    width_ = width;
    height_ = height;
    ring_sets_ = ring_sets;
  }
  const TensorSizes sizes(plan_, width, height);
  while (static_cast<int>(jobs_.size()) < jobs) {
    Job& job = jobs_.emplace_back(row_buffer_bytes(plan_, sizes));
    for (std::size_t t = 0; static_cast<int>(jobs_.size()) <= ring_sets && t < ring_rows_.size();
         ++t) {
      job.rings.emplace_back(ring_rows_[t] * row_bytes(plan_.tensors[t].groups, sizes.widths[t]));
    }
    for (std::size_t c = 0; c < plan_.convs.size(); ++c) {
      job.shifted.emplace_back(
          row_bytes(shifted_groups(plan_.convs[c]), sizes.conv_input_widths[c]));
    }
    job.shift_rings.resize(plan_.convs.size());
  }
}

template <typename In, typename Out>
void QU8GraphRunner::run(const RgbView<const In>& input, const RgbView<Out>& output,
                         ThreadPool& pool) {
  const int height = input.height;
  const int jobs = GraphBands::job_count(pool.size(), height);
  const bool together = plan_.bands.walks_together(pool.size(), height);
  const int band_rows = plan_.bands.band_rows(band_rows_, pool.size(), height);
  allocate(input.width, height, jobs, plan_.bands.ring_sets(pool.size(), height), band_rows);
  const TensorSizes sizes(plan_, width_, height);
  const std::vector<ResizeTaps> taps = resize_taps(plan_, sizes);
  // The output's channel for each (dy, dx, colour) of the depth-to-space.
  const int s = plan_.scale;
  std::vector<std::uint8_t> channels;
  for (int dy = 0; dy < s; ++dy) {
    for (int dx = 0; dx < s; ++dx) {
      for (int c = 0; c < 3; ++c) {
        channels.push_back(static_cast<std::uint8_t>(d2s_channel(plan_.order, 3, s, c, dy, dx)));
      }
    }
  }
  const auto task = [&](int j, const auto& sync) {
    Job& job = jobs_[j];
    for (ShiftRing& ring : job.shift_rings) ring.part = -1;  // another run's rows
    const StepRunner steps(plan_, kernel_, lut_, add_, jobs_[together ? 0 : j], job, pad_rows_,
                           sizes, ring_rows_, taps);
    // The input rows: R, G, B, R words (the input-row kernels' layout; the fourth channel has no
    // weights).
    const auto load = [&](int begin, int end) {
      for (int y = begin; y < end; ++y) {
        std::uint8_t* row = steps.row(plan_.input, y) + steps.at(plan_.input, 0, kMargin);
        int x = 0;
        if constexpr (std::is_same_v<In, std::uint8_t>) {
          if (input.pixel_step == 3 && input.channel_step == 1) {
            input_row_.run({&input.at(y, 0, 0), width_, row});
            x = width_;
          }
        }
        for (; x < width_; ++x) {
          for (int c = 0; c < kQu8Group; ++c) {
            row[x * kQu8Group + c] = to_u8(input.at(y, x, c % 3));
          }
        }
        steps.pad_margins(plan_.input, y);
      }
    };
    const auto compute = [&](int step, int begin, int end) { steps.run(step, begin, end); };
    // The output: depth-to-space of the last tensor, on the kernel for 8-bit interleaved RGB, or
    // that tensor's rows as they are (3 channels at the output's size: one word, R, G, B).
    const int out = plan_.output;
    const auto finish = [&](int y0, int y1) {
      if (plan_.output_block == 1) {
        for (int y = y0 * s; y < y1 * s; ++y) {
          const std::uint8_t* values = steps.row(out, y) + steps.at(out, 0, kMargin);
          for (int x = 0; x < steps.width(out); ++x) {
            for (int c = 0; c < 3; ++c) {
              store(output.at(y, x, c), values[x * kQu8Group + c], plan_.output_encoding);
            }
          }
        }
        return;
      }
      for (int y = y0; y < y1; ++y) {
        const std::uint8_t* row = steps.row(out, y);
        if constexpr (std::is_same_v<Out, std::uint8_t>) {
          if (output.pixel_step == 3 && output.channel_step == 1) {
            depth_to_space_.run({row + steps.at(out, 0, kMargin), steps.stride(out), width_, s,
                                 channels.data(), &output.at(y * s, 0, 0), output.row_step});
            continue;
          }
        }
        for (int i = 0; i < s * s * 3; ++i) {
          const int dy = i / (3 * s);
          const int dx = i / 3 % s;
          const std::uint8_t* values =
              row + steps.at(out, channels[i] / kQu8Group, kMargin) + channels[i] % kQu8Group;
          for (int x = 0; x < width_; ++x) {
            store(output.at(y * s + dy, x * s + dx, i % 3), values[x * kQu8Group],
                  plan_.output_encoding);
          }
        }
      }
    };
    if (!together) return plan_.bands.run_job(j, jobs, height, band_rows, load, compute, finish);
    plan_.bands.walk_together(j, jobs, height, band_rows, sync, load, compute, finish);
  };
  run_synced(pool, jobs, task);
}

template void QU8GraphRunner::run(const RgbView<const std::uint8_t>&, const RgbView<std::uint8_t>&,
                                  ThreadPool&);
template void QU8GraphRunner::run(const RgbView<const float>&, const RgbView<float>&, ThreadPool&);

}  // namespace quicksr::engine
