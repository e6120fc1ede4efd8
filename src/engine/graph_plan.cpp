#include "engine/graph_plan.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "engine/phase_conv.hpp"
#include "model/graph_check.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

bool is_activation(OpType op) {
  return op == OpType::kRelu || op == OpType::kClip || op == OpType::kPRelu ||
         op == OpType::kLeakyRelu || op == OpType::kSigmoid || op == OpType::kTanh;
}

// A window the row maps take as they take columns: square, no padding (ESA's strided conv and
// pool).
bool is_unpadded_square(int kernel_h, int kernel_w, int top, int left, int bottom, int right) {
  return kernel_h == kernel_w && top == 0 && left == 0 && bottom == 0 && right == 0;
}

std::optional<std::string> conv_problem(const Conv2d& conv) {
  if (conv.transposed) return "ConvTranspose";
  if (conv.stride != 1) {
    if (is_unpadded_square(conv.kernel_h, conv.kernel_w, conv.pad_top, conv.pad_left,
                           conv.pad_bottom, conv.pad_right) &&
        conv.kernel_h <= 2 * kGraphMaxPadding + 1) {
      return std::nullopt;
    }
    return "a conv with stride " + std::to_string(conv.stride) +
           " and padding or a non-square kernel";
  }
  const bool same = conv.pad_top + conv.pad_bottom == conv.kernel_h - 1 &&
                    conv.pad_left + conv.pad_right == conv.kernel_w - 1;
  if (!same) return "a conv whose padding changes the size";
  if (std::max({conv.pad_top, conv.pad_left, conv.pad_bottom, conv.pad_right}) > kGraphMaxPadding) {
    return "a conv padded by more than " + std::to_string(kGraphMaxPadding);
  }
  return std::nullopt;
}

std::optional<std::string> node_problem(const Graph& graph, const GraphNode& node) {
  if (node.op == OpType::kConv) return conv_problem(graph.convs.at(node.conv));
  if (is_activation(node.op) || node.op == OpType::kAdd || node.op == OpType::kConcat ||
      node.op == OpType::kDepthToSpace || node.op == OpType::kResizeBilinear) {
    return std::nullopt;
  }
  if (node.op == OpType::kMaxPool) {
    const Pool2d& p = node.pool;
    if (is_unpadded_square(p.kernel, p.kernel, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right)) {
      return std::nullopt;
    }
    return "a max pool with padding";
  }
  if (node.op == OpType::kMul) return std::nullopt;
  return std::string(graph_op_name(node.op));
}

// One group of a conv (groups 1) with its own weights.
Conv2d group_slice(const Conv2d& conv, int group) {
  const int in = conv.in_channels / conv.groups;
  const int out = conv.out_channels / conv.groups;
  Conv2d slice = conv;
  slice.in_channels = in;
  slice.out_channels = out;
  slice.groups = 1;
  const std::size_t per_group = static_cast<std::size_t>(out) * in * conv.kernel_h * conv.kernel_w;
  slice.weight.assign(conv.weight.begin() + group * per_group,
                      conv.weight.begin() + (group + 1) * per_group);
  if (!conv.bias.empty()) {
    slice.bias.assign(conv.bias.begin() + group * out, conv.bias.begin() + (group + 1) * out);
  }
  return slice;
}

// A grouped conv as one dense conv: zero weights between groups.
Conv2d densified(const Conv2d& conv) {
  Conv2d dense = conv;
  dense.groups = 1;
  dense.weight.assign(static_cast<std::size_t>(conv.out_channels) * conv.in_channels *
                          conv.kernel_h * conv.kernel_w,
                      0.0f);
  const int in = conv.in_channels / conv.groups;
  const int out = conv.out_channels / conv.groups;
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int i = 0; i < in; ++i) {
      for (int ky = 0; ky < conv.kernel_h; ++ky) {
        for (int kx = 0; kx < conv.kernel_w; ++kx) {
          dense.w(o, (o / out) * in + i, ky, kx) = conv.w(o, i, ky, kx);
        }
      }
    }
  }
  return dense;
}

GraphConv pack_graph_conv(const Conv2d& original, const F32Kernels& kernels) {
  GraphConv packed;
  packed.kernel_h = original.kernel_h;
  packed.kernel_w = original.kernel_w;
  packed.pad_top = original.pad_top;
  packed.pad_left = original.pad_left;
  packed.stride = original.stride;
  packed.direct3x3 = original.kernel_h == 3 && original.kernel_w == 3 && original.pad_top == 1 &&
                     original.pad_left == 1;
  const F32ConvConfig& config = packed.direct3x3 ? *kernels.direct : *kernels.conv;
  const int channel_group = config.channel_group;
  const bool split =
      original.groups > 1 && (original.out_channels / original.groups) % channel_group == 0;
  const Conv2d conv = original.groups > 1 && !split ? densified(original) : original;
  packed.groups = conv.groups;
  packed.in_per_group = conv.in_channels / conv.groups;
  packed.out_per_group = conv.out_channels / conv.groups;
  packed.padded_out_per_group =
      (packed.out_per_group + channel_group - 1) / channel_group * channel_group;
  for (int g = 0; g < conv.groups; ++g) {
    const Conv2d slice = conv.groups == 1 ? conv : group_slice(conv, g);
    packed.weights.push_back(config.pack(slice, channel_group));
    std::vector<float> bias(packed.padded_out_per_group, 0.0f);
    if (!slice.bias.empty()) std::copy(slice.bias.begin(), slice.bias.end(), bias.begin());
    packed.bias.push_back(std::move(bias));
  }
  return packed;
}

class PlanBuilder {
 public:
  PlanBuilder(const Graph& graph, const F32Kernels& kernels)
      : graph_(graph), kernels_(kernels), shapes_(infer_graph_tensors(graph)) {}

  GraphPlan build() {
    plan_.scale = graph_.scale.numerator;
    plan_.input = tensor_of(graph_.input);
    count_readers();
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      if (fused_.count(n)) continue;
      if (!merge_pointwise(graph_.nodes[n])) add_step(graph_.nodes[n]);
    }
    plan_.output = tensor_of(graph_.output);
    plan_.bands = bands();
    return std::move(plan_);
  }

 private:
  int tensor_of(const std::string& name) {
    const auto found = index_.find(name);
    if (found != index_.end()) return found->second;
    const GraphTensor& shape = shapes_.at(name);
    PlannedTensor tensor;
    tensor.channels = static_cast<int>(shape.channels);
    tensor.planes = tensor.channels;
    tensor.factor = shape.exact && shape.denominator == 1 ? static_cast<int>(shape.numerator) : 1;
    plan_.tensors.push_back(tensor);
    return index_[name] = static_cast<int>(plan_.tensors.size()) - 1;
  }

  // A conv whose only reader is an activation runs it (that node is skipped): in its store when
  // the kernel's clamp can, else on each output row.
  void count_readers() {
    std::map<std::string, std::vector<std::size_t>> readers;
    for (std::size_t n = 0; n < graph_.nodes.size(); ++n) {
      for (const std::string& input : graph_.nodes[n].inputs) readers[input].push_back(n);
    }
    for (const auto& [tensor, r] : readers) reader_count_[tensor] = r.size();
    for (const GraphNode& node : graph_.nodes) {
      if (node.op != OpType::kConv || node.output == graph_.output) continue;
      const std::vector<std::size_t>& r = readers[node.output];
      if (r.size() == 1 && is_activation(graph_.nodes[r[0]].op)) activation_of_[node.name] = r[0];
    }
    for (const auto& [conv, activation] : activation_of_) fused_.insert(activation);
  }

  // A 1x1 conv whose input is the previous step's conv output, read by it alone (XLSR's 3x3 +
  // ReLU + 1x1 pairs), joins that step: it runs on each of its output rows.
  bool merge_pointwise(const GraphNode& node) {
    if (node.op != OpType::kConv || plan_.steps.empty()) return false;
    const Conv2d& conv = graph_.convs.at(node.conv);
    GraphStep& previous = plan_.steps.back();
    if (conv.kernel_h != 1 || conv.kernel_w != 1 || conv.groups != 1 || conv.stride != 1 ||
        previous.kind != GraphStepKind::kConv || previous.pointwise >= 0 ||
        plan_.convs[previous.conv].stride != 1 || previous.row_activation ||
        previous.output != tensor_of(node.inputs[0]) || reader_count_[node.inputs[0]] != 1 ||
        node.inputs[0] == graph_.output) {
      return false;
    }
    std::string output = node.output;
    GraphStep merged;
    add_conv(merged, node, output);
    previous.pointwise = merged.conv;
    previous.row_activation = merged.row_activation;
    previous.slopes = merged.slopes;
    previous.output = tensor_of(output);
    plan_.tensors[previous.output].planes = plan_.convs.back().padded_out_per_group;
    return true;
  }

  void add_step(const GraphNode& node) {
    GraphStep step;
    step.node = node;
    for (const std::string& input : node.inputs) step.inputs.push_back(tensor_of(input));
    std::string output = node.output;
    switch (node.op) {
      case OpType::kConv:
        step.kind = GraphStepKind::kConv;
        add_conv(step, node, output);
        break;
      case OpType::kAdd:
      case OpType::kMul:
        step.kind = GraphStepKind::kBinary;
        break;
      case OpType::kMaxPool:
        step.kind = GraphStepKind::kMaxPool;
        break;
      case OpType::kResizeBilinear:
        step.kind = GraphStepKind::kResize;
        break;
      case OpType::kConcat:
        step.kind = GraphStepKind::kConcat;
        break;
      case OpType::kDepthToSpace:
        step.kind = GraphStepKind::kDepthToSpace;
        break;
      default:
        step.kind = GraphStepKind::kUnary;
        if (node.op == OpType::kPRelu) step.slopes = graph_.prelus.at(node.prelu).slope;
    }
    step.output = tensor_of(output);
    if (step.kind == GraphStepKind::kConv) {
      const GraphConv& conv = plan_.convs.back();
      if (conv.groups == 1) plan_.tensors[step.output].planes = conv.padded_out_per_group;
    }
    plan_.steps.push_back(std::move(step));
  }

  void add_conv(GraphStep& step, const GraphNode& node, std::string& output) {
    const Conv2d& conv = graph_.convs.at(node.conv);
    GraphConv packed = pack_graph_conv(conv, kernels_);
    const GraphTensor& shape = shapes_.at(node.output);
    const double factor = static_cast<double>(shape.numerator) / shape.denominator;
    plan_.macs_per_pixel += factor * factor * packed.groups * packed.in_per_group *
                            packed.padded_out_per_group * conv.kernel_h * conv.kernel_w;
    const auto activation = activation_of_.find(node.name);
    if (activation != activation_of_.end()) {
      const GraphNode& fused = graph_.nodes[activation->second];
      if (is_clamp_activation(fused)) {
        packed.clamp = true;
        packed.clamp_max = clamp_upper_bound(fused);
      } else {
        step.row_activation = fused;
        if (fused.op == OpType::kPRelu) step.slopes = graph_.prelus.at(fused.prelu).slope;
      }
      output = fused.output;
    }
    step.conv = static_cast<int>(plan_.convs.size());
    plan_.convs.push_back(std::move(packed));
  }

  // A conv or pool reads its window's rows (at its stride), a depth-to-space a row per block of
  // rows, a resize the rows around its source position, the rest the row.
  GraphBands bands() {
    std::vector<BandStep> steps;
    for (const GraphStep& step : plan_.steps) {
      RowReach reach;
      std::vector<int> inputs = step.inputs;
      if (step.kind == GraphStepKind::kConv) {
        const GraphConv& conv = plan_.convs[step.conv];
        reach.above = conv.pad_top;
        reach.below = conv.kernel_h - 1 - conv.pad_top;
        reach.stride = conv.stride;
        reach.shrink = conv.stride == 1 ? 0 : conv.kernel_h - 1;  // strided convs: no padding
      } else if (step.kind == GraphStepKind::kMaxPool) {
        reach.below = reach.shrink = step.node.pool.kernel - 1;
        reach.stride = step.node.pool.stride;
      } else if (step.kind == GraphStepKind::kResize) {
        reach.resize_to = step.inputs[1];
        inputs.resize(1);  // the size tensor's rows are not read
      } else if (step.kind == GraphStepKind::kDepthToSpace) {
        reach.block = step.node.block_size;
      }
      steps.push_back({inputs, step.output, reach});
    }
    std::vector<int> factors;
    for (const PlannedTensor& tensor : plan_.tensors) factors.push_back(tensor.factor);
    return GraphBands(std::move(steps), std::move(factors), plan_.input, plan_.output);
  }

  const Graph& graph_;
  const F32Kernels& kernels_;
  std::map<std::string, GraphTensor> shapes_;
  GraphPlan plan_;
  std::map<std::string, int> index_;
  std::map<std::string, std::size_t> activation_of_;  // conv node name -> activation node
  std::map<std::string, std::size_t> reader_count_;   // tensor name -> nodes reading it
  std::set<std::size_t> fused_;                       // activation nodes run inside a conv
};

}  // namespace

bool is_clamp_activation(const GraphNode& node) {
  return node.op == OpType::kRelu ||
         (node.op == OpType::kClip && node.clip_min == 0.0f && node.clip_max > 0.0f);
}

float clamp_upper_bound(const GraphNode& node) {
  return node.op == OpType::kRelu ? std::numeric_limits<float>::infinity() : node.clip_max;
}

// Each transposed conv that upscales by its stride as its phase conv, then depth-to-space
// (phase_conv.hpp): the engine runs both.
Graph with_phase_convs(const Graph& graph) {
  Graph result = graph;
  result.nodes.clear();
  for (const GraphNode& node : graph.nodes) {
    const std::optional<Conv2d> phases =
        node.op == OpType::kConvTranspose
            ? as_phase_conv(graph.convs.at(node.conv), graph.convs.at(node.conv).stride,
                            2 * kGraphMaxPadding + 1)
            : std::nullopt;
    if (!phases) {
      result.nodes.push_back(node);
      continue;
    }
    GraphNode conv = node;
    conv.op = OpType::kConv;
    conv.conv = static_cast<int>(result.convs.size());
    conv.output = node.output + "/phases";
    result.convs.push_back(*phases);
    GraphNode shuffle;
    shuffle.op = OpType::kDepthToSpace;
    shuffle.name = node.name + "/depth_to_space";
    shuffle.inputs = {conv.output};
    shuffle.output = node.output;
    shuffle.block_size = graph.convs.at(node.conv).stride;
    shuffle.order = ChannelOrder::kCRD;
    result.nodes.push_back(std::move(conv));
    result.nodes.push_back(std::move(shuffle));
  }
  return result;
}

std::optional<std::string> unsupported_reason(const Graph& original) {
  check_graph(original);
  if (!original.scale.is_integer()) {
    return "a non-integer scale (" + original.scale.to_string() + ")";
  }
  const Graph graph = with_phase_convs(original);
  for (const GraphNode& node : graph.nodes) {
    if (const auto problem = node_problem(graph, node)) {
      return "node '" + node.name + "' is " + *problem;
    }
  }
  // Tensors of other sizes (ESA's strided conv and pool) flow only through convs, unaries, pools
  // and resizes: what joins tensors, shuffles them or leaves the graph is at whole multiples.
  const std::map<std::string, GraphTensor> tensors = infer_graph_tensors(graph);
  const auto whole = [&](const std::string& name) -> std::optional<std::string> {
    const GraphTensor& tensor = tensors.at(name);
    if (tensor.exact && tensor.denominator == 1) return std::nullopt;
    return "tensor '" + name + "' is not an integer multiple of the input size";
  };
  for (const GraphNode& node : graph.nodes) {
    const bool joins = node.op == OpType::kAdd || node.op == OpType::kMul ||
                       node.op == OpType::kConcat || node.op == OpType::kDepthToSpace;
    for (const std::string& input : joins ? node.inputs : std::vector<std::string>()) {
      if (const auto problem = whole(input)) return problem;
    }
    if (node.op == OpType::kMul &&
        tensors.at(node.inputs[0]).channels != tensors.at(node.inputs[1]).channels) {
      return "node '" + node.name + "' is a mul that broadcasts channels";
    }
  }
  if (const auto problem = whole(graph.output)) return problem;
  return std::nullopt;
}

GraphPlan make_graph_plan(const Graph& graph, const F32Kernels& kernels) {
  if (const auto reason = unsupported_reason(graph)) {
    throw Error("engine: cannot run this graph: " + *reason);
  }
  // SESR's training form (kxk expand to 256, 1x1 squeeze, residual add) runs as its collapsed
  // convs: the same function, up to fp32 rounding, with 19x fewer multiply-adds (SESR-M5).
  return PlanBuilder(collapse_linear_blocks(with_phase_convs(graph)), kernels).build();
}

}  // namespace quicksr::engine
