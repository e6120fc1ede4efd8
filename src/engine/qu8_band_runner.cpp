#include "engine/qu8_band_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "engine/qu8_values.hpp"

namespace quicksr::engine {

namespace {

int left_margin_for(const QU8Plan& plan) {
  return round_up(plan.conv_count(), kQu8ColumnBlock) + kQu8ColumnBlock;
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
  for (const QU8PackedConv& conv : plan.convs) {
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
  if (plan.convs.front().im2col) {
    im2col = total;
    total += kQu8Im2colGroups * group_bytes;
  }
  const QU8PackedConv* last = plan.tail ? &*plan.tail : &plan.convs.back();
  raw = total;
  if (last->raw) total += last->padded_out_channels * stride * sizeof(std::int32_t);
  if (plan.tail) {
    s2d = total;
    total += plan.tail->in_groups * group_bytes;
    tail = total;
    total += plan.tail->padded_out_channels / kQu8Group * group_bytes;
  }
}

std::size_t QU8BandRunner::workspace_bytes(const QU8Plan& plan, int max_strip_width) {
  return Layout(plan, max_strip_width).total;
}

QU8BandRunner::QU8BandRunner(const QU8Plan& plan, const QU8Conv3x3Config& kernel,
                             const QU8Im2colConfig& im2col,
                             const QU8DepthToSpaceConfig& depth_to_space,
                             const QU8InputRowConfig& input_row, int max_strip_width)
    : plan_(plan),
      kernel_(kernel),
      im2col_(im2col),
      depth_to_space_(depth_to_space),
      input_row_(input_row),
      layout_(plan, max_strip_width),
      left_margin_(left_margin_for(plan)),
      buffer_(layout_.total) {
  for (std::size_t layer = 0; layer < plan.convs.size(); ++layer) {
    std::memset(buffer_.get() + layout_.pad_rows[layer], plan.convs[layer].pad_value,
                layout_.ring_row_bytes[layer]);
  }
  for (int four_bytes = 0; four_bytes < 2 && !plan.half_scale; ++four_bytes) {
    for (const int blue_first : {0, 1}) {
      depth_to_space_channels_[four_bytes][blue_first] =
          d2s_byte_map(plan.order, plan.block, 3 + four_bytes, blue_first != 0);
    }
  }
}

namespace {

// Where the kernels take 8-bit pixels: 3 or 4 bytes each, red or blue first.
struct BytePixels {
  int bytes = 0;  // 0: a layout the kernels do not take
  bool blue_first = false;
};

BytePixels byte_pixels(std::ptrdiff_t pixel_step, std::ptrdiff_t channel_step) {
  if ((pixel_step != 3 && pixel_step != 4) || (channel_step != 1 && channel_step != -1)) return {};
  return {static_cast<int>(pixel_step), channel_step == -1};
}

// The first byte of the pixel whose red sample is at `red`.
template <typename Byte>
Byte* pixel_start(Byte* red, const BytePixels& pixels) {
  return red - (pixels.blue_first ? 2 : 0);
}

}  // namespace

std::uint8_t* QU8BandRunner::ring_row(int layer, int y) const {
  return buffer_.get() + layout_.ring_offsets[layer + 1] +
         ring_slot(y) * layout_.ring_row_bytes[layer + 1];
}

// Rows outside the image are padding: the next conv's input zero point.
const std::uint8_t* QU8BandRunner::conv_input_row(int layer, int y, int net_height) const {
  if (y < 0 || y >= net_height) return buffer_.get() + layout_.pad_rows[layer + 1];
  return ring_row(layer, y);
}

void QU8BandRunner::pad_columns(std::uint8_t* row, int groups, int begin, int end,
                                std::uint8_t value) const {
  if (begin >= end) return;
  for (int group = 0; group < groups; ++group) {
    std::memset(row + (static_cast<std::size_t>(group) * layout_.stride + begin) * kQu8Group, value,
                static_cast<std::size_t>(end - begin) * kQu8Group);
  }
}

// Buffer columns [0, image_begin) and [image_end, stride) lie outside the image.
void QU8BandRunner::pad_outside_image(const Geometry& g, std::uint8_t* row, int groups,
                                      std::uint8_t value, int begin, int end) const {
  const int stride = static_cast<int>(layout_.stride);
  const int image_begin = std::clamp(-g.column_origin, 0, stride);
  const int image_end = std::clamp(g.net_width - g.column_origin, 0, stride);
  pad_columns(row, groups, begin, std::min(end, image_begin), value);
  pad_columns(row, groups, std::max(begin, image_end), end, value);
}

// The padding columns of every ring row a conv reads, once per strip geometry: later rows keep
// it, as neither the input rows nor the kernels write there, except where a kernel rounds its
// columns out past the image (compute_conv_row pads those again).
void QU8BandRunner::pad_rings(const Geometry& g) {
  if (padded_for_ == std::pair{g.column_origin, g.net_width}) return;
  const int stride = static_cast<int>(layout_.stride);
  for (int layer = -1; layer + 1 < g.layers; ++layer) {
    const int groups =
        static_cast<int>(layout_.ring_row_bytes[layer + 1] / kQu8Group / layout_.stride);
    for (int slot = 0; slot < 3; ++slot) {
      pad_outside_image(g, ring_row(layer, slot), groups, plan_.convs[layer + 1].pad_value, 0,
                        stride);
    }
  }
  padded_for_ = {g.column_origin, g.net_width};
}

template <typename In>
void QU8BandRunner::load_input_row(const RgbView<const In>& input, const Geometry& g, int y) {
  std::uint8_t* row = ring_row(-1, y) - g.column_origin * kQu8Group;
  const int source_y = std::min(y, input.height - 1);
  const int end = g.needed_end(-1) + g.column_origin;
  int x = g.needed_begin(-1) + g.column_origin;
  if constexpr (std::is_same_v<In, std::uint8_t>) {
    const BytePixels pixels = byte_pixels(input.pixel_step, input.channel_step);
    if (pixels.bytes != 0) {
      // 8-bit interleaved pixels: the input-row kernel (columns past the image in the loop below).
      const int copy_end = std::min(end, input.width);
      if (x < copy_end) {
        input_row_.run({pixel_start(&input.at(source_y, x, 0), pixels), copy_end - x,
                        row + x * kQu8Group, pixels.bytes, pixels.blue_first});
        x = copy_end;
      }
    }
  }
  for (; x < end; ++x) {
    const int source_x = std::min(x, input.width - 1);
    // R, G, B, R, as the input-row kernels write them (qu8_kernels.hpp).
    for (int c = 0; c < kQu8Group; ++c) {
      row[x * kQu8Group + c] = to_u8(input.at(source_y, source_x, c % 3));
    }
  }
}

void QU8BandRunner::run_conv(const QU8PackedConv& conv, QU8Conv3x3Fn kernel,
                             const std::uint8_t* const* rows, std::uint8_t* out, int col_begin,
                             int col_end) const {
  run_qu8_conv(conv, kernel, rows, layout_.stride, out,
               reinterpret_cast<std::int32_t*>(buffer_.get() + layout_.raw),
               round_down(col_begin, kQu8ColumnBlock), round_up(col_end, kQu8ColumnBlock));
}

void QU8BandRunner::compute_conv_row(const Geometry& g, int layer, int y) {
  const QU8PackedConv& conv = plan_.convs[layer];
  const std::uint8_t* rows[3];
  for (int k = 0; k < 3; ++k) rows[k] = conv_input_row(layer - 1, y - 1 + k, g.net_height);
  std::uint8_t* out = ring_row(layer, y);
  const int begin = round_down(g.needed_begin(layer), kQu8ColumnBlock);
  const int end = round_up(g.needed_end(layer), kQu8ColumnBlock);
  if (conv.im2col) {
    std::uint8_t* columns = buffer_.get() + layout_.im2col;
    im2col_.run({{rows[0], rows[1], rows[2]}, columns, layout_.stride, begin, end - begin});
    const std::uint8_t* column_rows[3] = {columns, columns, columns};
    run_conv(conv, kernel_.run_1x1, column_rows, out, begin, end);
  } else {
    run_conv(conv, kernel_.run, rows, out, begin, end);
  }
  if (layer + 1 < g.layers) {
    pad_outside_image(g, out, conv.padded_out_channels / kQu8Group,
                      plan_.convs[layer + 1].pad_value, begin, end);
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
  if (plan_.repeated_input_add) add_repeated_input(input, g, y);
  if constexpr (std::is_same_v<Out, std::uint8_t>) {
    const BytePixels pixels = byte_pixels(output.pixel_step, output.channel_step);
    if (!plan_.anchor && pixels.bytes != 0 && s <= kQu8MaxDepthToSpaceScale) {
      QU8DepthToSpaceArgs args{};
      args.in = ring_row(g.layers - 1, y) + (g.region.col_begin - g.column_origin) * kQu8Group;
      args.in_stride = stride;
      args.pixels = g.region.col_end - g.region.col_begin;
      args.scale = s;
      args.channels = depth_to_space_channels_[pixels.bytes - 3][pixels.blue_first].data();
      args.out = pixel_start(&output.at(y * s, g.region.col_begin * s, 0), pixels);
      args.out_row_step = output.row_step;
      args.pixel_bytes = pixels.bytes;
      depth_to_space_.run(args);
      return;
    }
  }
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

// An INT8 graph's residual (QU8RepeatedInputAdd): row y of the last conv's u8 output, region
// columns, becomes the sum with the input colour each channel repeats, in place.
template <typename In>
void QU8BandRunner::add_repeated_input(const RgbView<const In>& input, const Geometry& g,
                                       int y) const {
  const std::uint8_t* sum = plan_.repeated_input_add->sum.data();
  std::uint8_t* row = ring_row(g.layers - 1, y);
  const int channels = plan_.convs.back().out_channels;
  for (int x = g.region.col_begin; x < g.region.col_end; ++x) {
    const std::uint8_t rgb[3] = {to_u8(input.at(y, x, 0)), to_u8(input.at(y, x, 1)),
                                 to_u8(input.at(y, x, 2))};
    const std::size_t column = static_cast<std::size_t>(x - g.column_origin);
    for (int o = 0; o < channels; ++o) {
      std::uint8_t& q = row[(o / kQu8Group * layout_.stride + column) * kQu8Group + o % kQu8Group];
      q = sum[q << 8 | rgb[o % 3]];
    }
  }
}

// x1.5: rows y-1 and y of the features form one space-to-depth row (half columns, 4f channels);
// the tail kernel's Conv1x1(4f -> 27) with requantisation (or the raw sums plus the stride-2
// anchor), then depth-to-space(3), cropped to the output size.
template <typename In, typename Out>
void QU8BandRunner::finish_half_scale(const RgbView<const In>& input, const RgbView<Out>& output,
                                      const Geometry& g, int y) const {
  const QU8PackedConv& tail = *plan_.tail;
  const int features = plan_.features;
  const int half_y = y / 2;
  const std::size_t stride = layout_.stride;
  // Half column hx sits at buffer column hx - half_origin of the space-to-depth and tail rows.
  const int half_origin = g.column_origin / 2;  // column_origin is even
  const int half_begin = g.region.col_begin / 2;
  const int half_end = g.region.col_end / 2;
  const std::uint8_t* rows[2] = {ring_row(g.layers - 1, y - 1), ring_row(g.layers - 1, y)};
  std::uint8_t* s2d = buffer_.get() + layout_.s2d;
  for (int c = 0; c < features; ++c) {
    for (int dy = 0; dy < 2; ++dy) {
      const std::uint8_t* source = rows[dy] + (c / kQu8Group * stride) * kQu8Group + c % kQu8Group;
      for (int dx = 0; dx < 2; ++dx) {
        const int channel = d2s_channel(plan_.order, features, 2, c, dy, dx);
        // From column half_begin on: a pointer at column 0 would lie before the buffer (UB).
        std::uint8_t* target =
            s2d + (channel / kQu8Group * stride + (half_begin - half_origin)) * kQu8Group +
            channel % kQu8Group;
        for (int hx = half_begin; hx < half_end; ++hx) {
          target[(hx - half_begin) * kQu8Group] =
              source[(2 * hx + dx - g.column_origin) * kQu8Group];
        }
      }
    }
  }
  const std::uint8_t* tail_rows[3] = {s2d, s2d, s2d};
  std::uint8_t* q = buffer_.get() + layout_.tail;
  run_conv(tail, kernel_.run_1x1, tail_rows, q, half_begin - half_origin, half_end - half_origin);
  const auto* sums = reinterpret_cast<const std::int32_t*>(buffer_.get() + layout_.raw);
  for (int hx = half_begin; hx < half_end; ++hx) {
    const int column = hx - half_origin;
    for (int dy = 0; dy < 3; ++dy) {
      const int out_y = 3 * half_y + dy;
      if (out_y >= output.height) break;
      for (int dx = 0; dx < 3; ++dx) {
        const int out_x = 3 * hx + dx;
        if (out_x >= output.width) break;
        for (int c = 0; c < 3; ++c) {
          const int o = d2s_channel(plan_.order, 3, 3, c, dy, dx);
          std::uint8_t value = q[(o / kQu8Group * stride + column) * kQu8Group + o % kQu8Group];
          if (plan_.anchor) {
            const std::int32_t anchor =
                plain_conv_sum(*plan_.anchor, input, g.net_width, g.net_height, o, half_y, hx);
            value = quant::requantize_sum(sums[o * stride + column], tail.multipliers[o], anchor,
                                          plan_.anchor->multipliers[o], plan_.output.zero_point,
                                          plan_.output_bounds);
          }
          store(output.at(out_y, out_x, c), value, plan_.output);
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
  pad_rings(g);
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
