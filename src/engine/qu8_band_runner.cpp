#include "engine/qu8_band_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace quicksr::engine {

namespace {

int left_margin_for(const QU8Plan& plan) {
  return round_up(plan.conv_count(), kQu8ColumnBlock) + kQu8ColumnBlock;
}

// The network input as u8: the 8-bit image itself, or a float image rounded to 8 bits as
// quant::to_u8 does (clamped to [0, 1], NaN -> 0).
std::uint8_t to_u8(std::uint8_t v) { return v; }
std::uint8_t to_u8(float v) {
  const float x = v > 0.0f ? std::min(v, 1.0f) : 0.0f;
  return static_cast<std::uint8_t>(std::nearbyint(x * 255.0f));
}

// An output value: the u8 itself, or dequantized with the output encoding.
void store(std::uint8_t& out, std::uint8_t q, const ActivationEncoding&) { out = q; }
void store(float& out, std::uint8_t q, const ActivationEncoding& encoding) {
  out = quant::dequantize(q, encoding);
}

// The s32 sum of a plainly run conv (the anchor, or any conv without packing) at output (y, x):
// taps outside the network input are padding (contribute 0); odd x1.5 inputs are edge-replicated.
template <typename In>
std::int32_t plain_conv_sum(const QU8PlainConv& plain, const RgbView<const In>& input,
                            int net_width, int net_height, int o, int y, int x) {
  const QConv2d& conv = plain.conv;
  std::int32_t sum = conv.bias[o];
  for (int c = 0; c < conv.in_channels; ++c) {
    for (int ky = 0; ky < conv.kernel_h; ++ky) {
      const int iy = y * conv.stride + ky - conv.pad_top;
      if (iy < 0 || iy >= net_height) continue;
      for (int kx = 0; kx < conv.kernel_w; ++kx) {
        const int ix = x * conv.stride + kx - conv.pad_left;
        if (ix < 0 || ix >= net_width) continue;
        const int value =
            to_u8(input.at(std::min(iy, input.height - 1), std::min(ix, input.width - 1), c));
        sum += conv.weight[((static_cast<std::size_t>(o) * conv.in_channels + c) * conv.kernel_h +
                            ky) *
                               conv.kernel_w +
                           kx] *
               (value - plain.input_zero_point);
      }
    }
  }
  return sum;
}

}  // namespace

// Direct convs: one column of halo per later layer.
struct QU8BandRunner::Geometry : BandGeometry {};

QU8BandRunner::Layout::Layout(const QU8Plan& plan, int max_strip_width) {
  stride = static_cast<std::size_t>(
      round_up(left_margin_for(plan) + max_strip_width + plan.conv_count(), kQu8ColumnBlock) +
      kQu8ColumnBlock);
  const std::size_t group_bytes = stride * kQu8Group;
  ring_row_bytes.push_back(group_bytes);  // RGB + one unused channel
  for (const QU8PackedConv3x3& conv : plan.convs) {
    ring_row_bytes.push_back(conv.padded_out_channels / kQu8Group * group_bytes);
  }
  for (std::size_t bytes : ring_row_bytes) {
    ring_offsets.push_back(total);
    total += 3 * bytes;
  }
  for (std::size_t layer = 0; layer < plan.convs.size(); ++layer) {
    pad_rows.push_back(total);
    total += ring_row_bytes[layer];
  }
  raw = total;
  if (!plan.convs.empty() && plan.convs.back().raw) {
    total += plan.convs.back().padded_out_channels * stride * sizeof(std::int32_t);
  }
}

std::size_t QU8BandRunner::workspace_bytes(const QU8Plan& plan, int max_strip_width) {
  return Layout(plan, max_strip_width).total;
}

QU8BandRunner::QU8BandRunner(const QU8Plan& plan, QU8Conv3x3Fn conv, int max_strip_width)
    : plan_(plan),
      conv_(conv),
      layout_(plan, max_strip_width),
      left_margin_(left_margin_for(plan)),
      buffer_(layout_.total) {
  for (std::size_t layer = 0; layer < plan.convs.size(); ++layer) {
    std::memset(buffer_.get() + layout_.pad_rows[layer], plan.convs[layer].pad_value,
                layout_.ring_row_bytes[layer]);
  }
}

std::uint8_t* QU8BandRunner::ring_row(int layer, int y) const {
  return buffer_.get() + layout_.ring_offsets[layer + 1] +
         ring_slot(y) * layout_.ring_row_bytes[layer + 1];
}

// Rows outside the image are padding: the next conv's input zero point.
const std::uint8_t* QU8BandRunner::conv_input_row(int layer, int y, int net_height) const {
  if (y < 0 || y >= net_height) return buffer_.get() + layout_.pad_rows[layer + 1];
  return ring_row(layer, y);
}

void QU8BandRunner::pad_outside_image(const Geometry& g, std::uint8_t* row, int groups,
                                      std::uint8_t value) const {
  const int stride = static_cast<int>(layout_.stride);
  const int left_end = std::clamp(-g.column_origin, 0, stride);
  const int right_begin = std::clamp(g.net_width - g.column_origin, 0, stride);
  for (int group = 0; group < groups; ++group) {
    std::uint8_t* words = row + static_cast<std::size_t>(group) * stride * kQu8Group;
    std::memset(words, value, static_cast<std::size_t>(left_end) * kQu8Group);
    std::memset(words + right_begin * kQu8Group, value,
                static_cast<std::size_t>(stride - right_begin) * kQu8Group);
  }
}

template <typename In>
void QU8BandRunner::load_input_row(const RgbView<const In>& input, const Geometry& g, int y) {
  std::uint8_t* row = ring_row(-1, y) - g.column_origin * kQu8Group;
  const int source_y = std::min(y, input.height - 1);
  for (int x = g.needed_begin(-1) + g.column_origin; x < g.needed_end(-1) + g.column_origin; ++x) {
    const int source_x = std::min(x, input.width - 1);
    for (int c = 0; c < 3; ++c) row[x * kQu8Group + c] = to_u8(input.at(source_y, source_x, c));
  }
  pad_outside_image(g, ring_row(-1, y), 1, plan_.convs.front().pad_value);
}

void QU8BandRunner::compute_conv_row(const Geometry& g, int layer, int y) {
  const QU8PackedConv3x3& conv = plan_.convs[layer];
  QU8Conv3x3Args args{};
  for (int k = 0; k < 3; ++k) args.rows[k] = conv_input_row(layer - 1, y - 1 + k, g.net_height);
  args.in_stride = layout_.stride;
  args.in_groups = conv.in_groups;
  args.weights = conv.weights.data();
  args.bias = conv.bias.data();
  args.multipliers = conv.multipliers.data();
  args.out_channels = conv.padded_out_channels;
  args.out = ring_row(layer, y);
  args.raw_out = conv.raw ? reinterpret_cast<std::int32_t*>(buffer_.get() + layout_.raw) : nullptr;
  args.out_stride = layout_.stride;
  args.col_begin = round_down(g.needed_begin(layer), kQu8ColumnBlock);
  args.col_count = round_up(g.needed_end(layer), kQu8ColumnBlock) - args.col_begin;
  args.zero_point = conv.zero_point;
  args.clamp_min = static_cast<float>(conv.bounds.lo - conv.zero_point);
  args.clamp_max = static_cast<float>(conv.bounds.hi - conv.zero_point);
  conv_(args);
  if (layer + 1 < g.layers) {
    pad_outside_image(g, args.out, conv.padded_out_channels / kQu8Group,
                      plan_.convs[layer + 1].pad_value);
  }
}

// Integer scales: anchor sum and depth-to-space of one row of the last conv's output, one output
// sub-pixel (dy, dx, colour) at a time.
template <typename In, typename Out>
void QU8BandRunner::finish_integer_scale(const RgbView<const In>& input, const RgbView<Out>& output,
                                         const Geometry& g, int y) const {
  const int s = plan_.block;
  const std::ptrdiff_t step = s * output.pixel_step;
  const std::size_t stride = layout_.stride;
  for (int dy = 0; dy < s; ++dy) {
    for (int dx = 0; dx < s; ++dx) {
      for (int c = 0; c < 3; ++c) {
        const int channel = d2s_channel(plan_.order, 3, s, c, dy, dx);
        Out* out = &output.at(y * s + dy, dx, c);
        if (plan_.anchor) {
          const auto* sums = reinterpret_cast<const std::int32_t*>(buffer_.get() + layout_.raw) +
                             channel * stride - g.column_origin;
          const float m_last = plan_.convs.back().multipliers[channel];
          const float m_anchor = plan_.anchor->multipliers[channel];
          for (int x = g.region.col_begin; x < g.region.col_end; ++x) {
            const std::int32_t anchor =
                plain_conv_sum(*plan_.anchor, input, g.net_width, g.net_height, channel, y, x);
            store(out[x * step],
                  quant::requantize_sum(sums[x], m_last, anchor, m_anchor, plan_.output.zero_point,
                                        plan_.output_bounds),
                  plan_.output);
          }
        } else {
          const std::uint8_t* values =
              ring_row(g.layers - 1, y) +
              (channel / kQu8Group * stride - g.column_origin) * kQu8Group + channel % kQu8Group;
          for (int x = g.region.col_begin; x < g.region.col_end; ++x) {
            store(out[x * step], values[x * kQu8Group], plan_.output);
          }
        }
      }
    }
  }
}

// x1.5: rows y-1 and y of the features form one space-to-depth row; Conv1x1(4f -> 27) (plus
// the stride-2 anchor), requantisation, depth-to-space(3), cropped to the output size.
template <typename In, typename Out>
void QU8BandRunner::finish_half_scale(const RgbView<const In>& input, const RgbView<Out>& output,
                                      const Geometry& g, int y) const {
  const QU8PlainConv& tail = *plan_.tail;
  const int features = plan_.features;
  const int outputs = tail.conv.out_channels;
  const int half_y = y / 2;
  const std::size_t stride = layout_.stride;
  const std::uint8_t* rows[2] = {ring_row(g.layers - 1, y - 1), ring_row(g.layers - 1, y)};
  std::vector<int> inputs(tail.conv.in_channels);
  std::vector<std::uint8_t> q(outputs);
  for (int half_x = g.region.col_begin / 2; half_x < g.region.col_end / 2; ++half_x) {
    for (int c = 0; c < features; ++c) {
      for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) {
          const int x = 2 * half_x + dx - g.column_origin;
          inputs[d2s_channel(plan_.order, features, 2, c, dy, dx)] =
              rows[dy][(c / kQu8Group * stride + x) * kQu8Group + c % kQu8Group] -
              tail.input_zero_point;
        }
      }
    }
    for (int o = 0; o < outputs; ++o) {
      std::int32_t sum = tail.conv.bias[o];
      const std::int8_t* w = tail.conv.weight.data() + static_cast<std::size_t>(o) * inputs.size();
      for (std::size_t i = 0; i < inputs.size(); ++i) sum += w[i] * inputs[i];
      if (plan_.anchor) {
        const std::int32_t anchor =
            plain_conv_sum(*plan_.anchor, input, g.net_width, g.net_height, o, half_y, half_x);
        q[o] = quant::requantize_sum(sum, tail.multipliers[o], anchor, plan_.anchor->multipliers[o],
                                     plan_.output.zero_point, plan_.output_bounds);
      } else {
        q[o] = quant::requantize(sum, tail.multipliers[o], plan_.output.zero_point,
                                 plan_.output_bounds);
      }
    }
    for (int dy = 0; dy < 3; ++dy) {
      const int out_y = 3 * half_y + dy;
      if (out_y >= output.height) break;
      for (int dx = 0; dx < 3; ++dx) {
        const int out_x = 3 * half_x + dx;
        if (out_x >= output.width) break;
        for (int c = 0; c < 3; ++c) {
          store(output.at(out_y, out_x, c), q[d2s_channel(plan_.order, 3, 3, c, dy, dx)],
                plan_.output);
        }
      }
    }
  }
}

template <typename In, typename Out>
void QU8BandRunner::run(const RgbView<const In>& input, const RgbView<Out>& output,
                        const Region& region) {
  const Geometry g{{region, plan_.net_size(input.width), plan_.net_size(input.height),
                    region.col_begin - left_margin_, plan_.conv_count(), 1}};
  run_band(
      g, plan_.half_scale, [&](int y) { load_input_row(input, g, y); },
      [&](int layer, int y) { compute_conv_row(g, layer, y); },
      [&](int y) {
        if (plan_.half_scale) {
          finish_half_scale(input, output, g, y);
        } else {
          finish_integer_scale(input, output, g, y);
        }
      });
}

template void QU8BandRunner::run(const RgbView<const std::uint8_t>&, const RgbView<std::uint8_t>&,
                                 const Region&);
template void QU8BandRunner::run(const RgbView<const float>&, const RgbView<float>&, const Region&);

}  // namespace quicksr::engine
