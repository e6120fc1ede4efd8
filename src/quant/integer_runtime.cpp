// The integer reference runtime: docs/quantization.md as plain loops over u8 and s32. It is the
// oracle of the INT8 engine, so it favours being obviously right over speed.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "model/graph_check.hpp"
#include "model/layout.hpp"
#include "model/op_values.hpp"
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

// ---- INT8 graphs: one function per op, each with the rule of docs/quantization.md "General
// graphs". `values - zero_point` of a u8 tensor is its exact s32 "accumulator" in units of its
// scale, so the u8-to-u8 ops (add, concat, standalone activations) are requantisations too.

struct U8Operand {
  const U8Tensor& values;
  const ActivationEncoding& encoding;
};

void check_same_shape(const U8Tensor& a, const U8Tensor& b) {
  if (a.channels != b.channels || a.height != b.height || a.width != b.width) {
    throw Error("INT8 add of " + shape_text(a) + " and " + shape_text(b));
  }
}

U8Tensor add_requantized(const U8Operand& a, const U8Operand& b, const ActivationEncoding& output,
                         ClampBounds bounds) {
  check_same_shape(a.values, b.values);
  const float m_a = requant_multiplier(a.encoding.scale, 1.0f, output.scale);
  const float m_b = requant_multiplier(b.encoding.scale, 1.0f, output.scale);
  U8Tensor result(a.values.channels, a.values.height, a.values.width);
  for (std::size_t i = 0; i < result.data.size(); ++i) {
    result.data[i] =
        requantize_sum(a.values.data[i] - a.encoding.zero_point, m_a,
                       b.values.data[i] - b.encoding.zero_point, m_b, output.zero_point, bounds);
  }
  return result;
}

// Every value of `x` requantized to `output` (a standalone ReLU / Clip, or a concat input).
void requantize_values(const U8Operand& x, const ActivationEncoding& output, ClampBounds bounds,
                       std::uint8_t* result) {
  const float m = requant_multiplier(x.encoding.scale, 1.0f, output.scale);
  for (std::size_t i = 0; i < x.values.data.size(); ++i) {
    result[i] = requantize(x.values.data[i] - x.encoding.zero_point, m, output.zero_point, bounds);
  }
}

U8Tensor looked_up(const GraphNode& node, const U8Operand& x, const ActivationEncoding& output) {
  const std::array<std::uint8_t, 256> table = activation_table(node, x.encoding, output);
  U8Tensor result(x.values.channels, x.values.height, x.values.width);
  std::transform(x.values.data.begin(), x.values.data.end(), result.data.begin(),
                 [&](std::uint8_t q) { return table[q]; });
  return result;
}

U8Tensor concat_requantized(const std::vector<U8Operand>& parts, const ActivationEncoding& output) {
  int channels = 0;
  for (const U8Operand& part : parts) {
    if (part.values.height != parts.front().values.height ||
        part.values.width != parts.front().values.width) {
      throw Error("INT8 concat of " + shape_text(parts.front().values) + " and " +
                  shape_text(part.values));
    }
    channels += part.values.channels;
  }
  U8Tensor result(channels, parts.front().values.height, parts.front().values.width);
  std::uint8_t* next = result.data.data();
  for (const U8Operand& part : parts) {
    requantize_values(part, output, ClampBounds{0, 255}, next);
    next += part.values.data.size();
  }
  return result;
}

class GraphRun {
 public:
  explicit GraphRun(const QuantizedGraph& net) : net_(net), layout_(int8_layout(net.graph)) {}

  U8Tensor run(const U8Tensor& input) {
    tensors_.emplace(net_.graph.input, input);
    for (std::size_t i = 0; i < net_.graph.nodes.size(); ++i) {
      if (layout_.absorbed[i]) continue;  // computed by the conv or add it is fused into
      const GraphNode& node = net_.graph.nodes[i];
      const int fused = layout_.fused_activation[i];
      const GraphNode* activation = fused < 0 ? nullptr : &net_.graph.nodes[fused];
      const std::string& output = activation == nullptr ? node.output : activation->output;
      try {
        tensors_.insert_or_assign(output, run_node(node, activation, encoding(output)));
      } catch (const Error& error) {
        throw Error(net_.graph.architecture + " node \"" + node.name + "\": " + error.what());
      }
    }
    return std::move(tensors_.at(net_.graph.output));
  }

 private:
  const ActivationEncoding& encoding(const std::string& tensor) const {
    return net_.encodings[layout_.index.at(tensor)];
  }
  U8Operand operand(const std::string& tensor) const {
    const auto found = tensors_.find(tensor);
    if (found == tensors_.end()) throw Error("missing tensor \"" + tensor + "\"");
    return U8Operand{found->second, encoding(tensor)};
  }

  U8Tensor run_node(const GraphNode& node, const GraphNode* activation,
                    const ActivationEncoding& output) const {
    const ClampBounds bounds = fused_activation_bounds(activation, output);
    switch (node.op) {
      case OpType::kConv:
      case OpType::kConvTranspose: {
        const U8Operand x = operand(node.inputs.at(0));
        return conv_clamped(x.values, x.encoding,
                            net_.convs.at(static_cast<std::size_t>(node.conv)), output, bounds);
      }
      case OpType::kAdd:
        return add_requantized(operand(node.inputs.at(0)), operand(node.inputs.at(1)), output,
                               bounds);
      case OpType::kRelu:
      case OpType::kClip: {
        const U8Operand x = operand(node.inputs.at(0));
        U8Tensor result(x.values.channels, x.values.height, x.values.width);
        requantize_values(x, output, fused_activation_bounds(&node, output), result.data.data());
        return result;
      }
      case OpType::kLeakyRelu:
      case OpType::kSigmoid:
      case OpType::kTanh:
        return looked_up(node, operand(node.inputs.at(0)), output);
      case OpType::kMul: {
        const U8Operand a = operand(node.inputs.at(0));
        const U8Operand b = operand(node.inputs.at(1));
        return multiply(a.values, a.encoding, b.values, b.encoding, output);
      }
      case OpType::kMaxPool:
        return max_pool(operand(node.inputs.at(0)).values, node.pool);
      case OpType::kResizeBilinear: {
        const U8Tensor& size = operand(node.inputs.at(1)).values;
        return resize_bilinear(operand(node.inputs.at(0)).values, size.height, size.width);
      }
      case OpType::kConcat: {
        std::vector<U8Operand> parts;
        for (const std::string& name : node.inputs) parts.push_back(operand(name));
        return concat_requantized(parts, output);
      }
      case OpType::kDepthToSpace:
        return depth_to_space_values(operand(node.inputs.at(0)).values, node.block_size,
                                     node.order);
      case OpType::kSpaceToDepth:
        return space_to_depth_values(operand(node.inputs.at(0)).values, node.block_size,
                                     node.order);
      default:  // check() refused the graph already
        throw Error(std::string("INT8 graphs do not support op '") + graph_op_name(node.op) + "'");
    }
  }

  const QuantizedGraph& net_;
  const Int8GraphLayout layout_;
  std::map<std::string, U8Tensor> tensors_;
};

// The accumulators of `conv` for a height x width output, each plane starting at its bias.
S32Tensor bias_planes(const QConv2d& conv, int height, int width) {
  S32Tensor acc(conv.out_channels, height, width);
  for (int o = 0; o < conv.out_channels; ++o) {
    std::fill_n(&acc.at(o, 0, 0), static_cast<std::size_t>(height) * width,
                conv.bias[static_cast<std::size_t>(o)]);
  }
  return acc;
}

// A transposed conv (docs/quantization.md "General graphs"): every input pixel adds w * (x - zero
// point) to the outputs its kernel covers, output y = iy * stride + ky - pad_top (as
// reference::conv_transpose2d); covered positions outside the output are dropped.
S32Tensor accumulate_transposed(const U8Tensor& input, int input_zero_point, const QConv2d& conv) {
  const auto out_size = [&](int n, int kernel, int pads) {
    return (n - 1) * conv.stride - pads + kernel + conv.output_padding;
  };
  const int out_h = out_size(input.height, conv.kernel_h, conv.pad_top + conv.pad_bottom);
  const int out_w = out_size(input.width, conv.kernel_w, conv.pad_left + conv.pad_right);
  if (input.channels != conv.in_channels || conv.stride < 1 || conv.groups < 1 ||
      conv.in_channels % conv.groups != 0 || conv.out_channels % conv.groups != 0 || out_h < 1 ||
      out_w < 1) {
    throw Error("INT8 transposed conv " + std::to_string(conv.in_channels) + "->" +
                std::to_string(conv.out_channels) + " cannot read a " + shape_text(input) +
                " input");
  }
  S32Tensor acc = bias_planes(conv, out_h, out_w);
  const int group_in = conv.in_channels / conv.groups;
  const int group_out = conv.out_channels / conv.groups;
  for (int o = 0; o < conv.out_channels; ++o) {
    std::int32_t* plane = &acc.at(o, 0, 0);
    const int group = o / group_out;
    for (int i = group * group_in; i < (group + 1) * group_in; ++i) {
      // IOHW: the kernel of input channel i and output channel o.
      const std::int8_t* kernel =
          &conv.weight[(static_cast<std::size_t>(i) * group_out + o % group_out) * conv.kernel_h *
                       conv.kernel_w];
      for (int iy = 0; iy < input.height; ++iy) {
        for (int ky = 0; ky < conv.kernel_h; ++ky) {
          const int y = iy * conv.stride + ky - conv.pad_top;
          if (y < 0 || y >= out_h) continue;
          std::int32_t* sum = plane + static_cast<std::size_t>(y) * out_w;
          for (int ix = 0; ix < input.width; ++ix) {
            const std::int32_t x = input.at(i, iy, ix) - input_zero_point;
            for (int kx = 0; kx < conv.kernel_w; ++kx) {
              const int column = ix * conv.stride + kx - conv.pad_left;
              if (column >= 0 && column < out_w) sum[column] += kernel[ky * conv.kernel_w + kx] * x;
            }
          }
        }
      }
    }
  }
  return acc;
}

// sum / 2^bits rounded half to even, for sum >= 0.
std::int32_t shift_rounded_half_to_even(std::int32_t sum, int bits) {
  const std::int32_t quotient = sum >> bits;
  const std::int32_t remainder = sum - (quotient << bits);
  const std::int32_t half = 1 << (bits - 1);
  return quotient + (remainder > half || (remainder == half && (quotient & 1) != 0) ? 1 : 0);
}

}  // namespace

ClampBounds fused_activation_bounds(const GraphNode* activation, const ActivationEncoding& output) {
  if (activation == nullptr) return ClampBounds{0, 255};
  if (activation->op == OpType::kRelu) return activation_bounds(output, Activation::kReLU);
  return clip_bounds(output, activation->clip_min, activation->clip_max);
}

std::array<std::uint8_t, 256> activation_table(const GraphNode& node,
                                               const ActivationEncoding& input,
                                               const ActivationEncoding& output) {
  if (!is_table_activation(node.op)) {
    throw Error(std::string("no INT8 lookup table for op '") + graph_op_name(node.op) + "'");
  }
  std::array<std::uint8_t, 256> table{};
  for (int q = 0; q < 256; ++q) {
    const float x = dequantize(static_cast<std::uint8_t>(q), input);
    table[static_cast<std::size_t>(q)] = quantize(table_activation_value(node, x), output);
  }
  return table;
}

U8Tensor multiply(const U8Tensor& a, const ActivationEncoding& encoding_a, const U8Tensor& b,
                  const ActivationEncoding& encoding_b, const ActivationEncoding& output) {
  const bool broadcast = a.channels == 1 || b.channels == 1;
  if (a.height != b.height || a.width != b.width || (a.channels != b.channels && !broadcast)) {
    throw Error("INT8 mul of " + shape_text(a) + " and " + shape_text(b));
  }
  const float m = requant_multiplier(encoding_a.scale, encoding_b.scale, output.scale);
  U8Tensor result(std::max(a.channels, b.channels), a.height, a.width);
  const std::size_t plane = static_cast<std::size_t>(a.height) * a.width;
  for (int c = 0; c < result.channels; ++c) {
    const std::uint8_t* x = &a.data[(a.channels == 1 ? 0 : c) * plane];
    const std::uint8_t* y = &b.data[(b.channels == 1 ? 0 : c) * plane];
    std::uint8_t* out = &result.data[c * plane];
    for (std::size_t i = 0; i < plane; ++i) {
      out[i] = multiply_value(x[i] - encoding_a.zero_point, y[i] - encoding_b.zero_point, m,
                              output.zero_point);
    }
  }
  return result;
}

U8Tensor max_pool(const U8Tensor& x, const Pool2d& window) {
  const PlaneSize size = pooled_size(x.height, x.width, window, "INT8 max_pool");
  U8Tensor result(x.channels, size.height, size.width);
  for (int c = 0; c < x.channels; ++c) {
    for_each_pool_window(x.height, x.width, window,
                         [&](int y, int xo, int top, int bottom, int left, int right) {
                           std::uint8_t max = 0;
                           for (int iy = top; iy < bottom; ++iy) {
                             for (int ix = left; ix < right; ++ix) {
                               max = std::max(max, x.at(c, iy, ix));
                             }
                           }
                           result.at(c, y, xo) = max;
                         });
  }
  return result;
}

std::uint8_t multiply_value(std::int32_t a_centred, std::int32_t b_centred, float multiplier,
                            int zero_point) {
  return requantize(a_centred * b_centred, multiplier, zero_point, ClampBounds{0, 255});
}

std::vector<FixedBilinearTap> fixed_bilinear_taps(int in, int out) {
  constexpr double kOne = 1 << kBilinearWeightBits;
  std::vector<FixedBilinearTap> result;
  for (const BilinearTap& tap : bilinear_taps(in, out)) {
    const auto upper = static_cast<std::int32_t>(std::nearbyint(tap.weight * kOne));
    result.push_back({tap.lower, tap.upper, static_cast<std::int32_t>(kOne) - upper, upper});
  }
  return result;
}

std::uint8_t bilinear_value(const FixedBilinearTap& row, const FixedBilinearTap& column,
                            std::uint8_t upper_left, std::uint8_t upper_right,
                            std::uint8_t lower_left, std::uint8_t lower_right) {
  // At most 255 * 2^22 < 2^31: exact in s32.
  const std::int32_t upper = column.lower_weight * upper_left + column.upper_weight * upper_right;
  const std::int32_t lower = column.lower_weight * lower_left + column.upper_weight * lower_right;
  const std::int32_t sum = row.lower_weight * upper + row.upper_weight * lower;
  return static_cast<std::uint8_t>(shift_rounded_half_to_even(sum, 2 * kBilinearWeightBits));
}

U8Tensor resize_bilinear(const U8Tensor& x, int height, int width) {
  const std::vector<FixedBilinearTap> rows = fixed_bilinear_taps(x.height, height);
  const std::vector<FixedBilinearTap> columns = fixed_bilinear_taps(x.width, width);
  U8Tensor result(x.channels, height, width);
  for (int c = 0; c < x.channels; ++c) {
    for (int y = 0; y < height; ++y) {
      const FixedBilinearTap& row = rows[static_cast<std::size_t>(y)];
      for (int xo = 0; xo < width; ++xo) {
        const FixedBilinearTap& column = columns[static_cast<std::size_t>(xo)];
        result.at(c, y, xo) = bilinear_value(
            row, column, x.at(c, row.lower, column.lower), x.at(c, row.lower, column.upper),
            x.at(c, row.upper, column.lower), x.at(c, row.upper, column.upper));
      }
    }
  }
  return result;
}

S32Tensor accumulate(const U8Tensor& input, int input_zero_point, const QConv2d& conv) {
  if (conv.transposed) return accumulate_transposed(input, input_zero_point, conv);
  if (input.channels != conv.in_channels || conv.stride < 1 || conv.groups < 1 ||
      conv.in_channels % conv.groups != 0 || conv.out_channels % conv.groups != 0 ||
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
  // Per output plane: start at the bias, then every tap adds w * (x - zero point) over the outputs
  // whose input pixel is inside the image; taps in the padding are real 0 and add nothing. Output
  // channel o of group g reads input channels g * group_in + i.
  S32Tensor acc = bias_planes(conv, out_h, out_w);
  const int group_in = conv.in_channels / conv.groups;
  const int group_out = conv.out_channels / conv.groups;
  for (int o = 0; o < conv.out_channels; ++o) {
    std::int32_t* plane = &acc.at(o, 0, 0);
    for (int i = 0; i < group_in; ++i) {
      const int channel = o / group_out * group_in + i;
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
                &input.data[(static_cast<std::size_t>(channel) * input.height + iy) * input.width];
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

U8Tensor forward(const QuantizedGraph& net, const U8Tensor& input) {
  try {
    net.check();
  } catch (const Error& error) {
    throw Error(net.graph.architecture + ": " + error.what());
  }
  if (input.channels != 3 || input.height < 1 || input.width < 1 ||
      input.data.size() != static_cast<std::size_t>(3) * input.height * input.width) {
    throw Error(net.graph.architecture + " (INT8) expects a 3xHxW input, got " + shape_text(input));
  }
  return GraphRun(net).run(input);
}

const ActivationEncoding& output_encoding(const QuantizedGraph& net) {
  return net.encodings.at(int8_layout(net.graph).index.at(net.graph.output));
}

Tensor forward(const QuantizedGraph& net, const Tensor& rgb) {
  return dequantize(forward(net, to_u8(rgb)), output_encoding(net));
}

}  // namespace quicksr::quant
