#pragma once
// INT8 (W8A8) QuickSRNet: u8 activations (scale, zero point), s8 symmetric weights (per output
// channel or per tensor), s32 bias and accumulation, float32 requantisation with a fused clamp.
// The integer semantics are written down once in docs/quantization.md; the integer reference
// runtime (quicksr::quant::forward) implements them plainly and is the oracle of the INT8 engine.
// The values (ActivationEncoding, QConv2d, QuantizedQuickSRNet) live in quicksr/model.hpp.
//
//   QuantizedQuickSRNet q = quant::quantize_weights(net, encodings,
//   WeightGranularity::kPerChannel); U8Tensor hr = quant::forward(q, quant::to_u8(lr));  // u8
//   values of q.output
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

// A dense planar CHW integer feature map (batch 1): data[(c * height + y) * width + x].
template <typename T>
struct PlanarTensor {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<T> data;

  PlanarTensor() = default;
  PlanarTensor(int c, int h, int w, T fill = T{})
      : channels(c), height(h), width(w), data(static_cast<std::size_t>(c) * h * w, fill) {}

  T& at(int c, int y, int x) {
    return data[(static_cast<std::size_t>(c) * height + y) * width + x];
  }
  T at(int c, int y, int x) const {
    return data[(static_cast<std::size_t>(c) * height + y) * width + x];
  }
};
using U8Tensor = PlanarTensor<std::uint8_t>;
using S32Tensor = PlanarTensor<std::int32_t>;

enum class WeightGranularity { kPerChannel, kPerTensor };

// The activation encodings of a QuickSRNet (the quantizer placement of docs/quantization.md).
struct ActivationEncodings {
  ActivationEncoding input;                  // fixed: scale 1/255, zero point 0
  std::vector<ActivationEncoding> features;  // 1 + m: after first, after each body conv
  ActivationEncoding output;                 // after the last conv (+ anchor), clipped to [0, 1]
  friend bool operator==(const ActivationEncodings&, const ActivationEncodings&) = default;
};

namespace quant {

// ---- The scalar rules of docs/quantization.md (the INT8 engine must use these, or match them)

// The calibrated encoding of [min, max], widened to contain 0 (and to a range of at least 1e-6):
// scale = (max - min) / 255, zero_point = nearbyint(-min / scale) in [0, 255].
ActivationEncoding encoding_from_range(float min, float max);
// q = clamp(nearbyint(x / scale) + zero_point, 0, 255), round half to even, in float32.
std::uint8_t quantize(float x, const ActivationEncoding& encoding);
float dequantize(std::uint8_t q, const ActivationEncoding& encoding);

// The u8 clamp of ReLU1 and of the final clip: lo = max(0, zp), hi = min(255, zp + nearbyint(1 /
// scale)) with 1 / scale in double.
struct ClampBounds {
  int lo = 0;
  int hi = 255;
};
ClampBounds relu1_bounds(const ActivationEncoding& output);
// The u8 clamp of Clip(lo, hi): zp + nearbyint(x / scale) for x = lo and hi, in double, each
// clamped to [0, 255]. relu1_bounds is clip_bounds(output, 0, 1).
ClampBounds clip_bounds(const ActivationEncoding& output, float lo, float hi);
// The u8 clamp of a conv's activation: relu1_bounds for ReLU1; for ReLU lo = max(0, zp), hi = 255
// (nothing above 0 is clipped but what the u8 range cannot hold).
ClampBounds activation_bounds(const ActivationEncoding& output, Activation activation);

// M = float32(input_scale * weight_scale / output_scale), computed in double, rounded once.
float requant_multiplier(float input_scale, float weight_scale, float output_scale);
// q = clamp(nearbyint(float32(acc) * multiplier) + zero_point, bounds), round half to even.
std::uint8_t requantize(std::int32_t acc, float multiplier, int zero_point, ClampBounds bounds);
// The anchor sum: t = float32(acc_a) * m_a + float32(acc_b) * m_b (no FMA), then as requantize.
std::uint8_t requantize_sum(std::int32_t acc_a, float multiplier_a, std::int32_t acc_b,
                            float multiplier_b, int zero_point, ClampBounds bounds);

// ---- Weights

// Symmetric s8 scale of `values`: max|w| / 127, or 1 when all are zero.
float weight_scale_of(const float* values, std::size_t count);
// q = clamp(nearbyint(w / scale), -127, 127).
std::int8_t quantize_weight(float w, float scale);
// The s32 bias: nearbyint(bias / (input_scale * weight_scale)) in double, saturated to int32.
std::int32_t quantize_bias(float bias, float input_scale, float weight_scale);

// One conv: s8 weights at `granularity`, s32 bias in units of input_scale * weight_scale[o]. A
// channel whose bias would overflow the accumulator bound gets a larger weight scale (docs).
QConv2d quantize_conv(const Conv2d& conv, float input_scale, WeightGranularity granularity);
// The same with given weight scales (1 or one per output channel), e.g. imported encodings.
QConv2d quantize_conv(const Conv2d& conv, float input_scale, std::vector<float> weight_scales);
// The float conv the integer one stands for: w = q * weight_scale, b = bias_q * input_scale *
// weight_scale (what QuantSim computes with).
Conv2d dequantize_conv(const QConv2d& conv, float input_scale);

// The whole net. `encodings.features` must have 1 + m entries; the result passes check().
QuantizedQuickSRNet quantize_weights(const QuickSRNet& net, const ActivationEncodings& encodings,
                                     WeightGranularity granularity);
// `net` quantized on the grid of `grid` (its activation encodings and weight scales), e.g. the
// float weights of QAT started from an INT8 model. dequantize_weights(grid) gives back grid.
QuantizedQuickSRNet quantize_weights(const QuickSRNet& net, const QuantizedQuickSRNet& grid);
ActivationEncodings encodings_of(const QuantizedQuickSRNet& net);
// The float QuickSRNet with the dequantized weights and biases.
QuickSRNet dequantize_weights(const QuantizedQuickSRNet& net);

// ---- The integer reference runtime (plain loops, the oracle)

// s32 accumulators of one conv (docs "Convolution"): bias + sum of w_q * (x_q - zero_point_in),
// taps outside the image contribute 0.
S32Tensor accumulate(const U8Tensor& input, int input_zero_point, const QConv2d& conv);

// 3xHxW u8 image (the input encoding: scale 1/255, zero point 0) to the 3 x floor(sH) x floor(sW)
// u8 output in net.output's encoding. x1.5 edge-replicates odd sizes to even and crops. Throws
// quicksr::Error when net fails check() or the input is not 3xHxW.
U8Tensor forward(const QuantizedQuickSRNet& net, const U8Tensor& input);
// Float RGB in [0, 1]: rounded to u8 (to_u8), run, dequantized with net.output.
Tensor forward(const QuantizedQuickSRNet& net, const Tensor& rgb);

// ---- INT8 general graphs (docs/quantization.md "General graphs")

// s8 weights at `granularity` and s32 biases (zero for a conv without bias) of `graph`, whose ops
// the INT8 path runs (check_int8_ops), with `encodings` for the u8 tensors of its placement
// (int8_layout). The result holds the graph's structure without float weights and passes check().
QuantizedGraph quantize_graph_weights(const Graph& graph, std::vector<ActivationEncoding> encodings,
                                      WeightGranularity granularity);
// The float graph with the dequantized weights and biases (what QuantSim computes with).
Graph dequantize_weights(const QuantizedGraph& net);
// The encoding of the graph's output tensor.
const ActivationEncoding& output_encoding(const QuantizedGraph& net);
// The u8 clamp of the ReLU / Clip `activation` fused into a conv or add (or standing alone) whose
// output has encoding `output`: activation_bounds for ReLU, clip_bounds for Clip, [0, 255] for
// none (nullptr).
ClampBounds fused_activation_bounds(const GraphNode* activation, const ActivationEncoding& output);
// The u8 -> u8 ops of INT8 graphs, one call per node (docs "General graphs"):
// LeakyReLU, Sigmoid, Tanh (`node`): table[q] = quantize(f(dequantize(q, input)), output) with
// the float function of the reference runtime (QuantSim computes the same, so they agree exactly).
std::array<std::uint8_t, 256> activation_table(const GraphNode& node,
                                               const ActivationEncoding& input,
                                               const ActivationEncoding& output);
// Mul: requantize((a - zp_a) * (b - zp_b), requant_multiplier(scale_a, scale_b, scale_out),
// zp_out, [0, 255]); a 1-channel operand is broadcast over the other's channels.
U8Tensor multiply(const U8Tensor& a, const ActivationEncoding& encoding_a, const U8Tensor& b,
                  const ActivationEncoding& encoding_b, const ActivationEncoding& output);
// MaxPool: the largest u8 value of each window (padding skipped); the encoding is the input's.
U8Tensor max_pool(const U8Tensor& x, const Pool2d& window);
// Half-pixel bilinear resize on u8 with weights of 11 bits per axis and the sum of the four
// products rounded half to even at 22 bits; the encoding is the input's.
inline constexpr int kBilinearWeightBits = 11;
U8Tensor resize_bilinear(const U8Tensor& x, int height, int width);
// One axis of resize_bilinear: the lower and upper neighbour and their 11-bit weights
// (nearbyint(weight * 2^11) of bilinear_taps' upper weight, and its complement).
struct FixedBilinearTap {
  int lower;
  int upper;
  std::int32_t lower_weight;
  std::int32_t upper_weight;
};
std::vector<FixedBilinearTap> fixed_bilinear_taps(int in, int out);
// One output value of resize_bilinear from the four neighbours (rows `row`, columns `column`):
// the weighted sum rounded half to even at 22 bits.
std::uint8_t bilinear_value(const FixedBilinearTap& row, const FixedBilinearTap& column,
                            std::uint8_t upper_left, std::uint8_t upper_right,
                            std::uint8_t lower_left, std::uint8_t lower_right);
// One output value of multiply: the product of the centred values requantized, [0, 255].
std::uint8_t multiply_value(std::int32_t a_centred, std::int32_t b_centred, float multiplier,
                            int zero_point);

// 3xHxW u8 image to the u8 output (output_encoding). Throws quicksr::Error naming the graph and
// the node for an unsupported op or a bad input.
U8Tensor forward(const QuantizedGraph& net, const U8Tensor& input);
Tensor forward(const QuantizedGraph& net, const Tensor& rgb);

// nearbyint(clamp(x, 0, 1) * 255) per value: the 8-bit image of a float image.
U8Tensor to_u8(const Tensor& rgb);
Tensor dequantize(const U8Tensor& q, const ActivationEncoding& encoding);

// ---- AIMET JSON encodings (format 0.6.1; docs/quantization.md "AIMET encodings")

// param_encodings "first.weight", "body.<i>.weight", "last.weight", "anchor.weight" (one entry
// per channel, or one); activation_encodings "input", "first.relu1", "body.<i>.relu1", "clip"
// (the ONNX export's tensor names).
std::string to_aimet_json(const QuantizedQuickSRNet& net);
// `net` quantized with the weight scales and activation encodings of the JSON; throws
// quicksr::Error "<name>: <problem>" for malformed, incomplete or non-8-bit encodings.
QuantizedQuickSRNet from_aimet_json(const QuickSRNet& net, std::string_view json,
                                    const std::string& name);
QuantizedQuickSRNet load_aimet_encodings(const QuickSRNet& net, const std::filesystem::path& path);

}  // namespace quant
}  // namespace quicksr
