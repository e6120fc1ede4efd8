// Portable tail kernels: the last conv's output rows (+ anchor) to clipped output pixels by
// depth-to-space; for x1.5 through space-to-depth and the 1x1 conv first. Under 2 % of a frame.
#include <algorithm>

#include "engine/kernels/kernels.hpp"

namespace quicksr::engine {

namespace {

// Compiles to maxss/minss (no data-dependent branches).
float clip01(float v) {
  const float positive = v > 0.0f ? v : 0.0f;
  return positive < 1.0f ? positive : 1.0f;
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

bool is_pointwise(const Conv2d& conv) {
  return conv.kernel_h == 1 && conv.kernel_w == 1 && conv.stride == 1 && conv.pad_top == 0 &&
         conv.pad_left == 0;
}

// Output channel `channel` of row a.y plus a 1x1 stride-1 anchor (integer scales: Large's, ABPN's
// repeated input), clipped: anchor_value()'s sums in the same order without its padding tests,
// in chunks of columns so that the inner loops stay simple.
void store_with_pointwise_anchor(const F32DepthToSpaceArgs& a, int channel, const float* source,
                                 float* out, std::ptrdiff_t step) {
  constexpr int kChunk = 256;
  float sums[kChunk];
  const Conv2d& anchor = *a.anchor;
  const int iy = std::min(a.y, a.input.height - 1);
  for (int begin = a.col_begin; begin < a.col_end; begin += kChunk) {
    const int end = std::min(a.col_end, begin + kChunk);
    for (int x = begin; x < end; ++x) {
      float sum = anchor.bias.empty() ? 0.0f : anchor.bias[channel];
      for (int c = 0; c < anchor.in_channels; ++c) {
        sum += anchor.w(channel, c, 0, 0) * a.input.at(iy, std::min(x, a.input.width - 1), c);
      }
      sums[x - begin] = sum;
    }
    for (int x = begin; x < end; ++x) out[x * step] = clip01(source[x] + sums[x - begin]);
  }
}

// One output sub-pixel (dy, dx, colour) at a time: a tight strided copy with a branch-free clamp.
void depth_to_space_scalar(const F32DepthToSpaceArgs& a) {
  const int s = a.block;
  const std::ptrdiff_t step = s * a.output.pixel_step;
  for (int dy = 0; dy < s; ++dy) {
    for (int dx = 0; dx < s; ++dx) {
      for (int c = 0; c < 3; ++c) {
        const int channel = d2s_channel(a.order, 3, s, c, dy, dx);
        const float* source = a.values + channel * a.stride;
        float* out = &a.output.at(a.y * s + dy, dx, c);
        if (a.anchor && is_pointwise(*a.anchor)) {
          store_with_pointwise_anchor(a, channel, source, out, step);
        } else if (a.anchor) {
          for (int x = a.col_begin; x < a.col_end; ++x) {
            out[x * step] = clip01(source[x] + anchor_value(*a.anchor, a.input, a.net_width,
                                                            a.net_height, channel, a.y, x));
          }
        } else {
          for (int x = a.col_begin; x < a.col_end; ++x) out[x * step] = clip01(source[x]);
        }
      }
    }
  }
}

void half_scale_tail_scalar(const F32HalfScaleTailArgs& a) {
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
          a.output.at(out_y, out_x, c) = clip01(t[d2s_channel(a.order, 3, 3, c, dy, dx)]);
        }
      }
    }
  }
}

}  // namespace

const F32TailConfig f32_tail_scalar_config{"f32-tail/scalar", Isa::kScalar, depth_to_space_scalar,
                                           half_scale_tail_scalar};

}  // namespace quicksr::engine
