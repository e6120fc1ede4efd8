#include "onnx/quicksrnet_graph.hpp"

#include <cmath>
#include <map>

#include "model/layout.hpp"
#include "onnx/channel_order.hpp"

namespace quicksr::onnx_io {
namespace {

constexpr int kUnshuffleBlock = 2;  // x1.5: space-to-depth(2), then depth-to-space(3)

int shuffle_block(Scale scale) { return scale.is_integer() ? scale.numerator : 3; }

// Appends nodes to a graph under construction; each node's output tensor is named after it.
class GraphBuilder {
 public:
  explicit GraphBuilder(Graph& graph) : graph_(graph) {}

  std::string conv(const std::string& name, const std::string& input, Conv2d conv) {
    GraphNode node = make(OpType::kConv, name, {input});
    node.conv = static_cast<int>(graph_.convs.size());
    graph_.convs.push_back(std::move(conv));
    return add(std::move(node));
  }
  std::string clip(const std::string& name, const std::string& input) {
    GraphNode node = make(OpType::kClip, name, {input});
    node.clip_min = 0.0f;
    node.clip_max = 1.0f;
    return add(std::move(node));
  }
  // ReLU1 as Clip(0, 1), ReLU as Relu; named "<conv>.relu1" / "<conv>.relu".
  std::string activation(const std::string& conv, const std::string& input, Activation kind) {
    const std::string name = conv + "." + activation_name(kind);
    return kind == Activation::kReLU ? add(make(OpType::kRelu, name, {input})) : clip(name, input);
  }
  std::string block_op(OpType op, const std::string& name, const std::string& input, int block,
                       ChannelOrder order) {
    GraphNode node = make(op, name, {input});
    node.block_size = block;
    node.order = order;
    return add(std::move(node));
  }
  std::string add_tensors(const std::string& name, const std::string& a, const std::string& b) {
    return add(make(OpType::kAdd, name, {a, b}));
  }

 private:
  static GraphNode make(OpType op, const std::string& name, std::vector<std::string> inputs) {
    GraphNode node;
    node.op = op;
    node.name = name;
    node.inputs = std::move(inputs);
    node.output = name;
    return node;
  }
  std::string add(GraphNode node) {
    graph_.nodes.push_back(std::move(node));
    return graph_.nodes.back().output;
  }

  Graph& graph_;
};

// Read-only navigation of a graph from tensors to the nodes computing them.
class GraphView {
 public:
  explicit GraphView(const Graph& graph) : graph_(graph) {
    for (const GraphNode& node : graph.nodes) producers_[node.output] = &node;
  }
  const GraphNode* producer(const std::string& tensor, OpType op) const {
    auto it = producers_.find(tensor);
    return it != producers_.end() && it->second->op == op ? it->second : nullptr;
  }
  const GraphNode* relu1(const std::string& tensor) const {
    const GraphNode* node = producer(tensor, OpType::kClip);
    return node && node->clip_min == 0.0f && node->clip_max == 1.0f ? node : nullptr;
  }
  // The ReLU1 (Clip(0, 1)) or ReLU (Relu, or Clip(0, +inf)) computing `tensor`, or nullopt.
  std::optional<std::pair<const GraphNode*, Activation>> activation(
      const std::string& tensor) const {
    if (const GraphNode* node = relu1(tensor)) return std::pair{node, Activation::kReLU1};
    if (const GraphNode* node = producer(tensor, OpType::kRelu)) {
      return std::pair{node, Activation::kReLU};
    }
    const GraphNode* node = producer(tensor, OpType::kClip);
    if (node && node->clip_min == 0.0f && std::isinf(node->clip_max) && node->clip_max > 0.0f) {
      return std::pair{node, Activation::kReLU};
    }
    return std::nullopt;
  }
  const Conv2d& conv(const GraphNode& node) const { return graph_.convs[node.conv]; }

 private:
  const Graph& graph_;
  std::map<std::string, const GraphNode*> producers_;
};

// The conv nodes of a recognised QuickSRNet graph.
struct QuickSRNetNodes {
  std::vector<const GraphNode*> chain;         // first, then body
  Activation activation = Activation::kReLU1;  // the same after every conv of the chain
  const GraphNode* last = nullptr;
  const GraphNode* anchor = nullptr;
  const GraphNode* unshuffle = nullptr;  // x1.5 only
  const GraphNode* shuffle = nullptr;
  int node_count = 0;
};

std::optional<QuickSRNetNodes> find_quicksrnet_nodes(const Graph& graph) {
  const GraphView view(graph);
  QuickSRNetNodes found;
  found.shuffle = view.producer(graph.output, OpType::kDepthToSpace);
  if (!found.shuffle) return std::nullopt;
  const GraphNode* output_clip = view.relu1(found.shuffle->inputs[0]);
  if (!output_clip) return std::nullopt;
  std::string sum = output_clip->inputs[0];
  found.node_count = 2;
  if (const GraphNode* add = view.producer(sum, OpType::kAdd)) {
    // The anchor is the addend computed from the input; the other is the last conv.
    for (int i = 0; i < 2 && !found.anchor; ++i) {
      const GraphNode* conv = view.producer(add->inputs[i], OpType::kConv);
      if (conv && conv->inputs[0] == graph.input) {
        found.anchor = conv;
        sum = add->inputs[1 - i];
      }
    }
    if (!found.anchor) return std::nullopt;
    found.node_count += 2;
  }
  found.last = view.producer(sum, OpType::kConv);
  if (!found.last) return std::nullopt;
  std::string features = found.last->inputs[0];
  found.unshuffle = view.producer(features, OpType::kSpaceToDepth);
  if (found.unshuffle) features = found.unshuffle->inputs[0];
  found.node_count += found.unshuffle ? 2 : 1;
  // Walk the conv-activation chain back to the input (one kind of activation throughout).
  while (features != graph.input) {
    const auto activation = view.activation(features);
    if (!activation || (!found.chain.empty() && activation->second != found.activation)) {
      return std::nullopt;
    }
    found.activation = activation->second;
    const GraphNode* conv = view.producer(activation->first->inputs[0], OpType::kConv);
    if (!conv) return std::nullopt;
    found.chain.insert(found.chain.begin(), conv);
    features = conv->inputs[0];
    found.node_count += 2;
  }
  // Any node outside the pattern (a side branch) makes it a general graph.
  if (found.chain.empty() || found.node_count != static_cast<int>(graph.nodes.size())) {
    return std::nullopt;
  }
  return found;
}

std::optional<Scale> quicksrnet_scale(const QuickSRNetNodes& nodes) {
  const int block = nodes.shuffle->block_size;
  if (nodes.unshuffle) {
    if (nodes.unshuffle->block_size != kUnshuffleBlock || block != 3) return std::nullopt;
    return Scale{3, 2};
  }
  if (block < 2 || block > 4) return std::nullopt;
  return Scale{block, 1};
}

bool same_geometry(const Conv2d& a, const Conv2d& b) {
  return a.in_channels == b.in_channels && a.out_channels == b.out_channels &&
         a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w && a.stride == b.stride &&
         a.pad_top == b.pad_top && a.pad_left == b.pad_left && a.pad_bottom == b.pad_bottom &&
         a.pad_right == b.pad_right && a.groups == b.groups;
}

// Copies `source` into `target` (shaped by QuickSRNet::zeros); a missing bias stays zero.
bool copy_conv(const Conv2d& source, Conv2d& target) {
  if (!same_geometry(source, target) || (target.bias.empty() && !source.bias.empty())) return false;
  target.weight = source.weight;
  if (!source.bias.empty()) target.bias = source.bias;
  return true;
}

}  // namespace

Graph quicksrnet_to_graph(const QuickSRNet& net, ChannelOrder order) {
  const QuickSRNetConfig& config = net.config;
  const int block = shuffle_block(config.scale);
  Graph graph;
  graph.architecture = "quicksrnet";
  graph.scale = config.scale;
  GraphBuilder builder(graph);
  std::string x =
      builder.activation("first", builder.conv("first", graph.input, net.first), config.activation);
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    const std::string name = "body." + std::to_string(i);
    x = builder.activation(name, builder.conv(name, x, net.body[i]), config.activation);
  }
  const std::vector<int> to_output_order =
      block_channel_permutation(3 * block * block, block, config.order, order);
  Conv2d last = permute_output_channels(net.last, to_output_order);
  if (!config.scale.is_integer()) {
    x = builder.block_op(OpType::kSpaceToDepth, "unshuffle", x, kUnshuffleBlock,
                         ChannelOrder::kDCR);
    last =
        permute_input_channels(last, block_channel_permutation(last.in_channels, kUnshuffleBlock,
                                                               config.order, ChannelOrder::kDCR));
  }
  x = builder.conv("last", x, std::move(last));
  if (config.anchor) {
    const std::string anchor = builder.conv(
        "anchor", graph.input, permute_output_channels(net.anchor.at(0), to_output_order));
    x = builder.add_tensors("anchor.add", x, anchor);
  }
  graph.output =
      builder.block_op(OpType::kDepthToSpace, "shuffle", builder.clip("clip", x), block, order);
  return graph;
}

std::optional<QuickSRNet> graph_to_quicksrnet(const Graph& graph) {
  const std::optional<QuickSRNetNodes> nodes = find_quicksrnet_nodes(graph);
  if (!nodes) return std::nullopt;
  const std::optional<Scale> scale = quicksrnet_scale(*nodes);
  if (!scale) return std::nullopt;
  const GraphView view(graph);
  QuickSRNetConfig config;
  config.features = view.conv(*nodes->chain.front()).out_channels;
  config.blocks = static_cast<int>(nodes->chain.size()) - 1;
  config.scale = *scale;
  config.anchor = nodes->anchor != nullptr;
  config.order = ChannelOrder::kCRD;
  config.activation = nodes->activation;
  if (config.features < kMinFeatures || config.features > kMaxFeatures ||
      config.blocks > kMaxBlocks) {
    return std::nullopt;
  }
  QuickSRNet net = QuickSRNet::zeros(config);
  bool fits = copy_conv(view.conv(*nodes->chain.front()), net.first);
  for (int i = 0; i < config.blocks; ++i) {
    fits = fits && copy_conv(view.conv(*nodes->chain[i + 1]), net.body[i]);
  }
  fits = fits && copy_conv(view.conv(*nodes->last), net.last);
  if (config.anchor) fits = fits && copy_conv(view.conv(*nodes->anchor), net.anchor.at(0));
  if (!fits) return std::nullopt;
  // Back to CRD: output channels from the file's depth-to-space order, and (x1.5) the last conv's
  // input channels from ONNX's DCR space-to-depth.
  const int block = shuffle_block(config.scale);
  const std::vector<int> to_crd = block_channel_permutation(
      3 * block * block, block, nodes->shuffle->order, ChannelOrder::kCRD);
  net.last = permute_output_channels(net.last, to_crd);
  if (config.anchor) net.anchor[0] = permute_output_channels(net.anchor[0], to_crd);
  if (nodes->unshuffle) {
    net.last = permute_input_channels(
        net.last, block_channel_permutation(net.last.in_channels, kUnshuffleBlock,
                                            nodes->unshuffle->order, ChannelOrder::kCRD));
  }
  net.check();
  return net;
}

}  // namespace quicksr::onnx_io
