#include "engine/graph_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

constexpr int kMarginRows = kGraphMaxPadding;
constexpr int kLeftColumns = 16;  // >= kGraphMaxPadding, a whole cache line of floats
constexpr int kColumnRound = 16;  // a multiple of every pixel_block: kernels store up to it

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

// A slot's layout at resolution width x height: planes of (height + 2 margins) rows of `pitch`
// floats, image pixel (y, x) of channel c at c * plane + (y + kMarginRows) * pitch + kLeftColumns
// + x. Everything outside the image stays zero (the conv padding).
struct Layout {
  int width = 0;
  int height = 0;
  std::size_t pitch = 0;
  std::size_t plane = 0;

  Layout(int w, int h)
      : width(w),
        height(h),
        pitch(kLeftColumns + round_up(w, kColumnRound) + kColumnRound),
        plane(static_cast<std::size_t>(h + 2 * kMarginRows) * pitch) {}
  // Start of buffer row y (image column -kLeftColumns) of channel c.
  std::size_t row(int c, int y) const {
    return c * plane + static_cast<std::size_t>(y + kMarginRows) * pitch;
  }
  std::size_t pixel(int c, int y) const { return row(c, y) + kLeftColumns; }
};

float apply_unary(const GraphNode& node, const std::vector<float>& slopes, float v, int c) {
  switch (node.op) {
    case OpType::kRelu:
      return std::max(v, 0.0f);
    case OpType::kClip:
      return std::clamp(v, node.clip_min, node.clip_max);
    case OpType::kLeakyRelu:
      return v < 0.0f ? v * node.alpha : v;
    case OpType::kPRelu:
      return v < 0.0f ? v * slopes[slopes.size() == 1 ? 0 : c] : v;
    case OpType::kSigmoid:
      return 1.0f / (1.0f + std::exp(-v));
    default:
      throw Error("engine: unexpected graph op");
  }
}

// The activation `node` on `count` values of channel c (in == out allowed): Tanh on the ISA's
// f32-vtanh kernel, the rest in plain loops.
void unary_row(const F32Kernels& kernels, const GraphNode& node, const std::vector<float>& slopes,
               const float* in, float* out, int count, int c) {
  if (node.op == OpType::kTanh) return kernels.tanh->run(in, out, count);
  for (int i = 0; i < count; ++i) out[i] = apply_unary(node, slopes, in[i], c);
}

class StepRunner {
 public:
  StepRunner(const GraphPlan& plan, const F32Kernels& kernels,
             std::vector<std::vector<float>>& slots, std::vector<std::vector<float>>& row_buffers,
             int width, int height, ThreadPool& pool)
      : plan_(plan),
        kernels_(kernels),
        slots_(slots),
        row_buffers_(row_buffers),
        width_(width),
        height_(height),
        pool_(pool) {}

  Layout layout(int tensor) const {
    const int f = plan_.tensors[tensor].factor;
    return Layout(width_ * f, height_ * f);
  }
  float* data(int tensor) const { return slots_[plan_.tensors[tensor].slot].data(); }

  void run(const GraphStep& step) {
    switch (step.kind) {
      case GraphStepKind::kConv:
        return conv(step);
      case GraphStepKind::kUnary:
        return unary(step);
      case GraphStepKind::kAdd:
        return add(step);
      case GraphStepKind::kConcat:
        return concat(step);
      case GraphStepKind::kDepthToSpace:
        return depth_to_space(step);
    }
  }

 private:
  void conv(const GraphStep& step) {
    const GraphConv& conv = plan_.convs[step.conv];
    const GraphConv* pointwise = step.pointwise >= 0 ? &plan_.convs[step.pointwise] : nullptr;
    const Layout l = layout(step.output);
    const float* in = data(step.inputs[0]);
    float* out = data(step.output);
    const GraphConv& last = pointwise ? *pointwise : conv;
    const int planes = last.groups * last.padded_out_per_group;
    const int channels = plan_.tensors[step.output].channels;
    if (pointwise) reserve_row_buffers(conv.groups * conv.padded_out_per_group * l.pitch);
    for_job_rows(pool_, l.height, [&](int job, int y) {
      const float* rows[2 * kGraphMaxPadding + 1];
      for (int ky = 0; ky < conv.kernel_h; ++ky) rows[ky] = in + l.row(0, y - conv.pad_top + ky);
      if (pointwise) {
        // The first conv's row, all its planes, into the job's buffer; the 1x1 conv from there.
        float* buffer = row_buffers_[job].data();
        for (int g = 0; g < conv.groups; ++g) conv_row(conv, g, rows, l.plane, buffer, l.pitch, l);
        const float* buffer_row = buffer;
        conv_row(*pointwise, 0, &buffer_row, l.pitch, out + l.row(0, y), l.plane, l);
      } else {
        for (int g = 0; g < conv.groups; ++g) {
          conv_row(conv, g, rows, l.plane, out + l.row(0, y), l.plane, l);
        }
      }
      // Columns past the image (stored by the last vector) back to zero padding.
      for (int c = 0; c < planes; ++c) {
        float* row = out + l.pixel(c, y);
        std::fill(row + l.width, row + (l.pitch - kLeftColumns), 0.0f);
      }
      if (!step.row_activation) return;
      for (int c = 0; c < channels; ++c) {
        float* row = out + l.pixel(c, y);
        unary_row(kernels_, *step.row_activation, step.slopes, row, row, l.width, c);
      }
    });
  }

  // One output row of group g of `conv`: `rows` are its kernel_h input rows (buffer row starts,
  // channel c at c * in_stride), `out` the output row start of channel 0 (channel c at c *
  // out_stride).
  void conv_row(const GraphConv& conv, int g, const float* const* rows, std::size_t in_stride,
                float* out, std::size_t out_stride, const Layout& l) const {
    const float* shifted[2 * kGraphMaxPadding + 1];
    for (int ky = 0; ky < conv.kernel_h; ++ky) {
      shifted[ky] = rows[ky] + g * conv.in_per_group * in_stride - conv.pad_left;
    }
    const F32ConvArgs args{shifted,
                           in_stride,
                           conv.in_per_group,
                           conv.kernel_h,
                           conv.kernel_w,
                           conv.weights[g].data(),
                           conv.bias[g].data(),
                           conv.padded_out_per_group,
                           out + g * conv.padded_out_per_group * out_stride,
                           out_stride,
                           kLeftColumns,
                           round_up(l.width, kColumnRound),
                           conv.clamp,
                           conv.clamp_max};
    (conv.direct3x3 ? kernels_.direct : kernels_.conv)->run(args);
  }

  // One buffer of `floats` per job, for the rows between a conv and the 1x1 conv it feeds.
  void reserve_row_buffers(std::size_t floats) {
    row_buffers_.resize(std::max<std::size_t>(row_buffers_.size(), pool_.size() * kJobsPerThread));
    for (std::vector<float>& buffer : row_buffers_) {
      if (buffer.size() < floats) buffer.assign(floats, 0.0f);
    }
  }

  void unary(const GraphStep& step) {
    const Layout l = layout(step.output);
    const float* in = data(step.inputs[0]);
    float* out = data(step.output);
    const int channels = plan_.tensors[step.output].channels;
    for_rows(pool_, l.height, [&](int y) {
      for (int c = 0; c < channels; ++c) {
        unary_row(kernels_, step.node, step.slopes, in + l.pixel(c, y), out + l.pixel(c, y),
                  l.width, c);
      }
    });
  }

  void add(const GraphStep& step) {
    const Layout l = layout(step.output);
    const float* a = data(step.inputs[0]);
    const float* b = data(step.inputs[1]);
    float* out = data(step.output);
    const int channels = plan_.tensors[step.output].channels;
    for_rows(pool_, l.height, [&](int y) {
      for (int c = 0; c < channels; ++c) {
        const std::size_t at = l.pixel(c, y);
        for (int i = 0; i < l.width; ++i) out[at + i] = a[at + i] + b[at + i];
      }
    });
  }

  void concat(const GraphStep& step) {
    const Layout l = layout(step.output);
    float* out = data(step.output);
    for_rows(pool_, l.height, [&](int y) {
      int channel = 0;
      for (int input : step.inputs) {
        const float* in = data(input);
        for (int c = 0; c < plan_.tensors[input].channels; ++c, ++channel) {
          std::memcpy(out + l.pixel(channel, y), in + l.pixel(c, y), l.width * sizeof(float));
        }
      }
    });
  }

  void depth_to_space(const GraphStep& step) {
    const Layout in_layout = layout(step.inputs[0]);
    const Layout out_layout = layout(step.output);
    const float* in = data(step.inputs[0]);
    float* out = data(step.output);
    const int block = step.node.block_size;
    const int channels = plan_.tensors[step.output].channels;
    for_rows(pool_, in_layout.height, [&](int y) {
      for (int c = 0; c < channels; ++c) {
        for (int dy = 0; dy < block; ++dy) {
          float* r = out + out_layout.pixel(c, y * block + dy);
          for (int dx = 0; dx < block; ++dx) {
            const int from = d2s_channel(step.node.order, channels, block, c, dy, dx);
            const float* x = in + in_layout.pixel(from, y);
            for (int i = 0; i < in_layout.width; ++i) r[i * block + dx] = x[i];
          }
        }
      }
    });
  }

  const GraphPlan& plan_;
  const F32Kernels& kernels_;
  std::vector<std::vector<float>>& slots_;
  std::vector<std::vector<float>>& row_buffers_;
  int width_;
  int height_;
  ThreadPool& pool_;
};

}  // namespace

std::size_t GraphRunner::workspace_bytes(const GraphPlan& plan, int width, int height) {
  std::size_t bytes = 0;
  for (std::size_t s = 0; s < plan.slot_channels.size(); ++s) {
    const int f = plan.slot_factor[s];
    bytes += plan.slot_channels[s] * Layout(width * f, height * f).plane * sizeof(float);
  }
  return bytes;
}

void GraphRunner::run(const RgbView<const float>& input, const RgbView<float>& output,
                      ThreadPool& pool) {
  if (input.width != width_ || input.height != height_) {
    slots_.clear();
    for (std::size_t s = 0; s < plan_.slot_channels.size(); ++s) {
      const int f = plan_.slot_factor[s];
      slots_.emplace_back(plan_.slot_channels[s] * Layout(input.width * f, input.height * f).plane,
                          0.0f);
    }
    width_ = input.width;
    height_ = input.height;
  }
  StepRunner steps(plan_, kernels_, slots_, row_buffers_, width_, height_, pool);
  const Layout in_layout = steps.layout(plan_.input);
  float* in = steps.data(plan_.input);
  for_rows(pool, height_, [&](int y) {
    for (int c = 0; c < 3; ++c) {
      float* row = in + in_layout.pixel(c, y);
      for (int x = 0; x < width_; ++x) row[x] = input.at(y, x, c);
    }
  });
  for (const GraphStep& step : plan_.steps) steps.run(step);
  const Layout out_layout = steps.layout(plan_.output);
  const float* out = steps.data(plan_.output);
  for_rows(pool, output.height, [&](int y) {
    for (int c = 0; c < 3; ++c) {
      const float* row = out + out_layout.pixel(c, y);
      for (int x = 0; x < output.width; ++x) output.at(y, x, c) = row[x];
    }
  });
}

}  // namespace quicksr::engine
