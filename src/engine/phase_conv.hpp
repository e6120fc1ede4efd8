#pragma once
// A transposed conv of stride s whose output is exactly s times its input (FSRCNN's upscaling
// deconv) as a "same" conv to s^2 phases per output channel, channel (c * s + py) * s + px for
// output pixel (Y * s + py, X * s + px), so depth-to-space (CRD order) gives the output. Output row
// Y * s + py takes input row Y + d through kernel row py + pad_top - d * s, so phase (py, px)'s
// kernel tap (d, e) is that weight. The same sums as the transposed conv: taps outside the image
// read the padding value (0 in a float sum; the zero point, 0 in an INT8 sum), where the
// transposed conv has no term. Shared by the fp32 and INT8 graph paths (Conv2d and QConv2d).
#include <algorithm>
#include <cstdlib>
#include <optional>

namespace quicksr::engine {

// Nothing when the conv does not fit: another output size, groups, or a phase kernel above
// `max_kernel`.
template <typename Conv>
std::optional<Conv> as_phase_conv(const Conv& deconv, int s, int max_kernel) {
  const int k = deconv.kernel_h;
  if (!deconv.transposed || deconv.stride != s || deconv.groups != 1 || deconv.kernel_w != k ||
      deconv.pad_top != deconv.pad_left || deconv.pad_bottom != deconv.pad_right ||
      deconv.output_padding != s + deconv.pad_top + deconv.pad_bottom - k) {
    return std::nullopt;
  }
  const int pad = deconv.pad_top;
  // The largest |d| any phase reads: its kernel is (2 r + 1) square, padded by r.
  int r = 0;
  for (int p = 0; p < s; ++p) {
    for (int d = -(k + s); d <= k + s; ++d) {
      const int tap = p + pad - d * s;
      if (tap >= 0 && tap < k) r = std::max(r, std::abs(d));
    }
  }
  if (2 * r + 1 > max_kernel) return std::nullopt;
  const int size = 2 * r + 1;
  const int colours = deconv.out_channels;
  Conv conv;
  conv.in_channels = deconv.in_channels;
  conv.out_channels = colours * s * s;
  conv.kernel_h = conv.kernel_w = size;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = r;
  conv.weight.assign(static_cast<std::size_t>(conv.out_channels) * conv.in_channels * size * size,
                     0);
  for (int c = 0; c < colours; ++c) {
    for (int phase = 0; phase < s * s; ++phase) {
      const int o = c * s * s + phase;
      if (!deconv.bias.empty()) conv.bias.push_back(deconv.bias[c]);
      if constexpr (requires { deconv.weight_scale; }) {
        if (deconv.per_channel()) conv.weight_scale.push_back(deconv.weight_scale[c]);
      }
      for (int i = 0; i < conv.in_channels; ++i) {
        for (int d = -r; d <= r; ++d) {
          for (int e = -r; e <= r; ++e) {
            const int ky = phase / s + pad - d * s;
            const int kx = phase % s + pad - e * s;
            if (ky < 0 || ky >= k || kx < 0 || kx >= k) continue;
            // IOHW: [in][out][ky][kx].
            conv.weight[((static_cast<std::size_t>(o) * conv.in_channels + i) * size + d + r) *
                            size +
                        e + r] =
                deconv.weight[((static_cast<std::size_t>(i) * colours + c) * k + ky) * k + kx];
          }
        }
      }
    }
  }
  if constexpr (requires { deconv.weight_scale; }) {
    if (!deconv.per_channel()) conv.weight_scale = deconv.weight_scale;
  }
  return conv;
}

}  // namespace quicksr::engine
