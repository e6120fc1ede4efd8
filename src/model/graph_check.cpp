#include "model/graph_check.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>

#include "model/layout.hpp"
#include "quicksr/error.hpp"

namespace quicksr {
namespace {

constexpr int kMaxKernel = 64;
// Resolution changes beyond this are no SR network; the bound keeps the fractions small.
constexpr std::int64_t kMaxResolutionTerm = 1 << 20;
// No tensor is more than this many times the input's size per axis (bounds the memory a checked
// graph can ask for, now that resize and transposed convs upscale without adding channels).
constexpr std::int64_t kMaxUpscale = 16;

using TensorInfo = GraphTensor;

bool same_resolution(const TensorInfo& a, const TensorInfo& b) {
  return a.exact && b.exact && a.numerator == b.numerator && a.denominator == b.denominator;
}

std::string conv_name(std::size_t index) { return "conv " + std::to_string(index); }

bool in_range(std::int64_t value, std::int64_t lo, std::int64_t hi) {
  return value >= lo && value <= hi;
}

// Output size floor((n*s + pads - k) / s) + 1 equals n for every n exactly when
// k - s <= pads <= k - 1: only then is the resolution change the stride and nothing else.
bool keeps_resolution(int kernel, int stride, int pads) {
  return pads >= kernel - stride && pads <= kernel - 1;
}

// Both axes of a conv or pool window (Conv2d and Pool2d name their fields alike).
template <typename Window>
bool keeps_resolution(const Window& window, int kernel_h, int kernel_w) {
  return keeps_resolution(kernel_h, window.stride, window.pad_top + window.pad_bottom) &&
         keeps_resolution(kernel_w, window.stride, window.pad_left + window.pad_right);
}

void check_window(const std::string& where, int kernel_h, int kernel_w, int stride,
                  std::array<int, 4> pads) {
  if (!in_range(kernel_h, 1, kMaxKernel) || !in_range(kernel_w, 1, kMaxKernel)) {
    throw Error(where + " has a kernel size outside 1.." + std::to_string(kMaxKernel));
  }
  if (!in_range(stride, 1, kMaxKernel)) throw Error(where + " has an invalid stride");
  for (int pad : pads) {
    if (!in_range(pad, 0, kMaxKernel)) throw Error(where + " has an invalid padding");
  }
}

void check_conv_geometry(const Conv2d& conv, std::size_t index) {
  const std::string where = conv_name(index);
  if (!in_range(conv.in_channels, 1, kMaxGraphChannels) ||
      !in_range(conv.out_channels, 1, kMaxGraphChannels)) {
    throw Error(where + " has channels outside 1.." + std::to_string(kMaxGraphChannels));
  }
  if (!in_range(conv.groups, 1, conv.in_channels) || conv.in_channels % conv.groups != 0 ||
      conv.out_channels % conv.groups != 0) {
    throw Error(where + " has " + std::to_string(conv.groups) +
                " groups, which must divide its input and output channels");
  }
  check_window(where, conv.kernel_h, conv.kernel_w, conv.stride,
               {conv.pad_top, conv.pad_left, conv.pad_bottom, conv.pad_right});
  if (!conv.transposed && conv.output_padding != 0) {
    throw Error(where + " has an output padding but is not transposed");
  }
  if (conv.transposed) {
    if (!in_range(conv.output_padding, 0, conv.stride - 1)) {
      throw Error(where + " has an output padding outside 0..stride-1");
    }
    // Output (n - 1) * s - pads + k + output_padding is exactly n * s for every n.
    const int extra = conv.output_padding - conv.stride;
    if (conv.kernel_h + extra != conv.pad_top + conv.pad_bottom ||
        conv.kernel_w + extra != conv.pad_left + conv.pad_right) {
      throw Error(where + " is a transposed conv whose padding (" +
                  std::to_string(conv.pad_top + conv.pad_bottom) +
                  " rows) is not kernel - stride "
                  "+ output_padding (" +
                  std::to_string(conv.kernel_h + extra) +
                  "): its output would not be exactly stride times its input");
    }
  }
}

void check_conv_weights(const Conv2d& conv, std::size_t index) {
  if (conv.weight.size() != weight_count(conv) ||
      (!conv.bias.empty() && conv.bias.size() != static_cast<std::size_t>(conv.out_channels))) {
    throw Error(conv_name(index) + " has " + std::to_string(conv.weight.size()) + " weights and " +
                std::to_string(conv.bias.size()) + " biases, its geometry needs " +
                std::to_string(weight_count(conv)) + " and " + std::to_string(conv.out_channels));
  }
}

class ShapeInference {
 public:
  explicit ShapeInference(const Graph& graph) : graph_(graph) {}

  Scale run() {
    infer();
    const TensorInfo& output = tensors_.at(graph_.output);
    return Scale{static_cast<int>(output.numerator), static_cast<int>(output.denominator)};
  }

  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }

  void infer() {
    if (graph_.input.empty()) throw Error("the graph input has no name");
    tensors_[graph_.input] = TensorInfo{3};
    for (const GraphNode& node : graph_.nodes) {
      const TensorInfo info = output_info(node);
      if (info.numerator > kMaxResolutionTerm || info.denominator > kMaxResolutionTerm ||
          info.numerator > kMaxUpscale * info.denominator) {
        fail(node, "implausible resolution change");
      }
      if (node.output.empty()) fail(node, "has no output name");
      if (!tensors_.emplace(node.output, info).second) {
        fail(node, "output \"" + node.output + "\" is defined twice");
      }
    }
    const auto output = tensors_.find(graph_.output);
    if (output == tensors_.end()) {
      throw Error("graph output \"" + graph_.output + "\" is not produced by any node");
    }
    if (output->second.channels != 3) {
      throw Error("graph output has " + std::to_string(output->second.channels) +
                  " channels; an SR model outputs 3 (RGB)");
    }
    if (!output->second.exact) {
      throw Error(
          "graph output size is not a fixed multiple of the input size (a conv or pool "
          "on the way changes it by more than its stride)");
    }
  }

 private:
  [[noreturn]] void fail(const GraphNode& node, const std::string& problem) const {
    throw Error("graph node \"" + node.name + "\" (" + graph_op_name(node.op) + ") " + problem);
  }

  void expect_inputs(const GraphNode& node, std::size_t count) const {
    if (node.inputs.size() != count) {
      fail(node, "has " + std::to_string(node.inputs.size()) + " inputs, expected " +
                     std::to_string(count));
    }
  }

  const TensorInfo& input(const GraphNode& node, std::size_t index) const {
    const auto found = tensors_.find(node.inputs[index]);
    if (found == tensors_.end()) {
      fail(node, "reads undefined tensor \"" + node.inputs[index] + "\"");
    }
    return found->second;
  }

  // Channels of a result: within kMaxGraphChannels (never an int overflow further on).
  std::int64_t checked_channels(const GraphNode& node, std::int64_t channels) const {
    if (channels > kMaxGraphChannels) {
      fail(node, "makes " + std::to_string(channels) + " channels, more than the limit of " +
                     std::to_string(kMaxGraphChannels));
    }
    return channels;
  }

  TensorInfo rescaled(TensorInfo info, std::int64_t multiply, std::int64_t divide) const {
    info.numerator *= multiply;
    info.denominator *= divide;
    const std::int64_t divisor = std::gcd(info.numerator, info.denominator);
    info.numerator /= divisor;
    info.denominator /= divisor;
    return info;
  }

  TensorInfo output_info(const GraphNode& node) const {
    switch (node.op) {
      case OpType::kConv:
        return conv_info(node);
      case OpType::kClip:
        expect_inputs(node, 1);
        if (!(node.clip_min <= node.clip_max)) fail(node, "has min above max");
        return input(node, 0);
      case OpType::kRelu:
      case OpType::kSigmoid:
      case OpType::kTanh:
        expect_inputs(node, 1);
        return input(node, 0);
      case OpType::kLeakyRelu:
        expect_inputs(node, 1);
        if (!std::isfinite(node.alpha)) fail(node, "has a slope that is not finite");
        return input(node, 0);
      case OpType::kPRelu:
        return prelu_info(node);
      case OpType::kDepthToSpace:
      case OpType::kSpaceToDepth:
      case OpType::kResizeNearest:
        return block_info(node);
      case OpType::kAdd:
      case OpType::kMul:
      case OpType::kSub:
        return elementwise_info(node);
      case OpType::kConcat:
        return concat_info(node);
      case OpType::kConvTranspose:
        return conv_info(node);
      case OpType::kAveragePool:
      case OpType::kMaxPool:
        return pool_info(node);
      case OpType::kResizeBilinear:
        return resize_like_info(node);
    }
    fail(node, "is an unknown operation");
  }

  TensorInfo conv_info(const GraphNode& node) const {
    expect_inputs(node, 1);
    const TensorInfo& in = input(node, 0);
    if (node.conv < 0 || static_cast<std::size_t>(node.conv) >= graph_.convs.size()) {
      fail(node, "refers to conv " + std::to_string(node.conv) + " of " +
                     std::to_string(graph_.convs.size()));
    }
    const Conv2d& conv = graph_.convs[static_cast<std::size_t>(node.conv)];
    if (conv.transposed != (node.op == OpType::kConvTranspose)) {
      fail(node, "refers to conv " + std::to_string(node.conv) +
                     (conv.transposed ? ", a transposed conv" : ", which is not transposed"));
    }
    if (conv.in_channels != in.channels) {
      fail(node, "expects " + std::to_string(conv.in_channels) + " input channels, gets " +
                     std::to_string(in.channels));
    }
    TensorInfo out = conv.transposed ? rescaled(in, conv.stride, 1) : rescaled(in, 1, conv.stride);
    out.channels = conv.out_channels;
    if (!conv.transposed) {
      out.exact = in.exact && keeps_resolution(conv, conv.kernel_h, conv.kernel_w);
    }
    return out;
  }

  TensorInfo pool_info(const GraphNode& node) const {
    expect_inputs(node, 1);
    const Pool2d& pool = node.pool;
    try {
      check_window("its window", pool.kernel, pool.kernel, pool.stride,
                   {pool.pad_top, pool.pad_left, pool.pad_bottom, pool.pad_right});
    } catch (const Error& error) {
      fail(node, error.what());
    }
    // ONNX requires pads smaller than the kernel (a window of only padding has no value).
    for (int pad : {pool.pad_top, pool.pad_left, pool.pad_bottom, pool.pad_right}) {
      if (pad >= pool.kernel) fail(node, "has padding not smaller than its kernel");
    }
    TensorInfo out = rescaled(input(node, 0), 1, pool.stride);
    out.exact = out.exact && keeps_resolution(pool, pool.kernel, pool.kernel);
    return out;
  }

  TensorInfo prelu_info(const GraphNode& node) const {
    expect_inputs(node, 1);
    const TensorInfo& in = input(node, 0);
    if (node.prelu < 0 || static_cast<std::size_t>(node.prelu) >= graph_.prelus.size()) {
      fail(node, "refers to prelu " + std::to_string(node.prelu) + " of " +
                     std::to_string(graph_.prelus.size()));
    }
    const PRelu& prelu = graph_.prelus[static_cast<std::size_t>(node.prelu)];
    if (prelu.channels != 1 && prelu.channels != in.channels) {
      fail(node, "has " + std::to_string(prelu.channels) + " slopes for " +
                     std::to_string(in.channels) + " channels (expected 1 or one per channel)");
    }
    return in;
  }

  // Bilinear resize of the first input to the size of the second (same channels, so that ONNX
  // can take the output shape from the second input as it is).
  TensorInfo resize_like_info(const GraphNode& node) const {
    expect_inputs(node, 2);
    const TensorInfo& in = input(node, 0);
    const TensorInfo& like = input(node, 1);
    if (in.channels != like.channels) {
      fail(node, "resizes " + std::to_string(in.channels) +
                     " channels to the size of a tensor of " + std::to_string(like.channels) +
                     " (they must match)");
    }
    return like;
  }

  TensorInfo block_info(const GraphNode& node) const {
    expect_inputs(node, 1);
    const TensorInfo& in = input(node, 0);
    const int block = node.block_size;
    if (block < 1 || block > kMaxBlockSize) {
      fail(node, "has block size " + std::to_string(block) + " outside 1.." +
                     std::to_string(kMaxBlockSize));
    }
    const std::int64_t area = static_cast<std::int64_t>(block) * block;
    if (node.op == OpType::kResizeNearest) return rescaled(in, block, 1);
    if (node.op == OpType::kSpaceToDepth) {
      TensorInfo out = rescaled(in, 1, block);
      out.channels = checked_channels(node, in.channels * area);
      return out;
    }
    if (in.channels % area != 0) {
      fail(node, "gets " + std::to_string(in.channels) +
                     " channels, not divisible by the block size squared");
    }
    TensorInfo out = rescaled(in, block, 1);
    out.channels = in.channels / area;
    return out;
  }

  // Add: equal shapes. Mul / Sub: also a 1-channel operand broadcast over the other's channels.
  TensorInfo elementwise_info(const GraphNode& node) const {
    expect_inputs(node, 2);
    const TensorInfo& a = input(node, 0);
    const TensorInfo& b = input(node, 1);
    const bool broadcast = node.op != OpType::kAdd && (a.channels == 1 || b.channels == 1);
    if (!same_resolution(a, b) || (a.channels != b.channels && !broadcast)) {
      fail(node, "combines feature maps of different shapes");
    }
    return a.channels >= b.channels ? a : b;
  }

  TensorInfo concat_info(const GraphNode& node) const {
    if (node.inputs.empty()) fail(node, "has no inputs");
    TensorInfo result = input(node, 0);
    for (std::size_t i = 1; i < node.inputs.size(); ++i) {
      const TensorInfo& part = input(node, i);
      if (!same_resolution(part, result)) {
        fail(node, "concatenates feature maps of different sizes");
      }
      result.channels = checked_channels(node, result.channels + part.channels);
    }
    return result;
  }

  const Graph& graph_;
  std::map<std::string, TensorInfo> tensors_;
};

void check_parameters(const Graph& graph, GraphWeights weights) {
  for (std::size_t i = 0; i < graph.convs.size(); ++i) {
    check_conv_geometry(graph.convs[i], i);
    if (weights == GraphWeights::kChecked) check_conv_weights(graph.convs[i], i);
  }
  for (std::size_t i = 0; i < graph.prelus.size(); ++i) {
    const PRelu& prelu = graph.prelus[i];
    if (!in_range(prelu.channels, 1, kMaxGraphChannels)) {
      throw Error("prelu " + std::to_string(i) + " has a slope count outside 1.." +
                  std::to_string(kMaxGraphChannels));
    }
    if (weights == GraphWeights::kChecked &&
        prelu.slope.size() != static_cast<std::size_t>(prelu.channels)) {
      throw Error("prelu " + std::to_string(i) + " has " + std::to_string(prelu.slope.size()) +
                  " slopes, its geometry needs " + std::to_string(prelu.channels));
    }
  }
}

bool same_value(Scale a, Scale b) {
  return static_cast<std::int64_t>(a.numerator) * b.denominator ==
         static_cast<std::int64_t>(b.numerator) * a.denominator;
}

}  // namespace

const char* graph_op_name(OpType op) {
  switch (op) {
    case OpType::kConv:
      return "conv";
    case OpType::kClip:
      return "clip";
    case OpType::kRelu:
      return "relu";
    case OpType::kDepthToSpace:
      return "depth_to_space";
    case OpType::kSpaceToDepth:
      return "space_to_depth";
    case OpType::kAdd:
      return "add";
    case OpType::kConcat:
      return "concat";
    case OpType::kConvTranspose:
      return "conv_transpose";
    case OpType::kPRelu:
      return "prelu";
    case OpType::kLeakyRelu:
      return "leaky_relu";
    case OpType::kSigmoid:
      return "sigmoid";
    case OpType::kTanh:
      return "tanh";
    case OpType::kMul:
      return "mul";
    case OpType::kSub:
      return "sub";
    case OpType::kAveragePool:
      return "average_pool";
    case OpType::kMaxPool:
      return "max_pool";
    case OpType::kResizeNearest:
      return "resize_nearest";
    case OpType::kResizeBilinear:
      return "resize_bilinear";
  }
  return "unknown";
}

int graph_op_version(OpType op) { return op <= OpType::kConcat ? 1 : 2; }

Scale infer_graph_scale(const Graph& graph, GraphWeights weights) {
  check_parameters(graph, weights);
  return ShapeInference(graph).run();
}

std::map<std::string, GraphTensor> infer_graph_tensors(const Graph& graph, GraphWeights weights) {
  check_parameters(graph, weights);
  ShapeInference inference(graph);
  inference.infer();
  return inference.tensors();
}

double graph_macs_per_input_pixel(const Graph& graph, GraphWeights weights) {
  const std::map<std::string, GraphTensor> tensors = infer_graph_tensors(graph, weights);
  double macs = 0.0;
  for (const GraphNode& node : graph.nodes) {
    if (node.op != OpType::kConv && node.op != OpType::kConvTranspose) continue;
    const Conv2d& conv = graph.convs[static_cast<std::size_t>(node.conv)];
    // Every weight is used once per output pixel of a conv, once per input pixel of a
    // transposed conv.
    const GraphTensor& at = tensors.at(conv.transposed ? node.inputs[0] : node.output);
    const double ratio = static_cast<double>(at.numerator) / static_cast<double>(at.denominator);
    macs += static_cast<double>(weight_count(conv)) * ratio * ratio;
  }
  return macs;
}

void check_graph(const Graph& graph, GraphWeights weights) {
  const Scale inferred = infer_graph_scale(graph, weights);
  if (graph.scale.denominator < 1 || !same_value(inferred, graph.scale)) {
    const bool upscales = inferred.numerator > inferred.denominator;
    throw Error("the graph is declared x" + graph.scale.to_string() +
                (upscales ? " but computes x" : " but does not upscale (it computes x") +
                inferred.to_string() + (upscales ? "" : ")"));
  }
}

}  // namespace quicksr
