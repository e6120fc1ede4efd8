// The integer reference runtime: docs/quantization.md as plain loops over u8 and s32. It is the
// oracle of the INT8 engine, so it favours being obviously right over speed.
#include <algorithm>
#include <cmath>
#include <string>

#include "model/reshuffle.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::quant {

namespace {

std::string shape_text(const U8Tensor& x) {
  return std::to_string(x.channels) + "x" + std::to_string(x.height) + "x" +
         std::to_string(x.width);
}

std::vector<float> multipliers(const QConv2d& conv, float input_scale, float output_scale) {
  std::vector<float> m;
  for (int o = 0; o < conv.out_channels; ++o) {
    m.push_back(requant_multiplier(input_scale, conv.scale_of(o), output_scale));
  }
  return m;
}

// Conv + activation (or the final clip without anchor): requantize every accumulator to
// `output`, clamped to `bounds`.
U8Tensor conv_clamped(const U8Tensor& input, const ActivationEncoding& input_encoding,
                      const QConv2d& conv, const ActivationEncoding& output, ClampBounds bounds) {
  const S32Tensor acc = accumulate(input, input_encoding.zero_point, conv);
  const std::vector<float> m = multipliers(conv, input_encoding.scale, output.scale);
  U8Tensor result(acc.channels, acc.height, acc.width);
  const std::size_t plane = static_cast<std::size_t>(acc.height) * acc.width;
  for (std::size_t i = 0; i < acc.data.size(); ++i) {
    result.data[i] = requantize(acc.data[i], m[i / plane], output.zero_point, bounds);
  }
  return result;
}

// The last conv and the anchor conv requantized together into the output encoding.
U8Tensor anchor_sum(const U8Tensor& features, const U8Tensor& image,
                    const QuantizedQuickSRNet& net) {
  const QConv2d& anchor = net.anchor.front();
  const S32Tensor acc_last = accumulate(features, net.features.back().zero_point, net.last);
  const S32Tensor acc_anchor = accumulate(image, net.input.zero_point, anchor);
  if (acc_anchor.height != acc_last.height || acc_anchor.width != acc_last.width) {
    throw Error("INT8 anchor output " + std::to_string(acc_anchor.height) + "x" +
                std::to_string(acc_anchor.width) + " does not match the last conv's");
  }
  const std::vector<float> m_last =
      multipliers(net.last, net.features.back().scale, net.output.scale);
  const std::vector<float> m_anchor = multipliers(anchor, net.input.scale, net.output.scale);
  const ClampBounds bounds = relu1_bounds(net.output);
  U8Tensor result(acc_last.channels, acc_last.height, acc_last.width);
  const std::size_t plane = static_cast<std::size_t>(acc_last.height) * acc_last.width;
  for (std::size_t i = 0; i < acc_last.data.size(); ++i) {
    const std::size_t o = i / plane;
    result.data[i] = requantize_sum(acc_last.data[i], m_last[o], acc_anchor.data[i], m_anchor[o],
                                    net.output.zero_point, bounds);
  }
  return result;
}

U8Tensor forward_even(const QuantizedQuickSRNet& net, const U8Tensor& image) {
  const Activation activation = net.config.activation;
  U8Tensor features = conv_clamped(image, net.input, net.first, net.features.front(),
                                   activation_bounds(net.features.front(), activation));
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    features = conv_clamped(features, net.features[i], net.body[i], net.features[i + 1],
                            activation_bounds(net.features[i + 1], activation));
  }
  const ChannelOrder order = net.config.order;
  const bool integer_scale = net.config.scale.is_integer();
  if (!integer_scale) features = space_to_depth_values(features, 2, order);
  const U8Tensor output = net.anchor.empty() ? conv_clamped(features, net.features.back(), net.last,
                                                            net.output, relu1_bounds(net.output))
                                             : anchor_sum(features, image, net);
  return depth_to_space_values(output, integer_scale ? net.config.scale.numerator : 3, order);
}

}  // namespace

S32Tensor accumulate(const U8Tensor& input, int input_zero_point, const QConv2d& conv) {
  if (input.channels != conv.in_channels || conv.stride < 1 ||
      input.height + conv.pad_top + conv.pad_bottom < conv.kernel_h ||
      input.width + conv.pad_left + conv.pad_right < conv.kernel_w) {
    throw Error("INT8 conv " + std::to_string(conv.in_channels) + "->" +
                std::to_string(conv.out_channels) + " cannot read a " + shape_text(input) +
                " input");
  }
  const int out_h =
      (input.height + conv.pad_top + conv.pad_bottom - conv.kernel_h) / conv.stride + 1;
  const int out_w =
      (input.width + conv.pad_left + conv.pad_right - conv.kernel_w) / conv.stride + 1;
  S32Tensor acc(conv.out_channels, out_h, out_w);
  // Per output plane: start at the bias, then every tap adds w * (x - zero point) over the outputs
  // whose input pixel is inside the image; taps in the padding are real 0 and add nothing.
  for (int o = 0; o < conv.out_channels; ++o) {
    std::int32_t* plane = &acc.at(o, 0, 0);
    std::fill_n(plane, static_cast<std::size_t>(out_h) * out_w,
                conv.bias[static_cast<std::size_t>(o)]);
    for (int i = 0; i < conv.in_channels; ++i) {
      for (int ky = 0; ky < conv.kernel_h; ++ky) {
        for (int kx = 0; kx < conv.kernel_w; ++kx) {
          const std::int32_t w = conv.w(o, i, ky, kx);
          const int offset = kx - conv.pad_left;
          // Outputs x in [x_begin, x_end) read input columns x * stride + offset inside the image.
          int x_begin = 0;
          while (x_begin < out_w && x_begin * conv.stride + offset < 0) ++x_begin;
          int x_end = out_w;
          while (x_end > x_begin && (x_end - 1) * conv.stride + offset >= input.width) --x_end;
          for (int y = 0; y < out_h; ++y) {
            const int iy = y * conv.stride + ky - conv.pad_top;
            if (iy < 0 || iy >= input.height) continue;
            const std::uint8_t* row =
                &input.data[(static_cast<std::size_t>(i) * input.height + iy) * input.width];
            std::int32_t* sum = plane + static_cast<std::size_t>(y) * out_w;
            if (conv.stride == 1) {
              for (int x = x_begin; x < x_end; ++x)
                sum[x] += w * (row[x + offset] - input_zero_point);
            } else {
              for (int x = x_begin; x < x_end; ++x) {
                sum[x] += w * (row[x * conv.stride + offset] - input_zero_point);
              }
            }
          }
        }
      }
    }
  }
  return acc;
}

U8Tensor forward(const QuantizedQuickSRNet& net, const U8Tensor& input) {
  net.check();
  if (input.channels != 3 || input.height < 1 || input.width < 1 ||
      input.data.size() != static_cast<std::size_t>(3) * input.height * input.width) {
    throw Error("INT8 QuickSRNet expects a 3xHxW input, got " + shape_text(input));
  }
  if (net.config.scale.is_integer()) return forward_even(net, input);
  const U8Tensor upscaled = forward_even(net, replicate_to_even(input));
  return crop_top_left(upscaled, input.height * 3 / 2, input.width * 3 / 2);
}

Tensor forward(const QuantizedQuickSRNet& net, const Tensor& rgb) {
  return dequantize(forward(net, to_u8(rgb)), net.output);
}

U8Tensor to_u8(const Tensor& rgb) {
  U8Tensor q(rgb.channels, rgb.height, rgb.width);
  for (std::size_t i = 0; i < rgb.data.size(); ++i) {
    const float x = rgb.data[i] > 0.0f ? std::min(rgb.data[i], 1.0f) : 0.0f;  // NaN -> 0
    q.data[i] = static_cast<std::uint8_t>(std::nearbyint(x * 255.0f));
  }
  return q;
}

Tensor dequantize(const U8Tensor& q, const ActivationEncoding& encoding) {
  Tensor x(q.channels, q.height, q.width);
  for (std::size_t i = 0; i < q.data.size(); ++i) x.data[i] = dequantize(q.data[i], encoding);
  return x;
}

}  // namespace quicksr::quant
