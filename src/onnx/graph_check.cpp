#include "onnx/graph_check.hpp"

#include <map>
#include <numeric>

#include "quicksr/error.hpp"

namespace quicksr::onnx_io {
namespace {

// Channels of a feature map and its resolution relative to the graph input, as a fraction.
struct TensorInfo {
  int channels = 0;
  long long numerator = 1;
  long long denominator = 1;

  TensorInfo rescaled(int channels_out, long long multiply, long long divide) const {
    TensorInfo result{channels_out, numerator * multiply, denominator * divide};
    const long long divisor = std::gcd(result.numerator, result.denominator);
    result.numerator /= divisor;
    result.denominator /= divisor;
    return result;
  }
  bool same_resolution(const TensorInfo& other) const {
    return numerator == other.numerator && denominator == other.denominator;
  }
};

class GraphChecker {
 public:
  GraphChecker(const Graph& graph, const std::string& file) : graph_(graph), file_(file) {}

  Scale run() {
    tensors_[graph_.input] = TensorInfo{3};
    for (const GraphNode& node : graph_.nodes) {
      const TensorInfo info = output_info(node);
      // Deep graphs of strided convs could overflow the fraction; no SR network gets near this.
      if (info.numerator > (1 << 20) || info.denominator > (1 << 20)) {
        fail(node, "implausible resolution change");
      }
      if (!tensors_.emplace(node.output, info).second) {
        fail(node, "output '" + node.output + "' is defined twice");
      }
    }
    auto output = tensors_.find(graph_.output);
    if (graph_.output.empty() || output == tensors_.end()) {
      throw Error(file_ + ": the graph output '" + graph_.output + "' is not computed by any node");
    }
    if (output->second.channels != 3) {
      throw Error(file_ + ": the graph output has " + std::to_string(output->second.channels) +
                  " channels; an SR model outputs 3 (RGB)");
    }
    return Scale{static_cast<int>(output->second.numerator),
                 static_cast<int>(output->second.denominator)};
  }

 private:
  [[noreturn]] void fail(const GraphNode& node, const std::string& problem) const {
    throw Error(file_ + ": node '" + node.name + "' (" + onnx_op_name(node.op) + "): " + problem);
  }

  const TensorInfo& input(const GraphNode& node, std::size_t index) const {
    if (index >= node.inputs.size()) fail(node, "missing input");
    auto it = tensors_.find(node.inputs[index]);
    if (it == tensors_.end()) {
      fail(node, "input '" + node.inputs[index] + "' is not computed before this node");
    }
    return it->second;
  }

  void expect_inputs(const GraphNode& node, std::size_t count) const {
    if (node.inputs.size() != count) {
      fail(node, "expected " + std::to_string(count) + " input(s), got " +
                     std::to_string(node.inputs.size()));
    }
  }

  TensorInfo output_info(const GraphNode& node) const {
    switch (node.op) {
      case OpType::kConv:
        return conv_info(node);
      case OpType::kClip:
        expect_inputs(node, 1);
        if (!(node.clip_min <= node.clip_max)) fail(node, "min is greater than max");
        return input(node, 0);
      case OpType::kRelu:
        expect_inputs(node, 1);
        return input(node, 0);
      case OpType::kDepthToSpace:
      case OpType::kSpaceToDepth:
        return block_info(node);
      case OpType::kAdd:
        return add_info(node);
      case OpType::kConcat:
        return concat_info(node);
    }
    fail(node, "unknown operation");
  }

  TensorInfo conv_info(const GraphNode& node) const {
    expect_inputs(node, 1);
    const TensorInfo& in = input(node, 0);
    if (node.conv < 0 || node.conv >= static_cast<int>(graph_.convs.size())) {
      fail(node, "refers to a missing convolution");
    }
    const Conv2d& conv = graph_.convs[node.conv];
    if (conv.groups < 1 || conv.in_channels % conv.groups != 0 ||
        conv.out_channels % conv.groups != 0) {
      fail(node, "groups must divide the input and output channels");
    }
    if (conv.kernel_h < 1 || conv.kernel_w < 1 || conv.stride < 1 || conv.pad_top < 0 ||
        conv.pad_left < 0 || conv.pad_bottom < 0 || conv.pad_right < 0) {
      fail(node, "invalid kernel size, stride or padding");
    }
    const std::size_t weights = static_cast<std::size_t>(conv.out_channels) *
                                (conv.in_channels / conv.groups) * conv.kernel_h * conv.kernel_w;
    if (conv.weight.size() != weights ||
        (!conv.bias.empty() && conv.bias.size() != static_cast<std::size_t>(conv.out_channels))) {
      fail(node, "weight or bias size does not match the convolution's shape");
    }
    if (conv.in_channels != in.channels) {
      fail(node, "expects " + std::to_string(conv.in_channels) + " input channels, gets " +
                     std::to_string(in.channels));
    }
    return in.rescaled(conv.out_channels, 1, conv.stride);
  }

  TensorInfo block_info(const GraphNode& node) const {
    expect_inputs(node, 1);
    const TensorInfo& in = input(node, 0);
    const int block = node.block_size;
    if (block < 1 || block > 16) fail(node, "block size must be in [1, 16]");
    if (node.op == OpType::kSpaceToDepth) return in.rescaled(in.channels * block * block, 1, block);
    if (in.channels % (block * block) != 0) {
      fail(node, std::to_string(in.channels) + " channels are not divisible by block size^2");
    }
    return in.rescaled(in.channels / (block * block), block, 1);
  }

  TensorInfo add_info(const GraphNode& node) const {
    expect_inputs(node, 2);
    const TensorInfo& a = input(node, 0);
    const TensorInfo& b = input(node, 1);
    if (a.channels != b.channels || !a.same_resolution(b)) {
      fail(node, "adds feature maps of different shapes");
    }
    return a;
  }

  TensorInfo concat_info(const GraphNode& node) const {
    if (node.inputs.empty()) fail(node, "no inputs");
    TensorInfo result = input(node, 0);
    for (std::size_t i = 1; i < node.inputs.size(); ++i) {
      const TensorInfo& part = input(node, i);
      if (!part.same_resolution(result)) fail(node, "concatenates feature maps of different sizes");
      result.channels += part.channels;
    }
    return result;
  }

  const Graph& graph_;
  const std::string& file_;
  std::map<std::string, TensorInfo> tensors_;
};

}  // namespace

const char* onnx_op_name(OpType op) {
  switch (op) {
    case OpType::kConv:
      return "Conv";
    case OpType::kClip:
      return "Clip";
    case OpType::kRelu:
      return "Relu";
    case OpType::kDepthToSpace:
      return "DepthToSpace";
    case OpType::kSpaceToDepth:
      return "SpaceToDepth";
    case OpType::kAdd:
      return "Add";
    case OpType::kConcat:
      return "Concat";
  }
  return "?";
}

Scale check_graph(const Graph& graph, const std::string& file) {
  return GraphChecker(graph, file).run();
}

}  // namespace quicksr::onnx_io
