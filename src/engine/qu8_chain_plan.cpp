// Recognises INT8 graphs that are a QuickSRNet-like chain (ABPN with and without its residual):
// 3x3 convs, each with its fused ReLU / Clip or none, then optionally the input repeated s^2
// times added to the last conv's u8 output (the add's Clip fused), and depth-to-space. Such a
// graph runs on the INT8 band pipeline with the rules of docs/quantization.md "General graphs".
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engine/graph_plan.hpp"
#include "engine/qu8_plan.hpp"
#include "model/graph_check.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

// What a matched chain packs into: the convs with their encodings, the residual add (if any) and
// the network's shape.
struct Qu8Chain {
  std::vector<QU8ChainConv> convs;
  std::optional<QU8RepeatedInputAdd> repeated_input_add;
  ChannelOrder order = ChannelOrder::kCRD;
};

// Walks the nodes in order along the one u8 tensor the chain carries (fused activations are part
// of their conv or add); the first node that does not extend it is the reason it is no chain.
class Qu8ChainMatcher : QU8GraphTensors {
 public:
  explicit Qu8ChainMatcher(const QuantizedGraph& net)
      : QU8GraphTensors(net), current_(net.graph.input) {}

  // The chain, or why the graph is not one.
  std::variant<Qu8Chain, std::string> match() {
    const Graph& graph = net_.graph;
    if (!graph.scale.is_integer()) return "its scale x" + graph.scale.to_string() + " is not whole";
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      if (layout_.absorbed[i]) continue;
      if (!accept(i)) {
        const GraphNode& node = graph.nodes[i];
        return "node '" + node.name + "' (" + graph_op_name(node.op) +
               ") does not continue a chain of plain 3x3 convs";
      }
    }
    const int s = graph.scale.numerator;
    if (current_ != graph.output || !spatial_ || chain_.convs.size() < 2 ||
        chain_.convs.back().conv.out_channels != 3 * s * s) {
      return std::string("it does not end in depth-to-space of a 3x3 conv chain");
    }
    return std::move(chain_);
  }

 private:
  bool reads_current_once(const GraphNode& node) const {
    return node.inputs.size() == 1 && node.inputs[0] == current_ &&
           (current_ == net_.graph.input || readers(current_) == 1);
  }

  bool accept(std::size_t i) {
    const GraphNode& node = net_.graph.nodes[i];
    switch (node.op) {
      case OpType::kConv:
        return accept_conv(i);
      case OpType::kConcat:
        return accept_anchor_concat(node);
      case OpType::kAdd:
        return accept_anchor_add(i);
      case OpType::kDepthToSpace:
        if (spatial_ || chain_.convs.empty() || !reads_current_once(node) ||
            node.block_size != net_.graph.scale.numerator) {
          return false;
        }
        chain_.order = node.order;
        spatial_ = true;
        current_ = node.output;
        return true;
      default:
        return false;
    }
  }

  bool accept_conv(std::size_t i) {
    const GraphNode& node = net_.graph.nodes[i];
    const QConv2d& conv = net_.convs.at(static_cast<std::size_t>(node.conv));
    const int channels = chain_.convs.empty() ? 3 : chain_.convs.back().conv.out_channels;
    if (added_ || spatial_ || !reads_current_once(node) || !is_plain_conv3x3(conv) ||
        conv.in_channels != channels) {
      return false;
    }
    const ActivationEncoding& output = encoding(output_of(i));
    chain_.convs.push_back(
        {conv, encoding(current_), output, quant::fused_activation_bounds(fused(i), output)});
    last_conv_unclamped_ = fused(i) == nullptr;
    current_ = output_of(i);
    return true;
  }

  // The input concatenated s^2 times (channel o is input channel o % 3).
  bool accept_anchor_concat(const GraphNode& node) {
    const int s = net_.graph.scale.numerator;
    if (static_cast<int>(node.inputs.size()) != s * s || readers(node.output) != 1) {
      return false;
    }
    for (const std::string& input : node.inputs) {
      if (input != net_.graph.input) return false;
    }
    anchor_ = node.output;
    return true;
  }

  // The last conv's u8 output plus the anchor, requantized with the add's fused clip.
  bool accept_anchor_add(std::size_t i) {
    const GraphNode& node = net_.graph.nodes[i];
    if (added_ || spatial_ || chain_.convs.empty() || !last_conv_unclamped_ || anchor_.empty() ||
        node.inputs.size() != 2 || readers(current_) != 1 ||
        !((node.inputs[0] == current_ && node.inputs[1] == anchor_) ||
          (node.inputs[1] == current_ && node.inputs[0] == anchor_))) {
      return false;
    }
    const ActivationEncoding& output = encoding(output_of(i));
    const ActivationEncoding& last = encoding(current_);
    const ActivationEncoding& anchor = encoding(anchor_);
    const ActivationEncoding& input = encoding(net_.graph.input);
    const float m_last = quant::requant_multiplier(last.scale, 1.0f, output.scale);
    const float m_anchor = quant::requant_multiplier(anchor.scale, 1.0f, output.scale);
    const float to_anchor = quant::requant_multiplier(input.scale, 1.0f, anchor.scale);
    const quant::ClampBounds bounds = quant::fused_activation_bounds(fused(i), output);
    QU8RepeatedInputAdd add;
    for (int q = 0; q < 256 * 256; ++q) {
      // The concat's rule (the input level requantized into its encoding), then the add's.
      const int repeated =
          quant::requantize((q & 255) - input.zero_point, to_anchor, anchor.zero_point, {0, 255});
      add.sum.push_back(quant::requantize_sum((q >> 8) - last.zero_point, m_last,
                                              repeated - anchor.zero_point, m_anchor,
                                              output.zero_point, bounds));
    }
    chain_.repeated_input_add = std::move(add);
    added_ = true;
    current_ = output_of(i);
    return true;
  }

  std::string current_;  // the u8 tensor the chain has reached
  std::string anchor_;   // the concat of input copies, once seen
  bool last_conv_unclamped_ = false;
  bool added_ = false;
  bool spatial_ = false;  // depth-to-space done
  Qu8Chain chain_;
};

std::variant<Qu8Chain, std::string> match_chain(const QuantizedGraph& net) {
  try {
    net.check();
  } catch (const Error& error) {
    throw Error(net.graph.architecture + ": " + error.what());
  }
  return Qu8ChainMatcher(net).match();
}

}  // namespace

std::optional<std::string> qu8_chain_unsupported_reason(const QuantizedGraph& net) {
  std::variant<Qu8Chain, std::string> matched = match_chain(net);
  if (const std::string* reason = std::get_if<std::string>(&matched)) return *reason;
  return std::nullopt;
}

QU8Plan make_qu8_chain_plan(const QuantizedGraph& net, const QU8Conv3x3Config& kernel) {
  std::variant<Qu8Chain, std::string> matched = match_chain(net);
  if (const std::string* reason = std::get_if<std::string>(&matched)) {
    throw Error("INT8 engine: " + net.graph.architecture + ": " + *reason +
                " (the INT8 engine runs ABPN-like conv chains only)");
  }
  Qu8Chain& chain = std::get<Qu8Chain>(matched);
  QU8Plan plan;
  plan.scale = net.graph.scale;
  plan.block = net.graph.scale.numerator;
  plan.order = chain.order;
  plan.features = chain.convs.front().conv.out_channels;
  plan.input = chain.convs.front().input;
  plan.output = quant::output_encoding(net);
  plan.repeated_input_add = chain.repeated_input_add;
  plan.convs = pack_qu8_chain(std::move(chain.convs), kernel, false);
  return plan;
}

}  // namespace quicksr::engine
