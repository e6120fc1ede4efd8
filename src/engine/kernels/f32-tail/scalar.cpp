// Portable tail kernels: the last conv's output rows (+ anchor) to clipped output pixels by
// depth-to-space; for x1.5 through space-to-depth and the 1x1 conv first. Under 2 % of a frame.
// Float or 8-bit views: an 8-bit output is the float one rounded (unit_to_sample), so that a
// frame buffer needs no float copy of itself.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common/samples.hpp"
#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

// clamp_unit(v) stored in the output's sample type.
template <typename Sample>
void put(Sample& out, float v) {
  store_unit(out, clamp_unit(v));
}

// put(out[i * step], values[i]) for i in [0, count). 8-bit samples are clamped, rounded and
// stored in chunks, in three loops of which the first two vectorise: as one loop, GCC 12 turned
// the clamps into branches and the tail took a fifth of a 960x540 frame. Restrict: a byte store
// may alias anything.
template <typename Sample>
void store_clipped(const float* __restrict values, Sample* __restrict out, std::ptrdiff_t step,
                   int count) {
  if constexpr (std::is_same_v<Sample, float>) {
    for (int i = 0; i < count; ++i) out[i * step] = clamp_unit(values[i]);
  } else {
    constexpr int kChunk = 256;
    float clipped[kChunk];
    Sample rounded[kChunk];
    for (int begin = 0; begin < count; begin += kChunk) {
      const int n = std::min(kChunk, count - begin);
      for (int i = 0; i < n; ++i) clipped[i] = clamp_unit(values[begin + i]);
      for (int i = 0; i < n; ++i)
        rounded[i] = static_cast<Sample>(round_to_sample(clipped[i], 255));
      for (int i = 0; i < n; ++i) out[(begin + i) * step] = rounded[i];
    }
  }
}

// The anchor conv's output o at (y, x) over the zero-padded network input.
template <typename Sample>
float anchor_value(const Conv2d& anchor, const RgbView<const Sample>& input, int net_width,
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
               unit_of(input.at(std::min(iy, input.height - 1), std::min(ix, input.width - 1), c));
      }
    }
  }
  return sum;
}

bool is_pointwise(const Conv2d& conv) {
  return conv.kernel_h == 1 && conv.kernel_w == 1 && conv.stride == 1 && conv.pad_top == 0 &&
         conv.pad_left == 0;
}

// Output channel `channel` of row a.y plus a 1x1 stride-1 anchor (integer scales: Large's, ABPN's
// repeated input), clipped: anchor_value()'s sums in the same order without its padding tests,
// in chunks of columns so that the inner loops stay simple.
template <typename Sample>
void store_with_pointwise_anchor(const F32DepthToSpaceArgs<Sample>& a, int channel,
                                 const float* source, Sample* out, std::ptrdiff_t step) {
  constexpr int kChunk = 256;
  float sums[kChunk];
  const Conv2d& anchor = *a.anchor;
  const int iy = std::min(a.y, a.input.height - 1);
  for (int begin = a.col_begin; begin < a.col_end; begin += kChunk) {
    const int end = std::min(a.col_end, begin + kChunk);
    for (int x = begin; x < end; ++x) {
      float sum = anchor.bias.empty() ? 0.0f : anchor.bias[channel];
      for (int c = 0; c < anchor.in_channels; ++c) {
        sum +=
            anchor.w(channel, c, 0, 0) * unit_of(a.input.at(iy, std::min(x, a.input.width - 1), c));
      }
      sums[x - begin] = source[x] + sum;
    }
    store_clipped(sums, out + begin * step, step, end - begin);
  }
}

// One output sub-pixel (dy, dx, colour) at a time: a tight strided copy with a branch-free clamp.
template <typename Sample>
void depth_to_space_scalar(const F32DepthToSpaceArgs<Sample>& a) {
  const int s = a.block;
  const std::ptrdiff_t step = s * a.output.pixel_step;
  for (int dy = 0; dy < s; ++dy) {
    for (int dx = 0; dx < s; ++dx) {
      for (int c = 0; c < 3; ++c) {
        const int channel = d2s_channel(a.order, 3, s, c, dy, dx);
        const float* source = a.values + channel * a.stride;
        Sample* out = &a.output.at(a.y * s + dy, dx, c);
        if (a.anchor && is_pointwise(*a.anchor)) {
          store_with_pointwise_anchor(a, channel, source, out, step);
        } else if (a.anchor) {
          for (int x = a.col_begin; x < a.col_end; ++x) {
            put(out[x * step], source[x] + anchor_value(*a.anchor, a.input, a.net_width,
                                                        a.net_height, channel, a.y, x));
          }
        } else {
          store_clipped(source + a.col_begin, out + a.col_begin * step, step,
                        a.col_end - a.col_begin);
        }
      }
    }
  }
}

template <typename Sample>
void half_scale_tail_scalar(const F32HalfScaleTailArgs<Sample>& a) {
  constexpr int kOut = kHalfScalePaddedOutputs;
  const int half_y = a.y / 2;
  for (int half_x = a.col_begin / 2; half_x < a.col_end / 2; ++half_x) {
    float t[kOut];
    std::copy(a.bias, a.bias + kOut, t);
    for (int c = 0; c < a.features; ++c) {
      for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) {
          const float v = a.rows[dy][c * a.stride + 2 * half_x + dx];
          const float* w = a.weights + d2s_channel(a.order, a.features, 2, c, dy, dx) * kOut;
          for (int o = 0; o < kOut; ++o) t[o] += v * w[o];
        }
      }
    }
    if (a.anchor) {
      for (int o = 0; o < kHalfScaleOutputs; ++o) {
        t[o] += anchor_value(*a.anchor, a.input, a.net_width, a.net_height, o, half_y, half_x);
      }
    }
    for (int dy = 0; dy < 3; ++dy) {
      const int out_y = 3 * half_y + dy;
      if (out_y >= a.output.height) break;
      for (int dx = 0; dx < 3; ++dx) {
        const int out_x = 3 * half_x + dx;
        if (out_x >= a.output.width) break;
        for (int c = 0; c < 3; ++c) {
          put(a.output.at(out_y, out_x, c), t[d2s_channel(a.order, 3, 3, c, dy, dx)]);
        }
      }
    }
  }
}

}  // namespace

const F32TailConfig f32_tail_scalar_config{
    "f32-tail/scalar",
    Isa::kScalar,
    {depth_to_space_scalar<float>, half_scale_tail_scalar<float>},
    {depth_to_space_scalar<std::uint8_t>, half_scale_tail_scalar<std::uint8_t>}};

}  // namespace quicksr::engine
