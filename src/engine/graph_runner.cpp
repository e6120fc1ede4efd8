#include "engine/graph_runner.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/samples.hpp"
#include "engine/band_pipeline.hpp"
#include "model/op_values.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr int kLeftColumns = 16;  // >= kGraphMaxPadding, a whole cache line of floats
constexpr int kColumnRound = 16;  // a multiple of every pixel_block: kernels store up to it

// Floats between a row's planes at image width `width`: pixel x of plane c at c * pitch +
// kLeftColumns + x; the columns around the image stay zero (the conv padding).
std::size_t pitch_for(int width) {
  return static_cast<std::size_t>(kLeftColumns + round_up(width, kColumnRound) + kColumnRound);
}

// A tensor's rows: `width` pixels, `row_floats` per row (all its planes).
struct TensorRows {
  int width = 0;
  int height = 0;
  std::size_t pitch = 0;
  std::size_t row_floats = 0;
  TensorRows(const GraphPlan& plan, int tensor, int tensor_width, int tensor_height)
      : width(tensor_width),
        height(tensor_height),
        pitch(pitch_for(width)),
        row_floats(plan.tensors[tensor].planes * pitch) {}
};

// Every tensor's size for an input of width x height (GraphBands::lengths on both axes: the
// engine's windows are square and their maps the same on columns).
struct TensorSizes {
  std::vector<int> widths;
  std::vector<int> heights;
  TensorSizes(const GraphPlan& plan, int width, int height)
      : widths(plan.bands.lengths(width)), heights(plan.bands.lengths(height)) {}
};

// out[i] = in[i] scaled by `slope` where negative (LeakyReLU, PReLU), the same values as
// `v < 0 ? v * slope : v` but without the branch, which mispredicts on trained activations and
// keeps the compiler from vectorising (it does not speculate the multiply).
void scale_negatives(const float* in, float* out, int count, float slope) {
  for (int i = 0; i < count; ++i) out[i] = std::max(in[i], 0.0f) + slope * std::min(in[i], 0.0f);
}

// The activation `node` on `count` values of channel c (in == out allowed): Tanh on the ISA's
// f32-vtanh kernel, Sigmoid on it too as (1 + tanh(v / 2)) / 2, the rest in loops the compiler
// vectorises (one op per loop: a per-value switch and branch took 18-38 % of ERFDN's time).
void unary_row(const F32Kernels& kernels, const GraphNode& node, const std::vector<float>& slopes,
               const float* in, float* out, int count, int c) {
  switch (node.op) {
    case OpType::kTanh:
      return kernels.tanh->run(in, out, count);
    case OpType::kSigmoid:
      for (int i = 0; i < count; ++i) out[i] = 0.5f * in[i];
      kernels.tanh->run(out, out, count);
      for (int i = 0; i < count; ++i) out[i] = 0.5f * out[i] + 0.5f;
      return;
    case OpType::kRelu:
      for (int i = 0; i < count; ++i) out[i] = std::max(in[i], 0.0f);
      return;
    case OpType::kClip:
      for (int i = 0; i < count; ++i) out[i] = std::clamp(in[i], node.clip_min, node.clip_max);
      return;
    case OpType::kLeakyRelu:
      return scale_negatives(in, out, count, node.alpha);
    case OpType::kPRelu:
      return scale_negatives(in, out, count, slopes[slopes.size() == 1 ? 0 : c]);
    default:
      throw Error("engine: unexpected graph op");
  }
}

// The steps of one job (or one thread of a walk together) over rows of `rings` (another job's
// when the threads share them), with the job's own row buffer.
class StepRunner {
 public:
  StepRunner(const GraphPlan& plan, const F32Kernels& kernels, GraphRunner::Job& rings,
             GraphRunner::Job& job, const std::vector<float>& zero_row, const TensorSizes& sizes,
             const std::vector<int>& ring_rows)
      : plan_(plan),
        kernels_(kernels),
        rings_(rings.rings),
        job_(job),
        zero_row_(zero_row),
        sizes_(sizes),
        ring_rows_(ring_rows) {
    row_taps_.resize(plan.steps.size());
    column_taps_.resize(plan.steps.size());
    for (std::size_t s = 0; s < plan.steps.size(); ++s) {
      const GraphStep& step = plan.steps[s];
      if (step.kind != GraphStepKind::kResize) continue;
      const int in = step.inputs[0];
      row_taps_[s] = bilinear_taps(sizes.heights[in], sizes.heights[step.output]);
      column_taps_[s] = bilinear_taps(sizes.widths[in], sizes.widths[step.output]);
    }
  }

  TensorRows rows_of(int tensor) const {
    return TensorRows(plan_, tensor, sizes_.widths[tensor], sizes_.heights[tensor]);
  }
  // Row y of `tensor` (buffer column 0: image column -kLeftColumns) in its ring.
  float* row(int tensor, int y) const {
    const int ring = ring_rows_[tensor];
    return rings_[tensor].data() + ((y % ring + ring) % ring) * rows_of(tensor).row_floats;
  }
  // Row y as a conv reads it: rows outside the image are zero.
  const float* padded_row(int tensor, int y) const {
    return y < 0 || y >= rows_of(tensor).height ? zero_row_.data() : row(tensor, y);
  }

  void run(int index, int begin, int end) {
    const GraphStep& step = plan_.steps[index];
    for (int y = begin; y < end; ++y) {
      switch (step.kind) {
        case GraphStepKind::kConv:
          conv(step, y);
          break;
        case GraphStepKind::kUnary:
          unary(step, y);
          break;
        case GraphStepKind::kBinary:
          binary(step, y);
          break;
        case GraphStepKind::kMaxPool:
          max_pool(step, y);
          break;
        case GraphStepKind::kResize:
          this->resize(step, row_taps_[index][y], column_taps_[index], y);
          break;
        case GraphStepKind::kConcat:
          concat(step, y);
          break;
        case GraphStepKind::kDepthToSpace:
          depth_to_space(step, y);
          break;
      }
    }
  }

 private:
  void conv(const GraphStep& step, int y) {
    const GraphConv& conv = plan_.convs[step.conv];
    const GraphConv* pointwise = step.pointwise >= 0 ? &plan_.convs[step.pointwise] : nullptr;
    const TensorRows l = rows_of(step.output);
    float* out = row(step.output, y);
    const GraphConv& last = pointwise ? *pointwise : conv;
    const int planes = last.groups * last.padded_out_per_group;
    const float* rows[2 * kGraphMaxPadding + 1];
    for (int ky = 0; ky < conv.kernel_h; ++ky) {
      rows[ky] = padded_row(step.inputs[0], y * conv.stride - conv.pad_top + ky);
    }
    if (conv.stride > 1) {
      strided_conv(conv, rows, rows_of(step.inputs[0]), out, l);
    } else if (pointwise) {
      // The first conv's row, all its planes, into the job's buffer; the 1x1 conv from there.
      float* buffer = job_.row_buffer.data();
      for (int g = 0; g < conv.groups; ++g) conv_row(conv, g, rows, buffer, l);
      const float* buffer_row = buffer;
      conv_row(*pointwise, 0, &buffer_row, out, l);
    } else {
      for (int g = 0; g < conv.groups; ++g) conv_row(conv, g, rows, out, l);
    }
    // Columns past the image (stored by the last vector) back to zero padding.
    for (int c = 0; c < planes; ++c) {
      float* pixels = out + c * l.pitch + kLeftColumns;
      std::fill(pixels + l.width, pixels + (l.pitch - kLeftColumns), 0.0f);
    }
    if (!step.row_activation) return;
    for (int c = 0; c < plan_.tensors[step.output].channels; ++c) {
      float* pixels = out + c * l.pitch + kLeftColumns;
      unary_row(kernels_, *step.row_activation, step.slopes, pixels, pixels, l.width, c);
    }
  }

  // A strided conv's output row: its stride-1 row over the input's columns into the job's row
  // buffer (the kernels step one column at a time; ESA's strided conv is a small share of the
  // work), then every stride-th column.
  void strided_conv(const GraphConv& conv, const float* const* rows, const TensorRows& in,
                    float* out, const TensorRows& l) {
    float* buffer = job_.row_buffer.data();
    for (int g = 0; g < conv.groups; ++g) conv_row(conv, g, rows, buffer, in);
    for (int c = 0; c < conv.groups * conv.padded_out_per_group; ++c) {
      const float* from = buffer + c * in.pitch + kLeftColumns;
      float* to = out + c * l.pitch + kLeftColumns;
      for (int x = 0; x < l.width; ++x) to[x] = from[x * conv.stride];
    }
  }
  // One output row of group g of `conv`: `rows` are its kernel_h input row starts, `out` the
  // output row start (every row with its planes `l.pitch` apart).
  void conv_row(const GraphConv& conv, int g, const float* const* rows, float* out,
                const TensorRows& l) const {
    const float* shifted[2 * kGraphMaxPadding + 1];
    for (int ky = 0; ky < conv.kernel_h; ++ky) {
      shifted[ky] = rows[ky] + g * conv.in_per_group * l.pitch - conv.pad_left;
    }
    const F32ConvArgs args{shifted,
                           l.pitch,
                           conv.in_per_group,
                           conv.kernel_h,
                           conv.kernel_w,
                           conv.weights[g].data(),
                           conv.bias[g].data(),
                           conv.padded_out_per_group,
                           out + g * conv.padded_out_per_group * l.pitch,
                           l.pitch,
                           kLeftColumns,
                           round_up(l.width, kColumnRound),
                           conv.clamp,
                           conv.clamp_max};
    (conv.direct3x3 ? kernels_.direct : kernels_.conv)->run(args);
  }

  void unary(const GraphStep& step, int y) {
    const TensorRows l = rows_of(step.output);
    const float* in = row(step.inputs[0], y) + kLeftColumns;
    float* out = row(step.output, y) + kLeftColumns;
    for (int c = 0; c < plan_.tensors[step.output].channels; ++c) {
      unary_row(kernels_, step.node, step.slopes, in + c * l.pitch, out + c * l.pitch, l.width, c);
    }
  }

  void binary(const GraphStep& step, int y) {
    const TensorRows l = rows_of(step.output);
    const float* a = row(step.inputs[0], y) + kLeftColumns;
    const float* b = row(step.inputs[1], y) + kLeftColumns;
    float* out = row(step.output, y) + kLeftColumns;
    const bool mul = step.node.op == OpType::kMul;
    for (int c = 0; c < plan_.tensors[step.output].channels; ++c) {
      const std::size_t at = c * l.pitch;
      if (mul) {
        for (int i = 0; i < l.width; ++i) out[at + i] = a[at + i] * b[at + i];
      } else {
        for (int i = 0; i < l.width; ++i) out[at + i] = a[at + i] + b[at + i];
      }
    }
  }

  // Output row y: the maximum over input rows y * stride .. + kernel - 1 (no padding), first down
  // the rows into the row buffer, then along each window of columns.
  void max_pool(const GraphStep& step, int y) {
    const Pool2d& window = step.node.pool;
    const TensorRows in = rows_of(step.inputs[0]);
    const TensorRows l = rows_of(step.output);
    float* column_max = job_.row_buffer.data();
    float* out = row(step.output, y) + kLeftColumns;
    for (int c = 0; c < plan_.tensors[step.output].channels; ++c) {
      const std::size_t at = c * in.pitch + kLeftColumns;
      std::copy_n(row(step.inputs[0], y * window.stride) + at, in.width, column_max);
      for (int k = 1; k < window.kernel; ++k) {
        const float* r = row(step.inputs[0], y * window.stride + k) + at;
        for (int x = 0; x < in.width; ++x) column_max[x] = std::max(column_max[x], r[x]);
      }
      float* o = out + c * l.pitch;
      for (int x = 0; x < l.width; ++x) {
        const float* w = column_max + x * window.stride;
        o[x] = *std::max_element(w, w + window.kernel);
      }
    }
  }

  // Output row y from the input rows of its tap, each column from its two columns, with the
  // reference runtime's arithmetic (reference::resize_bilinear).
  void resize(const GraphStep& step, const BilinearTap& tap,
              const std::vector<BilinearTap>& columns, int y) {
    const TensorRows in = rows_of(step.inputs[0]);
    const TensorRows l = rows_of(step.output);
    const float* upper_row = row(step.inputs[0], tap.lower) + kLeftColumns;
    const float* lower_row = row(step.inputs[0], tap.upper) + kLeftColumns;
    float* out = row(step.output, y) + kLeftColumns;
    for (int c = 0; c < plan_.tensors[step.output].channels; ++c) {
      const float* a = upper_row + c * in.pitch;
      const float* b = lower_row + c * in.pitch;
      float* o = out + c * l.pitch;
      for (int x = 0; x < l.width; ++x) {
        const BilinearTap& column = columns[x];
        const float top =
            a[column.lower] * (1.0f - column.weight) + a[column.upper] * column.weight;
        const float bottom =
            b[column.lower] * (1.0f - column.weight) + b[column.upper] * column.weight;
        o[x] = top * (1.0f - tap.weight) + bottom * tap.weight;
      }
    }
  }

  void concat(const GraphStep& step, int y) {
    const TensorRows l = rows_of(step.output);
    float* out = row(step.output, y) + kLeftColumns;
    int channel = 0;
    for (int input : step.inputs) {
      const float* in = row(input, y) + kLeftColumns;
      for (int c = 0; c < plan_.tensors[input].channels; ++c, ++channel) {
        std::memcpy(out + channel * l.pitch, in + c * l.pitch, l.width * sizeof(float));
      }
    }
  }

  // Output row y: row y / block of the input, its channels for the row's phase dy.
  void depth_to_space(const GraphStep& step, int y) {
    const TensorRows in_rows = rows_of(step.inputs[0]);
    const TensorRows out_rows = rows_of(step.output);
    const int block = step.node.block_size;
    const int dy = y % block;
    const float* in = row(step.inputs[0], y / block) + kLeftColumns;
    float* out = row(step.output, y) + kLeftColumns;
    const int channels = plan_.tensors[step.output].channels;
    for (int c = 0; c < channels; ++c) {
      float* r = out + c * out_rows.pitch;
      for (int dx = 0; dx < block; ++dx) {
        const int from = d2s_channel(step.node.order, channels, block, c, dy, dx);
        const float* x = in + from * in_rows.pitch;
        for (int i = 0; i < in_rows.width; ++i) r[i * block + dx] = x[i];
      }
    }
  }

  const GraphPlan& plan_;
  const F32Kernels& kernels_;
  std::vector<std::vector<float>>& rings_;
  GraphRunner::Job& job_;
  const std::vector<float>& zero_row_;
  const TensorSizes& sizes_;
  const std::vector<int>& ring_rows_;
  std::vector<std::vector<BilinearTap>> row_taps_;  // per step (empty but for resizes)
  std::vector<std::vector<BilinearTap>> column_taps_;
};

// The floats of one job's buffers: each tensor's ring, the row buffer of the 1x1 convs.
std::vector<std::size_t> ring_floats(const GraphPlan& plan, const TensorSizes& sizes,
                                     const std::vector<int>& rows) {
  std::vector<std::size_t> floats;
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    floats.push_back(rows[t] *
                     TensorRows(plan, static_cast<int>(t), sizes.widths[t], 1).row_floats);
  }
  return floats;
}

// A row of the convs' planes for a 1x1 conv after them, a strided conv's stride-1 row (at its
// input's width), the max pool's column maxima.
std::size_t row_buffer_floats(const GraphPlan& plan, const TensorSizes& sizes) {
  std::size_t floats = 0;
  for (const GraphStep& step : plan.steps) {
    const int in_width = sizes.widths[step.inputs[0]];
    if (step.kind == GraphStepKind::kMaxPool) floats = std::max<std::size_t>(floats, in_width);
    if (step.kind != GraphStepKind::kConv) continue;
    const GraphConv& conv = plan.convs[step.conv];
    if (step.pointwise < 0 && conv.stride == 1) continue;
    floats = std::max(floats, conv.groups * conv.padded_out_per_group * pitch_for(in_width));
  }
  return floats;
}

std::size_t zero_row_floats(const GraphPlan& plan, const TensorSizes& sizes) {
  std::size_t floats = 0;
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    floats = std::max(floats, TensorRows(plan, static_cast<int>(t), sizes.widths[t], 1).row_floats);
  }
  return floats;
}

}  // namespace

std::size_t GraphRunner::workspace_bytes(const GraphPlan& plan, int width, int height,
                                         int band_rows, int threads) {
  band_rows = plan.bands.band_rows(band_rows, threads, height);
  const TensorSizes sizes(plan, width, height);
  std::size_t rings = 0;
  for (std::size_t ring : ring_floats(
           plan, sizes,
           plan.bands.ring_rows(band_rows, height, plan.bands.ring_sets(threads, height)))) {
    rings += ring;
  }
  // A job's rings per thread (as many as any height uses), or one set for a walk together.
  const int sets = plan.bands.walks_together(threads, height) ? 1 : threads;
  const std::size_t floats =
      sets * rings + threads * row_buffer_floats(plan, sizes) + zero_row_floats(plan, sizes);
  return floats * sizeof(float);
}

template <typename Sample>
void GraphRunner::run(const RgbView<const Sample>& input, const RgbView<Sample>& output,
                      ThreadPool& pool) {
  const int height = input.height;
  const int jobs = GraphBands::job_count(pool.size(), height);
  const bool together = plan_.bands.walks_together(pool.size(), height);
  const int ring_sets = plan_.bands.ring_sets(pool.size(), height);
  const int band_rows = plan_.bands.band_rows(band_rows_, pool.size(), height);
  const TensorSizes sizes(plan_, input.width, height);
  // Local graphs: rings for any height; others (ERFDN) sized for this height and ring sets.
  const bool same_rings = input.width == width_ && (plan_.bands.is_local() ||
                                                    (height == height_ && ring_sets == ring_sets_));
  if (!same_rings) {
    jobs_.clear();
    zero_row_.assign(zero_row_floats(plan_, sizes), 0.0f);
    ring_rows_ = plan_.bands.ring_rows(band_rows, height, ring_sets);
    width_ = input.width;
    height_ = height;
    ring_sets_ = ring_sets;
  }
  while (static_cast<int>(jobs_.size()) < jobs) {
    Job& job = jobs_.emplace_back();
    if (static_cast<int>(jobs_.size()) <= ring_sets) {
      for (std::size_t floats : ring_floats(plan_, sizes, ring_rows_)) {
        job.rings.emplace_back(floats);
      }
    }
    job.row_buffer.assign(row_buffer_floats(plan_, sizes), 0.0f);
  }
  const auto task = [&](int j, const auto& sync) {
    StepRunner steps(plan_, kernels_, jobs_[together ? 0 : j], jobs_[j], zero_row_, sizes,
                     ring_rows_);
    const auto load = [&](int begin, int end) {
      const std::size_t pitch = steps.rows_of(plan_.input).pitch;
      for (int y = begin; y < end; ++y) {
        float* row = steps.row(plan_.input, y) + kLeftColumns;
        for (int c = 0; c < 3; ++c) {
          for (int x = 0; x < width_; ++x) row[c * pitch + x] = unit_of(input.at(y, x, c));
        }
      }
    };
    const auto compute = [&](int step, int begin, int end) { steps.run(step, begin, end); };
    const int factor = plan_.tensors[plan_.output].factor;
    const auto finish = [&](int y0, int y1) {
      const std::size_t pitch = steps.rows_of(plan_.output).pitch;
      for (int y = y0 * factor; y < y1 * factor; ++y) {
        const float* row = steps.row(plan_.output, y) + kLeftColumns;
        for (int c = 0; c < 3; ++c) {
          for (int x = 0; x < output.width; ++x) store_unit(output.at(y, x, c), row[c * pitch + x]);
        }
      }
    };
    if (!together) return plan_.bands.run_job(j, jobs, height, band_rows, load, compute, finish);
    plan_.bands.walk_together(j, jobs, height, band_rows, sync, load, compute, finish);
  };
  run_synced(pool, jobs, task);
}

template void GraphRunner::run(const RgbView<const float>&, const RgbView<float>&, ThreadPool&);
template void GraphRunner::run(const RgbView<const std::uint8_t>&, const RgbView<std::uint8_t>&,
                               ThreadPool&);

}  // namespace quicksr::engine
