#pragma once
// Models as values: a QuickSRNet (the paper's architecture, with its identity initialisation), a
// general SR graph (for imported baselines such as XLSR, SESR, FSRCNN) or an INT8 QuickSRNet
// (QuantizedQuickSRNet), plus provenance.
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace quicksr {

// Upscaling factor as a fraction: 2/1, 3/1, 4/1 or 3/2 for QuickSRNet; general graphs any.
struct Scale {
  int numerator = 2;
  int denominator = 1;

  double value() const { return static_cast<double>(numerator) / denominator; }
  bool is_integer() const { return denominator == 1; }
  std::string to_string() const;  // "2", "1.5"
  // Accepts "2", "3", "4", "1.5", "x2", "1_5"; throws quicksr::Error otherwise.
  static Scale parse(std::string_view text);
  friend bool operator==(const Scale&, const Scale&) = default;
};

// Channel order of depth-to-space / space-to-depth.
// CRD (PyTorch PixelShuffle): channel = c * r^2 + dy * r + dx.  DCR: (dy * r + dx) * C + c.
enum class ChannelOrder { kCRD, kDCR };

// The activation after the first and every body conv. ReLU1 = clamp(x, 0, 1) is the paper's (it
// keeps features in the range an 8-bit encoding covers); ReLU = max(x, 0) is its ablation (Fig. 7).
enum class Activation { kReLU1, kReLU };
std::string activation_name(Activation activation);  // "relu1" / "relu"
// "relu1" / "relu"; throws quicksr::Error otherwise.
Activation parse_activation(std::string_view name);
// The upper clamp of `activation`: 1 for ReLU1, +infinity for ReLU.
float activation_upper_bound(Activation activation);

// A 2-D convolution with OIHW weights (I = in_channels / groups) and zero padding; or, when
// `transposed`, a transposed convolution (ONNX ConvTranspose, PyTorch ConvTranspose2d) with IOHW
// weights (O = out_channels / groups), output size (n - 1) * stride - pads + kernel +
// output_padding.
struct Conv2d {
  int in_channels = 0;
  int out_channels = 0;
  int kernel_h = 3;
  int kernel_w = 3;
  int stride = 1;
  int pad_top = 1, pad_left = 1, pad_bottom = 1, pad_right = 1;
  int groups = 1;
  std::vector<float> weight;  // out * (in / groups) * kh * kw
  std::vector<float> bias;    // out values, or empty for no bias
  bool transposed = false;
  int output_padding = 0;  // transposed only: extra rows/columns at the bottom/right

  // A zero-initialised conv with "same" padding for odd kernels and stride 1.
  static Conv2d zeros(int in_channels, int out_channels, int kernel, int groups = 1);
  float& w(int o, int i, int ky, int kx) {
    return weight[((static_cast<std::size_t>(o) * (in_channels / groups) + i) * kernel_h + ky) *
                      kernel_w +
                  kx];
  }
  float w(int o, int i, int ky, int kx) const {
    return weight[((static_cast<std::size_t>(o) * (in_channels / groups) + i) * kernel_h + ky) *
                      kernel_w +
                  kx];
  }
};

struct QuickSRNetConfig {
  int features = 32;  // f
  int blocks = 2;     // m: body convs between the first and the last
  Scale scale;
  bool anchor = false;  // input-to-output residual (Large)
  ChannelOrder order = ChannelOrder::kCRD;
  Activation activation = Activation::kReLU1;

  static QuickSRNetConfig small(Scale scale);   // f32-m2
  static QuickSRNetConfig medium(Scale scale);  // f32-m5
  static QuickSRNetConfig large(Scale scale);   // f64-m11 with anchor
  // "small" / "medium" / "large", or a point of the paper's f/m grid "fF-mM" ("f32-m3") with
  // "-anchor" for the input-to-output residual; throws quicksr::Error otherwise.
  static QuickSRNetConfig preset(std::string_view name, Scale scale);
  // "quicksrnet-small-x2" for presets, "quicksrnet-f16-m3-x2" otherwise; "-relu" with ReLU.
  std::string name() const;
  friend bool operator==(const QuickSRNetConfig&, const QuickSRNetConfig&) = default;
};

// Conv3x3(3->f)+ReLU1, m x [Conv3x3(f->f)+ReLU1] (ReLU1 or ReLU: config.activation), then
//   integer s: Conv3x3(f->3s^2) [+ anchor Conv1x1(3->3s^2) of the input], clip [0,1], d2s(s);
//   s = 1.5:   s2d(2), Conv1x1(4f->27) [+ anchor Conv3x3 stride 2 (3->27)], clip, d2s(3).
struct QuickSRNet {
  QuickSRNetConfig config;
  Conv2d first;
  std::vector<Conv2d> body;
  Conv2d last;
  std::vector<Conv2d> anchor;  // empty, or the one anchor conv when config.anchor

  // Shapes for `config` with all weights and biases zero.
  static QuickSRNet zeros(const QuickSRNetConfig& config);
  // Paper initialisation: PyTorch's default uniform init from `seed`, then identity init (Eq. 1-3);
  // Initialization::kDefault stops after the uniform draw (the paper's ablation, Fig. 7).
  // The anchor (Large) is not drawn: it starts as exactly the upsampling, bias zero (AIMET), with
  // either initialisation (it is the architecture's input-to-output path, not an init term).
  enum class Initialization { kIdentity, kDefault };
  static QuickSRNet initialized(const QuickSRNetConfig& config, std::uint64_t seed,
                                Initialization init = Initialization::kIdentity);
  // Validates every conv's shape against `config`; throws quicksr::Error describing the mismatch.
  void check() const;
  // Multiply-accumulates per input pixel (for GFLOP figures).
  double macs_per_pixel() const;
};

// Adds the identity terms of paper Eq. 1-3 to the weights (body: centre-tap diagonal; first: copy
// the 3 input channels; last: repeat-interleave the first 3 input channels s^2 times; anchor:
// repeat-interleave the input). Applied once, at initialisation.
void add_identity_init(QuickSRNet& net);
// The anchor's part of it alone (the anchor conv, Large, becomes the upsampling of the input).
void add_anchor_upsampling(QuickSRNet& net);

// ---- INT8 (W8A8) QuickSRNet: the integer semantics are docs/quantization.md; the functions
// that quantize and run it are in quicksr/quant.hpp.

// real = scale * (q - zero_point), q in [0, 255].
struct ActivationEncoding {
  float scale = 1.0f / 255.0f;
  int zero_point = 0;
  friend bool operator==(const ActivationEncoding&, const ActivationEncoding&) = default;
};

// A convolution with s8 weights (symmetric, [-127, 127]) and s32 bias. Geometry as in Conv2d
// (QuickSRNet's convs are dense; grouped convs occur in INT8 graphs).
struct QConv2d {
  int in_channels = 0;
  int out_channels = 0;
  int kernel_h = 3;
  int kernel_w = 3;
  int stride = 1;
  int pad_top = 1, pad_left = 1, pad_bottom = 1, pad_right = 1;
  int groups = 1;
  std::vector<std::int8_t> weight;  // OIHW, or IOHW when transposed (as Conv2d)
  std::vector<float> weight_scale;  // out values (per channel) or 1 value (per tensor)
  std::vector<std::int32_t> bias;   // out values, in units of input_scale * weight_scale[o]
  bool transposed = false;          // INT8 graphs only (ConvTranspose)
  int output_padding = 0;

  float scale_of(int o) const {
    return weight_scale.size() == 1 ? weight_scale[0] : weight_scale[o];
  }
  bool per_channel() const { return weight_scale.size() != 1; }
  // Not transposed only.
  std::int8_t w(int o, int i, int ky, int kx) const {
    return weight[((static_cast<std::size_t>(o) * (in_channels / groups) + i) * kernel_h + ky) *
                      kernel_w +
                  kx];
  }
};

// The QuickSRNet chain with an activation encoding after every quantizer (docs/quantization.md):
// the input (fixed: the 8-bit image, scale 1/255, zero point 0), each conv + ReLU1 output, and the
// final output (after the last conv, plus the anchor for Large, clipped to [0, 1]).
struct QuantizedQuickSRNet {
  QuickSRNetConfig config;
  QConv2d first;
  std::vector<QConv2d> body;
  QConv2d last;
  std::vector<QConv2d> anchor;  // empty, or the anchor conv (reads the input)

  ActivationEncoding input;
  std::vector<ActivationEncoding> features;  // 1 + m: after first, after each body conv
  ActivationEncoding output;

  // The model checker: geometry against `config`, weights in [-127, 127], positive finite scales,
  // zero points in [0, 255], the fixed input encoding, finite requantisation multipliers, and
  // every accumulator bounded: |bias| + in * kh * kw * 255 * 127 fits in int32. Throws
  // quicksr::Error naming the conv and the problem.
  void check() const;
  bool per_channel() const { return first.per_channel(); }
};

// General SR graph: nodes in topological order over named tensors. The graph input is "input"
// (3xHxW RGB in [0,1]). Every op is elementwise, a convolution or a fixed resampling, so a trainer
// can run the graph node by node; its parameters are the convs' weights and biases and the
// PReLU slopes. docs/model-format.md gives each op's exact semantics.
enum class OpType {
  kConv,
  kClip,
  kRelu,
  kDepthToSpace,
  kSpaceToDepth,
  kAdd,
  kConcat,
  // Graph format version 2:
  kConvTranspose,  // conv: index of a transposed Conv2d
  kPRelu,          // prelu: index into Graph::prelus
  kLeakyRelu,      // alpha
  kSigmoid,
  kTanh,
  kMul,  // elementwise; a 1-channel operand is broadcast over the other's channels
  kSub,  // as kMul
  kAveragePool,
  kMaxPool,
  kResizeNearest,   // block_size: integer upscale, out[y][x] = in[y / s][x / s]
  kResizeBilinear,  // to the size of the second input (same channels), half-pixel centres
};

// Pooling window (AveragePool / MaxPool); padded positions are skipped by max and, unless
// count_include_pad, not counted by the average (ONNX defaults; PyTorch's avg_pool2d counts them).
struct Pool2d {
  int kernel = 2;
  int stride = 2;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
  friend bool operator==(const Pool2d&, const Pool2d&) = default;
};

// PReLU slopes: one shared slope (PyTorch's nn.PReLU() default) or one per channel.
struct PRelu {
  int channels = 1;
  std::vector<float> slope;  // `channels` values
};

struct GraphNode {
  OpType op = OpType::kConv;
  std::string name;
  std::vector<std::string> inputs;
  std::string output;
  int conv = -1;          // kConv / kConvTranspose: index into Graph::convs
  float clip_min = 0.0f;  // kClip
  float clip_max = 1.0f;  // kClip
  int block_size = 0;     // kDepthToSpace / kSpaceToDepth / kResizeNearest
  ChannelOrder order = ChannelOrder::kCRD;
  int prelu = -1;       // kPRelu: index into Graph::prelus
  float alpha = 0.01f;  // kLeakyRelu: slope below zero
  Pool2d pool;          // kAveragePool / kMaxPool
};

struct Graph {
  std::string architecture;  // e.g. "xlsr", "sesr", "fsrcnn"
  Scale scale;
  std::string input = "input";
  std::string output;
  std::vector<GraphNode> nodes;
  std::vector<Conv2d> convs;
  std::vector<PRelu> prelus;
};

// An INT8 general graph (docs/quantization.md "General graphs"): the graph's structure, its convs
// with s8 weights and s32 biases, and one activation encoding per u8 tensor: the input (fixed, the
// 8-bit image), then every node output in node order except the outputs of convs and adds whose
// only reader is a ReLU or Clip (that activation is fused into their requantisation).
// quant::int8_tensors(graph) lists those tensors.
struct QuantizedGraph {
  Graph graph;                 // nodes and conv geometry; the float weights are empty
  std::vector<QConv2d> convs;  // one per graph.convs entry
  std::vector<ActivationEncoding> encodings;

  // Structure, supported ops, encodings (input fixed, permutations keep their input's), conv
  // geometry and the accumulator bound of every conv; throws quicksr::Error naming the problem.
  void check() const;
  bool per_channel() const { return convs.empty() || convs.front().per_channel(); }
};

// The quantizer placement of an INT8 graph (docs/quantization.md "General graphs"), the one
// definition the model checker, the file loader, the integer runtime, QuantSim and calibration
// share.
struct Int8GraphLayout {
  // Per node: the ReLU / Clip node fused into this conv or add (its only reader), or -1.
  std::vector<int> fused_activation;
  // Per node: a ReLU / Clip fused into the node that produces its input.
  std::vector<bool> absorbed;
  // The u8 tensors, each with one encoding, in file order: the input, then node outputs in node
  // order (a fused conv's or add's output is not a u8 tensor; its activation's output is).
  std::vector<std::string> tensors;
  std::map<std::string, std::size_t> index;  // tensor -> position in `tensors`
};

// The placement of a structurally valid graph (check_graph). Does not check the ops.
Int8GraphLayout int8_layout(const Graph& graph);

// Ops the INT8 path runs: conv, conv_transpose, relu, clip, tanh, leaky_relu, sigmoid, add, mul,
// concat, depth_to_space, space_to_depth, max_pool, resize_bilinear. Throws quicksr::Error "INT8
// graphs do not support op '<op>' (node '<name>')" for the first other node.
void check_int8_ops(const Graph& graph);

// Depth-to-space and space-to-depth only permute u8 values: their output keeps the input's
// encoding.
bool is_permutation(OpType op);

struct Model {
  std::variant<QuickSRNet, Graph, QuantizedQuickSRNet, QuantizedGraph> net;
  // Where the weights came from: data, command, iterations, scores... (free-form key/value).
  std::map<std::string, std::string> provenance;

  Scale scale() const;
  std::string name() const;
  bool is_quicksrnet() const { return std::holds_alternative<QuickSRNet>(net); }
  // An INT8 QuickSRNet (not an INT8 graph: QuantizedGraph).
  bool is_quantized() const { return std::holds_alternative<QuantizedQuickSRNet>(net); }
};

}  // namespace quicksr
