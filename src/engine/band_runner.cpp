#include "engine/band_runner.hpp"

#include <algorithm>
#include <cstring>

namespace quicksr::engine {

namespace {

constexpr std::align_val_t kAlignment{64};

constexpr int round_up(int value, int multiple) {
  return (value + multiple - 1) / multiple * multiple;
}
constexpr int round_down(int value, int multiple) {
  return value >= 0 ? value / multiple * multiple : -round_up(-value, multiple);
}
int ring_slot(int y) { return ((y % 3) + 3) % 3; }
float clip01(float v) { return std::min(std::max(v, 0.0f), 1.0f); }

int left_margin_for(const Plan& plan) {
  return round_up(plan.conv_count(), kColumnBlock) + kColumnBlock;
}

// Room for the widest halo on both sides, the block rounding and the kernel's one-column overread.
std::size_t stride_for(const Plan& plan, int max_strip_width) {
  return static_cast<std::size_t>(
      round_up(left_margin_for(plan) + max_strip_width + plan.conv_count() + 2 * kColumnBlock,
               kColumnBlock));
}

std::vector<int> ring_channels(const Plan& plan) {
  std::vector<int> channels{3};
  for (const PackedConv3x3& conv : plan.convs) channels.push_back(conv.padded_out_channels);
  return channels;
}

// The anchor conv's output o at (y, x) over the zero-padded network input.
float anchor_value(const Conv2d& anchor, const RgbView<const float>& input, int net_width,
                   int net_height, int o, int y, int x) {
  float sum = anchor.bias.empty() ? 0.0f : anchor.bias[o];
  for (int c = 0; c < anchor.in_channels; ++c) {
    for (int ky = 0; ky < anchor.kernel_h; ++ky) {
      const int iy = y * anchor.stride + ky - anchor.pad_top;
      if (iy < 0 || iy >= net_height) continue;
      for (int kx = 0; kx < anchor.kernel_w; ++kx) {
        const int ix = x * anchor.stride + kx - anchor.pad_left;
        if (ix < 0 || ix >= net_width) continue;
        // Edge replication of odd x1.5 inputs: the network input repeats the last row/column.
        sum += anchor.w(o, c, ky, kx) *
               input.at(std::min(iy, input.height - 1), std::min(ix, input.width - 1), c);
      }
    }
  }
  return sum;
}

}  // namespace

struct BandRunner::Geometry {
  Region region;
  int net_width;
  int net_height;
  int column_origin;  // image column of buffer column 0
  int layers;         // 3x3 convs in the pipeline
  // Extra rows/columns layer `layer` (the input: -1) computes beyond the region on each side.
  int halo(int layer) const { return layers - 1 - layer; }
};

std::size_t BandRunner::workspace_bytes(const Plan& plan, int max_strip_width) {
  std::size_t rows = plan.max_channels();  // the zero row
  for (int channels : ring_channels(plan)) rows += 3 * static_cast<std::size_t>(channels);
  return rows * stride_for(plan, max_strip_width) * sizeof(float);
}

BandRunner::BandRunner(const Plan& plan, F32Conv3x3Fn conv3x3, int max_strip_width)
    : plan_(plan),
      conv3x3_(conv3x3),
      stride_(stride_for(plan, max_strip_width)),
      left_margin_(left_margin_for(plan)) {
  std::size_t offset = 0;
  for (int channels : ring_channels(plan)) {
    layer_offsets_.push_back(offset);
    offset += 3 * static_cast<std::size_t>(channels) * stride_;
  }
  zero_row_offset_ = offset;
  offset += plan.max_channels() * stride_;
  void* memory = ::operator new(offset * sizeof(float), kAlignment);
  std::memset(memory, 0, offset * sizeof(float));
  buffer_.reset(static_cast<float*>(memory));
}

void BandRunner::AlignedFree::operator()(float* p) const { ::operator delete(p, kAlignment); }

float* BandRunner::ring_row(int layer, int y) const {
  const std::size_t channels = layer < 0 ? 3 : plan_.convs[layer].padded_out_channels;
  return buffer_.get() + layer_offsets_[layer + 1] + ring_slot(y) * channels * stride_;
}

// Rows outside the image are the convolution's zero padding.
const float* BandRunner::conv_input_row(int layer, int y, int net_height) const {
  if (y < 0 || y >= net_height) return buffer_.get() + zero_row_offset_;
  return ring_row(layer, y);
}

void BandRunner::zero_outside_image(const Geometry& g, float* row, int channels) const {
  const int left_end = std::clamp(-g.column_origin, 0, static_cast<int>(stride_));
  const int right_begin = std::clamp(g.net_width - g.column_origin, 0, static_cast<int>(stride_));
  for (int c = 0; c < channels; ++c) {
    float* channel = row + c * stride_;
    std::fill(channel, channel + left_end, 0.0f);
    std::fill(channel + right_begin, channel + stride_, 0.0f);
  }
}

void BandRunner::load_input_row(const RgbView<const float>& input, const Geometry& g, int y) {
  float* row = ring_row(-1, y);
  const int begin = std::max(0, g.region.col_begin - g.halo(-1));
  const int end = std::min(g.net_width, g.region.col_end + g.halo(-1));
  const int source_y = std::min(y, input.height - 1);
  for (int c = 0; c < 3; ++c) {
    float* channel = row + c * stride_ - g.column_origin;
    for (int x = begin; x < end; ++x) {
      channel[x] = input.at(source_y, std::min(x, input.width - 1), c);
    }
  }
  zero_outside_image(g, row, 3);
}

void BandRunner::compute_conv_row(const Geometry& g, int layer, int y) {
  const PackedConv3x3& conv = plan_.convs[layer];
  const int begin = std::max(0, g.region.col_begin - g.halo(layer)) - g.column_origin;
  const int end = std::min(g.net_width, g.region.col_end + g.halo(layer)) - g.column_origin;
  F32Conv3x3Args args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = conv_input_row(layer - 1, y - 1 + k, g.net_height);
  args.in_stride = stride_;
  args.in_channels = conv.in_channels;
  args.weights = conv.weights.data();
  args.bias = conv.bias.data();
  args.out_channels = conv.padded_out_channels;
  args.out = ring_row(layer, y);
  args.out_stride = stride_;
  args.col_begin = round_down(begin, kColumnBlock);
  args.col_count = round_up(end, kColumnBlock) - args.col_begin;
  args.clamp = conv.clamp;
  conv3x3_(args);
  zero_outside_image(g, args.out, conv.padded_out_channels);
}

// Integer scales: anchor, clip and depth-to-space of one row of the last conv's output. The
// channel of each sub-pixel is looked up once per row, not per pixel.
void BandRunner::finish_integer_scale(const RgbView<const float>& input,
                                      const RgbView<float>& output, const Geometry& g,
                                      int y) const {
  const int s = plan_.block;
  const float* values = ring_row(g.layers - 1, y) - g.column_origin;
  std::vector<int> channels(3 * s);
  std::vector<const float*> sources(3 * s);
  for (int dy = 0; dy < s; ++dy) {
    for (int dx = 0; dx < s; ++dx) {
      for (int c = 0; c < 3; ++c) {
        channels[dx * 3 + c] = d2s_channel(plan_.order, 3, s, c, dy, dx);
        sources[dx * 3 + c] = values + channels[dx * 3 + c] * stride_;
      }
    }
    const int out_y = y * s + dy;
    for (int x = g.region.col_begin; x < g.region.col_end; ++x) {
      for (int dx = 0; dx < s; ++dx) {
        for (int c = 0; c < 3; ++c) {
          float v = sources[dx * 3 + c][x];
          if (plan_.anchor) {
            v += anchor_value(*plan_.anchor, input, g.net_width, g.net_height, channels[dx * 3 + c],
                              y, x);
          }
          output.at(out_y, x * s + dx, c) = clip01(v);
        }
      }
    }
  }
}

// x1.5: rows y-1 and y of the features form one space-to-depth row; Conv1x1(4f -> 27), clip,
// depth-to-space(3), cropped to the output size.
void BandRunner::finish_half_scale(const RgbView<const float>& input, const RgbView<float>& output,
                                   const Geometry& g, int y) const {
  constexpr int kOut = PackedTail1x1::kPaddedOutputs;
  const int features = plan_.features;
  const int half_y = y / 2;
  const float* rows[2] = {ring_row(g.layers - 1, y - 1) - g.column_origin,
                          ring_row(g.layers - 1, y) - g.column_origin};
  for (int half_x = g.region.col_begin / 2; half_x < g.region.col_end / 2; ++half_x) {
    float t[kOut];
    std::copy(plan_.tail.bias.begin(), plan_.tail.bias.end(), t);
    for (int c = 0; c < features; ++c) {
      for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) {
          const float v = rows[dy][c * stride_ + 2 * half_x + dx];
          const float* w =
              plan_.tail.weights.data() + d2s_channel(plan_.order, features, 2, c, dy, dx) * kOut;
          for (int o = 0; o < kOut; ++o) t[o] += v * w[o];
        }
      }
    }
    if (plan_.anchor) {
      for (int o = 0; o < PackedTail1x1::kOutputs; ++o) {
        t[o] += anchor_value(*plan_.anchor, input, g.net_width, g.net_height, o, half_y, half_x);
      }
    }
    for (int dy = 0; dy < 3; ++dy) {
      const int out_y = 3 * half_y + dy;
      if (out_y >= output.height) break;
      for (int dx = 0; dx < 3; ++dx) {
        const int out_x = 3 * half_x + dx;
        if (out_x >= output.width) break;
        for (int c = 0; c < 3; ++c) {
          output.at(out_y, out_x, c) = clip01(t[d2s_channel(plan_.order, 3, 3, c, dy, dx)]);
        }
      }
    }
  }
}

// Step s computes row s + halo(layer) of every layer, so each layer's three-row ring holds the
// rows the next layer reads at that step; the band's first steps fill the halo.
void BandRunner::run(const RgbView<const float>& input, const RgbView<float>& output,
                     const Region& region) {
  Geometry g{};
  g.region = region;
  g.net_width = plan_.net_size(input.width);
  g.net_height = plan_.net_size(input.height);
  g.column_origin = region.col_begin - left_margin_;
  g.layers = plan_.conv_count();
  for (int step = region.row_begin - 2 * g.halo(-1); step < region.row_end; ++step) {
    for (int layer = -1; layer < g.layers; ++layer) {
      const int y = step + g.halo(layer);
      if (step < region.row_begin - 2 * g.halo(layer) || y < 0 || y >= g.net_height) continue;
      if (layer < 0) {
        load_input_row(input, g, y);
      } else {
        compute_conv_row(g, layer, y);
      }
    }
    if (step < region.row_begin) continue;
    if (!plan_.half_scale) {
      finish_integer_scale(input, output, g, step);
    } else if (step % 2 == 1) {
      finish_half_scale(input, output, g, step);
    }
  }
}

}  // namespace quicksr::engine
