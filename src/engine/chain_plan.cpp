// Recognises general graphs that are a QuickSRNet-like chain (ABPN): 3x3 convs, each optionally
// followed by a clamp activation, then an optional input anchor, depth-to-space and a clip to
// [0, 1]. Such a graph runs on the QuickSRNet band pipeline (Winograd F(4,3), fused rows, memory
// bounded by bands) instead of the general-graph path (direct convs, each step on its own rows).
#include <map>
#include <optional>
#include <string>

#include "engine/graph_plan.hpp"
#include "engine/plan.hpp"
#include "model/graph_check.hpp"

namespace quicksr::engine {

namespace {

bool is_clip01(const GraphNode& node) {
  return node.op == OpType::kClip && node.clip_min == 0.0f && node.clip_max == 1.0f;
}

// ABPN's anchor, the input concatenated s^2 times (channel o is input channel o % 3), as the
// 1x1 conv the tail adds: weights 1 and 0, so each value is the input value exactly.
Conv2d repeated_input_anchor(int out_channels) {
  Conv2d anchor = Conv2d::zeros(3, out_channels, 1);
  anchor.bias.clear();
  for (int o = 0; o < out_channels; ++o) anchor.w(o, o % 3, 0, 0) = 1.0f;
  return anchor;
}

// Walks the nodes in order along the one tensor the chain carries; any node that does not extend
// the chain in the expected order makes the graph not a chain.
class ChainMatcher {
 public:
  ChainMatcher(const Graph& graph, const F32Kernels& kernels)
      : graph_(graph), kernels_(kernels), current_(graph.input) {
    for (const GraphNode& node : graph.nodes) {
      for (const std::string& input : node.inputs) ++readers_[input];
    }
  }

  std::optional<Plan> match() {
    const int s = graph_.scale.numerator;
    if (!graph_.scale.is_integer()) return std::nullopt;
    for (const GraphNode& node : graph_.nodes) {
      if (!accept(node, s)) return std::nullopt;
    }
    // A Clip(0, 1) right after the last conv (no anchor) is the tail's clip.
    if (!clipped_ && !plan_.anchor && !plan_.convs.empty() && plan_.convs.back().clamp &&
        plan_.convs.back().clamp_max == 1.0f) {
      plan_.convs.back().clamp = false;
      clipped_ = true;
    }
    if (current_ != graph_.output || !clipped_ || !spatial_ || plan_.convs.size() < 2 ||
        plan_.convs.back().out_channels != 3 * s * s) {
      return std::nullopt;
    }
    plan_.scale = graph_.scale;
    plan_.block = s;
    plan_.features = plan_.convs.front().out_channels;
    return std::move(plan_);
  }

 private:
  bool accept(const GraphNode& node, int s) {
    if (node.op == OpType::kConcat) return accept_anchor_concat(node, s);
    const bool reads_current = node.inputs.size() == 1 && node.inputs[0] == current_;
    if (node.op == OpType::kAdd) return accept_anchor_add(node);
    if (!reads_current || (current_ != graph_.input && readers_[current_] != 1)) return false;
    if (node.op == OpType::kConv) return accept_conv(node);
    if (last_was_conv_ && is_clamp_activation(node)) {
      plan_.convs.back().clamp = true;
      plan_.convs.back().clamp_max = clamp_upper_bound(node);
      return advance(node, false);
    }
    if (node.op == OpType::kDepthToSpace && !spatial_ && !plan_.convs.empty() &&
        node.block_size == s) {
      plan_.order = node.order;
      spatial_ = true;
      return advance(node, false);
    }
    if (is_clip01(node) && !clipped_ && !plan_.convs.empty()) {
      clipped_ = true;
      return advance(node, false);
    }
    return false;
  }

  bool accept_conv(const GraphNode& node) {
    const Conv2d& conv = graph_.convs.at(node.conv);
    const int channels = plan_.convs.empty() ? 3 : plan_.convs.back().out_channels;
    if (anchored_ || spatial_ || clipped_ || !is_plain_conv3x3(conv) ||
        conv.in_channels != channels) {
      return false;
    }
    // The first conv runs directly (3 input channels), every later one as Winograd (Plan::convs).
    plan_.convs.push_back(plan_.convs.empty() ? pack_conv3x3(conv, false, *kernels_.direct)
                                              : pack_conv3x3(conv, false, *kernels_.winograd));
    return advance(node, true);
  }

  bool accept_anchor_concat(const GraphNode& node, int s) {
    if (static_cast<int>(node.inputs.size()) != s * s || readers_[node.output] != 1) return false;
    for (const std::string& input : node.inputs) {
      if (input != graph_.input) return false;
    }
    anchor_tensor_ = node.output;
    return true;
  }

  // The last conv's raw output plus the anchor (the tail adds it before the clip).
  bool accept_anchor_add(const GraphNode& node) {
    if (!last_was_conv_ || anchor_tensor_.empty() || anchored_ || node.inputs.size() != 2 ||
        readers_[current_] != 1) {
      return false;
    }
    const bool current_first = node.inputs[0] == current_ && node.inputs[1] == anchor_tensor_;
    const bool anchor_first = node.inputs[1] == current_ && node.inputs[0] == anchor_tensor_;
    if (!current_first && !anchor_first) return false;
    plan_.anchor = repeated_input_anchor(plan_.convs.back().out_channels);
    anchored_ = true;
    return advance(node, false);
  }

  bool advance(const GraphNode& node, bool conv) {
    current_ = node.output;
    last_was_conv_ = conv;
    return true;
  }

  const Graph& graph_;
  const F32Kernels& kernels_;
  std::map<std::string, int> readers_;
  std::string current_;        // the tensor the chain has reached
  std::string anchor_tensor_;  // the concat of input copies, once seen
  bool last_was_conv_ = false;
  bool anchored_ = false;
  bool spatial_ = false;  // depth-to-space done
  bool clipped_ = false;
  Plan plan_;
};

}  // namespace

std::optional<Plan> make_chain_plan(const Graph& graph, const F32Kernels& kernels) {
  check_graph(graph);
  return ChainMatcher(graph, kernels).match();
}

}  // namespace quicksr::engine
