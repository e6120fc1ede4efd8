#include "model/graph_check.hpp"

#include <array>
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

// Channels of a feature map and its resolution relative to the graph input, as a fraction.
struct TensorInfo {
  std::int64_t channels = 0;
  std::int64_t numerator = 1;
  std::int64_t denominator = 1;

  bool same_resolution(const TensorInfo& other) const {
    return numerator == other.numerator && denominator == other.denominator;
  }
};

std::string conv_name(std::size_t index) { return "conv " + std::to_string(index); }

bool in_range(std::int64_t value, std::int64_t lo, std::int64_t hi) {
  return value >= lo && value <= hi;
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
  if (!in_range(conv.kernel_h, 1, kMaxKernel) || !in_range(conv.kernel_w, 1, kMaxKernel)) {
    throw Error(where + " has a kernel size outside 1.." + std::to_string(kMaxKernel));
  }
  if (!in_range(conv.stride, 1, kMaxKernel)) throw Error(where + " has an invalid stride");
  for (int pad : {conv.pad_top, conv.pad_left, conv.pad_bottom, conv.pad_right}) {
    if (!in_range(pad, 0, kMaxKernel)) throw Error(where + " has an invalid padding");
  }
  // Output size floor((n*s + pads - k) / s) + 1 equals n for every n exactly when
  // k - s <= pads <= k - 1: only then is the resolution change the stride and nothing else.
  const auto keeps_resolution = [&](int kernel, int pads) {
    return pads >= kernel - conv.stride && pads <= kernel - 1;
  };
  if (!keeps_resolution(conv.kernel_h, conv.pad_top + conv.pad_bottom) ||
      !keeps_resolution(conv.kernel_w, conv.pad_left + conv.pad_right)) {
    throw Error(where + " has a " + std::to_string(conv.kernel_h) + "x" +
                std::to_string(conv.kernel_w) + " kernel with stride " +
                std::to_string(conv.stride) +
                " and padding that does not keep the size (only the stride may change it)");
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
    if (graph_.input.empty()) throw Error("the graph input has no name");
    tensors_[graph_.input] = TensorInfo{3};
    for (const GraphNode& node : graph_.nodes) {
      const TensorInfo info = output_info(node);
      if (info.numerator > kMaxResolutionTerm || info.denominator > kMaxResolutionTerm) {
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
    return Scale{static_cast<int>(output->second.numerator),
                 static_cast<int>(output->second.denominator)};
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
    if (conv.in_channels != in.channels) {
      fail(node, "expects " + std::to_string(conv.in_channels) + " input channels, gets " +
                     std::to_string(in.channels));
    }
    TensorInfo out = rescaled(in, 1, conv.stride);
    out.channels = conv.out_channels;
    return out;
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
    if (node.inputs.empty()) fail(node, "has no inputs");
    TensorInfo result = input(node, 0);
    for (std::size_t i = 1; i < node.inputs.size(); ++i) {
      const TensorInfo& part = input(node, i);
      if (!part.same_resolution(result)) fail(node, "concatenates feature maps of different sizes");
      result.channels = checked_channels(node, result.channels + part.channels);
    }
    return result;
  }

  const Graph& graph_;
  std::map<std::string, TensorInfo> tensors_;
};

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
  }
  return "unknown";
}

Scale infer_graph_scale(const Graph& graph, GraphWeights weights) {
  for (std::size_t i = 0; i < graph.convs.size(); ++i) {
    check_conv_geometry(graph.convs[i], i);
    if (weights == GraphWeights::kChecked) check_conv_weights(graph.convs[i], i);
  }
  return ShapeInference(graph).run();
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
