#include "engine/qu8_graph_plan.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "engine/graph_plan.hpp"
#include "engine/phase_conv.hpp"
#include "model/graph_check.hpp"
#include "quicksr/error.hpp"

namespace quicksr::engine {

namespace {

int groups_of(int channels) { return (channels + kQu8Group - 1) / kQu8Group; }

bool is_table_activation(OpType op) {
  return op == OpType::kTanh || op == OpType::kSigmoid || op == OpType::kLeakyRelu;
}

// Why the path cannot run `conv`, or nothing.
std::optional<std::string> conv_problem(const QConv2d& conv) {
  if (conv.transposed) return "a transposed conv";
  if (conv.stride != 1) {
    const bool unpadded =
        conv.pad_top == 0 && conv.pad_left == 0 && conv.pad_bottom == 0 && conv.pad_right == 0;
    if (unpadded && conv.kernel_h == conv.kernel_w && (conv.kernel_h == 1 || conv.kernel_h == 3)) {
      return std::nullopt;  // ESA's: a stride-1 row on the tile, every stride-th column kept
    }
    return "a conv with stride " + std::to_string(conv.stride) +
           " that is not an unpadded 1x1 or 3x3";
  }
  const int pad = conv.kernel_h / 2;
  if (conv.kernel_h != conv.kernel_w || conv.kernel_h % 2 == 0 || conv.pad_top != pad ||
      conv.pad_left != pad || conv.pad_bottom != pad || conv.pad_right != pad) {
    return "a conv that is not square, odd and padded to keep the size";
  }
  if (conv.kernel_h > kQu8GraphMaxKernel) {
    return "a conv larger than " + std::to_string(kQu8GraphMaxKernel) + "x" +
           std::to_string(kQu8GraphMaxKernel);
  }
  return std::nullopt;
}

// An unpadded strided conv as the stride-1 "same" conv whose output column x * stride + k / 2 (and
// row) is its output x: the same weights and sums.
QConv2d at_stride_one(const QConv2d& conv) {
  QConv2d same = conv;
  same.stride = 1;
  same.pad_top = same.pad_left = same.pad_bottom = same.pad_right = conv.kernel_h / 2;
  return same;
}

// Group `group` of a grouped conv as a conv of its own (groups 1).
QConv2d group_slice(const QConv2d& conv, int group) {
  const int out = conv.out_channels / conv.groups;
  QConv2d slice = conv;
  slice.in_channels = conv.in_channels / conv.groups;
  slice.out_channels = out;
  slice.groups = 1;
  const std::size_t per_group = conv.weight.size() / conv.groups;
  slice.weight.assign(conv.weight.begin() + group * per_group,
                      conv.weight.begin() + (group + 1) * per_group);
  slice.bias.assign(conv.bias.begin() + group * out, conv.bias.begin() + (group + 1) * out);
  if (conv.per_channel()) {
    slice.weight_scale.assign(conv.weight_scale.begin() + group * out,
                              conv.weight_scale.begin() + (group + 1) * out);
  }
  return slice;
}

// A grouped conv as one dense conv: zero weights between groups.
QConv2d densified(const QConv2d& conv) {
  QConv2d dense = conv;
  dense.groups = 1;
  const int taps = conv.kernel_h * conv.kernel_w;
  dense.weight.assign(static_cast<std::size_t>(conv.out_channels) * conv.in_channels * taps, 0);
  const int in = conv.in_channels / conv.groups;
  const int out = conv.out_channels / conv.groups;
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int i = 0; i < in; ++i) {
      for (int tap = 0; tap < taps; ++tap) {
        dense.weight[(static_cast<std::size_t>(o) * conv.in_channels + (o / out) * in + i) * taps +
                     tap] = conv.weight[(static_cast<std::size_t>(o) * in + i) * taps + tap];
      }
    }
  }
  return dense;
}

// A k x k conv as the 1x1 conv over its input's k * k shifted copies, each `in_groups` channel
// words: input channel i of copy (slot, kx) is channel (slot * k + kx) * in_groups * 4 + i, the
// input row of slot j being kernel row (j - rotation) mod k (the runner keeps input rows in a ring
// of k slots, row r in slot r mod k, so each output row copies one new row: rotation (y - k / 2)
// mod k picks the weights).
QConv2d as_shifted_1x1(const QConv2d& conv, int in_groups, int rotation) {
  const int k = conv.kernel_h;
  const int channels = k * k * in_groups * kQu8Group;
  QConv2d pointwise = conv;
  pointwise.in_channels = channels;
  pointwise.kernel_h = pointwise.kernel_w = 1;
  pointwise.pad_top = pointwise.pad_left = pointwise.pad_bottom = pointwise.pad_right = 0;
  pointwise.weight.assign(static_cast<std::size_t>(conv.out_channels) * channels, 0);
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int i = 0; i < conv.in_channels; ++i) {
      for (int slot = 0; slot < k; ++slot) {
        for (int kx = 0; kx < k; ++kx) {
          const int c = (slot * k + kx) * in_groups * kQu8Group + i;
          pointwise.weight[static_cast<std::size_t>(o) * channels + c] =
              conv.w(o, i, (slot - rotation + k) % k, kx);
        }
      }
    }
  }
  return pointwise;
}

// Walks the nodes in graph order; the first one the path cannot run is the reason.
class Qu8GraphPlanner : QU8GraphTensors {
 public:
  Qu8GraphPlanner(const QuantizedGraph& net, const QU8Conv3x3Config* kernel)
      : QU8GraphTensors(net), kernel_(kernel) {}

  std::variant<QU8GraphPlan, std::string> plan() {
    const Graph& graph = net_.graph;
    if (!graph.scale.is_integer()) return "its scale x" + graph.scale.to_string() + " is not whole";
    plan_.scale = graph.scale.numerator;
    plan_.input = tensor(graph.input, 3, 1, 1);
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      if (layout_.absorbed[i] || consumed_.count(i)) continue;
      const GraphNode& node = graph.nodes[i];
      if (const std::optional<std::string> problem = add_step(i)) {
        return "node '" + node.name + "' (" + graph_op_name(node.op) + ") is " + *problem;
      }
    }
    if (!finished_ && !finish_with_rgb_rows()) {
      return std::string(
          "its output is neither the depth-to-space of a u8 tensor nor 3 channels at its scale");
    }
    plan_.bands = bands();
    return std::move(plan_);
  }

 private:
  // `ratio`: its rows per input row (factor, or less for ESA's shrunk tensors).
  int tensor(const std::string& name, int channels, int groups, int factor, double ratio = 0.0) {
    ratios_.push_back(ratio > 0.0 ? ratio : factor);
    QU8GraphTensor t;
    t.channels = channels;
    t.groups = groups;
    t.factor = factor;
    t.zero_point = static_cast<std::uint8_t>(encoding(name).zero_point);
    plan_.tensors.push_back(t);
    return index_[name] = static_cast<int>(plan_.tensors.size()) - 1;
  }
  const QU8GraphTensor& tensor_of(int index) const { return plan_.tensors[index]; }
  // Whether `index` is at a whole multiple of the input's size (ESA's strided and pooled maps are
  // not; only convs, tables, pools and resizes read them).
  bool whole(int index) const { return ratios_[index] == tensor_of(index).factor; }

  std::optional<std::string> add_step(std::size_t i) {
    if (finished_) return "after the output's depth-to-space";
    const GraphNode& node = net_.graph.nodes[i];
    QU8GraphStep step;
    for (const std::string& input : node.inputs) {
      const auto found = index_.find(input);
      if (found == index_.end()) return "reading a tensor the path does not hold";
      step.inputs.push_back(found->second);
    }
    std::optional<std::string> problem;
    switch (node.op) {
      case OpType::kConv:
        problem = add_conv(i, net_.convs.at(static_cast<std::size_t>(node.conv)), step);
        break;
      case OpType::kConvTranspose:
        problem = add_upscaling_deconv(i, step);
        break;
      case OpType::kRelu:
      case OpType::kClip:
      case OpType::kTanh:
      case OpType::kSigmoid:
      case OpType::kLeakyRelu:
        add_table(node, step);
        break;
      case OpType::kAdd:
        problem = add_add(i, step);
        break;
      case OpType::kConcat:
        problem = add_concat(node, step);
        break;
      case OpType::kDepthToSpace:
        if (!whole(step.inputs[0])) return std::string("a depth-to-space of a shrunk tensor");
        if (is_output_depth_to_space(node, step.inputs[0])) return finish(node, step.inputs[0]);
        problem = add_depth_to_space(node, step);
        break;
      case OpType::kMaxPool:
        problem = add_max_pool(node, step);
        break;
      case OpType::kResizeBilinear:
        add_resize(node, step);
        break;
      case OpType::kMul:
        problem = add_mul(i, step);
        break;
      default:
        return std::string("not supported by the INT8 engine");
    }
    if (!problem) plan_.steps.push_back(std::move(step));
    return problem;
  }

  // The graph's output as the phase conv of its transposed conv, then depth-to-space.
  std::optional<std::string> add_upscaling_deconv(std::size_t i, QU8GraphStep& step) {
    const std::optional<QConv2d> phases =
        as_phase_conv(net_.convs.at(static_cast<std::size_t>(net_.graph.nodes[i].conv)),
                      plan_.scale, kQu8GraphMaxKernel);
    if (output_of(i) != net_.graph.output || !phases || plan_.scale > kQu8MaxDepthToSpaceScale ||
        tensor_of(step.inputs[0]).factor != 1) {
      return "a transposed conv that is not the graph's output at stride = scale with a phase "
             "kernel up to " +
             std::to_string(kQu8GraphMaxKernel) + "x" + std::to_string(kQu8GraphMaxKernel);
    }
    if (std::optional<std::string> problem = add_conv(i, *phases, step)) return problem;
    plan_.output = step.output;
    plan_.output_block = plan_.scale;
    plan_.order = ChannelOrder::kCRD;
    plan_.output_encoding = encoding(output_of(i));
    finished_ = true;
    return std::nullopt;
  }

  std::optional<std::string> add_conv(std::size_t i, const QConv2d& original, QU8GraphStep& step) {
    const GraphNode& node = net_.graph.nodes[i];
    if (std::optional<std::string> problem = conv_problem(original)) return problem;
    const int in = original.in_channels / original.groups;
    const int out = original.out_channels / original.groups;
    const bool split = original.groups == 1 || (in % kQu8Group == 0 && out % kQu8Group == 0);
    const QConv2d same = original.stride == 1 ? original : at_stride_one(original);
    const QConv2d conv = split ? same : densified(same);
    const ActivationEncoding& in_encoding = encoding(node.inputs[0]);
    std::string output = output_of(i);
    QU8GraphConv packed;
    packed.in_groups = conv.groups == 1 ? tensor_of(step.inputs[0]).groups : in / kQu8Group;
    const int k = conv.kernel_h;
    const int factor = tensor_of(step.inputs[0]).factor;
    const double ratio = ratios_[step.inputs[0]];
    packed.factor = factor;
    packed.stride = original.stride;
    if (packed.stride != 1 && factor != 1) return "a strided conv after a depth-to-space";
    packed.tile_kernel = k == 3 ? 3 : 1;
    packed.shifted = k == 1 || k == 3 ? 0 : k;
    // A Tanh, Sigmoid or LeakyReLU that alone reads the conv's u8 output runs on its rows.
    const GraphNode* reader = sole_reader(output);
    if (fused(i) == nullptr && reader != nullptr && is_table_activation(reader->op)) {
      const std::array<std::uint8_t, 256> table =
          quant::activation_table(*reader, encoding(output), encoding(reader->output));
      packed.row_table.assign(table.begin(), table.end());
      consumed_.insert(static_cast<std::size_t>(reader - net_.graph.nodes.data()));
    }
    if (!packed.row_table.empty()) output = reader->output;
    const ActivationEncoding& out_encoding = encoding(output_of(i));
    const quant::ClampBounds bounds = quant::fused_activation_bounds(fused(i), out_encoding);
    for (int g = 0; g < conv.groups; ++g) {
      const QConv2d part = conv.groups == 1 ? conv : group_slice(conv, g);
      for (int rotation = 0; rotation < packed.rotations(); ++rotation) {
        const QConv2d run =
            packed.shifted != 0 ? as_shifted_1x1(part, packed.in_groups, rotation) : part;
        if (kernel_ != nullptr) {
          packed.parts.push_back(
              pack_qu8_conv(run, in_encoding, out_encoding, bounds, *kernel_, false));
        }
      }
      const int words = packed.shifted != 0 ? k * k * packed.in_groups : packed.in_groups;
      // Output rows x the input's columns (a strided conv runs at stride 1 along the row).
      plan_.macs_per_pixel += ratio * ratio / packed.stride * packed.tile_kernel *
                              packed.tile_kernel * words * kQu8Group *
                              groups_of(part.out_channels) * kQu8Group;
    }
    step.kind = QU8GraphStepKind::kConv;
    step.conv = static_cast<int>(plan_.convs.size());
    plan_.convs.push_back(std::move(packed));
    step.output = tensor(output, original.out_channels,
                         conv.groups * groups_of(conv.out_channels / conv.groups), factor,
                         ratio / packed.stride);
    return std::nullopt;
  }

  // A standalone ReLU / Clip (requantized into its encoding), Tanh, Sigmoid or LeakyReLU.
  void add_table(const GraphNode& node, QU8GraphStep& step) {
    const ActivationEncoding& in = encoding(node.inputs[0]);
    const ActivationEncoding& out = encoding(node.output);
    step.kind = QU8GraphStepKind::kTable;
    if (is_table_activation(node.op)) {
      const std::array<std::uint8_t, 256> table = quant::activation_table(node, in, out);
      step.table.assign(table.begin(), table.end());
    } else {
      const float m = quant::requant_multiplier(in.scale, 1.0f, out.scale);
      const quant::ClampBounds bounds = quant::fused_activation_bounds(&node, out);
      for (int q = 0; q < 256; ++q) {
        step.table.push_back(quant::requantize(q - in.zero_point, m, out.zero_point, bounds));
      }
    }
    const QU8GraphTensor& input = tensor_of(step.inputs[0]);
    step.output =
        tensor(node.output, input.channels, input.groups, input.factor, ratios_[step.inputs[0]]);
  }

  std::optional<std::string> add_add(std::size_t i, QU8GraphStep& step) {
    const GraphNode& node = net_.graph.nodes[i];
    const QU8GraphTensor& a = tensor_of(step.inputs[0]);
    if (!same_shapes(step)) return "an add of tensors with different channels or sizes";
    const ActivationEncoding& ea = encoding(node.inputs[0]);
    const ActivationEncoding& eb = encoding(node.inputs[1]);
    const ActivationEncoding& out = encoding(output_of(i));
    const quant::ClampBounds bounds = quant::fused_activation_bounds(fused(i), out);
    step.kind = QU8GraphStepKind::kAdd;
    step.add = {.a_zero_point = ea.zero_point,
                .b_zero_point = eb.zero_point,
                .a_multiplier = quant::requant_multiplier(ea.scale, 1.0f, out.scale),
                .b_multiplier = quant::requant_multiplier(eb.scale, 1.0f, out.scale),
                .zero_point = out.zero_point,
                .lo = bounds.lo,
                .hi = bounds.hi};
    step.output = tensor(output_of(i), a.channels, a.groups, a.factor);
    return std::nullopt;
  }

  // Each input requantized into the output's encoding: whole channel words through the tables
  // when every input starts on one, else channel by channel (ERFDN's 25-channel parts).
  std::optional<std::string> add_concat(const GraphNode& node, QU8GraphStep& step) {
    const ActivationEncoding& out = encoding(node.output);
    int channels = 0;
    const int factor = tensor_of(step.inputs[0]).factor;
    for (std::size_t k = 0; k < step.inputs.size(); ++k) {
      step.words = step.words && channels % kQu8Group == 0;
      if (tensor_of(step.inputs[k]).factor != factor || !whole(step.inputs[k])) {
        return "a concat of tensors of other sizes";
      }
      channels += tensor_of(step.inputs[k]).channels;
      const ActivationEncoding& in = encoding(node.inputs[k]);
      const float m = quant::requant_multiplier(in.scale, 1.0f, out.scale);
      for (int q = 0; q < 256; ++q) {
        step.table.push_back(quant::requantize(q - in.zero_point, m, out.zero_point, {0, 255}));
      }
    }
    step.kind = QU8GraphStepKind::kConcat;
    step.output = tensor(node.output, channels, groups_of(channels), factor);
    return std::nullopt;
  }

  bool same_shapes(const QU8GraphStep& step) const {
    if (step.inputs.size() != 2) return false;
    const QU8GraphTensor& a = tensor_of(step.inputs[0]);
    const QU8GraphTensor& b = tensor_of(step.inputs[1]);
    return a.channels == b.channels && a.factor == b.factor && whole(step.inputs[0]) &&
           whole(step.inputs[1]);
  }

  // The largest u8 value of each window: the values themselves (the reference's max_pool).
  std::optional<std::string> add_max_pool(const GraphNode& node, QU8GraphStep& step) {
    const Pool2d& pool = node.pool;
    if (pool.pad_top != 0 || pool.pad_left != 0 || pool.pad_bottom != 0 || pool.pad_right != 0) {
      return "a max pool with padding";
    }
    const QU8GraphTensor& input = tensor_of(step.inputs[0]);
    if (input.factor != 1) return "a max pool after a depth-to-space";
    step.kind = QU8GraphStepKind::kMaxPool;
    step.window = pool.kernel;
    step.stride = pool.stride;
    step.output =
        tensor(node.output, input.channels, input.groups, 1, ratios_[step.inputs[0]] / pool.stride);
    return std::nullopt;
  }

  // To the size of inputs[1] (whose rows are not read), u8 values (the reference's taps).
  void add_resize(const GraphNode& node, QU8GraphStep& step) {
    const QU8GraphTensor& input = tensor_of(step.inputs[0]);
    step.kind = QU8GraphStepKind::kResize;
    step.resize_to = step.inputs[1];
    step.output = tensor(node.output, input.channels, input.groups,
                         tensor_of(step.resize_to).factor, ratios_[step.resize_to]);
  }

  // The product of two tensors of the same shape (no broadcast), requantized: a table of
  // quant::multiply_value over every pair of levels (the reference's rule, per tensor encodings).
  std::optional<std::string> add_mul(std::size_t i, QU8GraphStep& step) {
    const GraphNode& node = net_.graph.nodes[i];
    if (!same_shapes(step)) return "a mul of tensors with different channels or sizes";
    const ActivationEncoding& ea = encoding(node.inputs[0]);
    const ActivationEncoding& eb = encoding(node.inputs[1]);
    const ActivationEncoding& out = encoding(node.output);
    const float m = quant::requant_multiplier(ea.scale, eb.scale, out.scale);
    step.kind = QU8GraphStepKind::kMul;
    for (int a = 0; a < 256; ++a) {
      for (int b = 0; b < 256; ++b) {
        step.table.push_back(
            quant::multiply_value(a - ea.zero_point, b - eb.zero_point, m, out.zero_point));
      }
    }
    const QU8GraphTensor& a = tensor_of(step.inputs[0]);
    step.output = tensor(node.output, a.channels, a.groups, a.factor);
    return std::nullopt;
  }

  // The graph's output as the depth-to-space kernel writes it: 3 s^2 channels at the input's size.
  bool is_output_depth_to_space(const GraphNode& node, int input) const {
    const int s = plan_.scale;
    return node.output == net_.graph.output && node.block_size == s &&
           tensor_of(input).channels == 3 * s * s && tensor_of(input).factor == 1 &&
           s <= kQu8MaxDepthToSpaceScale;
  }

  // Inside the graph (EDSR's upsampler): the values moved, b times the rows and columns after it
  // (depth_to_space_values, the reference's, moves u8 values without requantizing).
  std::optional<std::string> add_depth_to_space(const GraphNode& node, QU8GraphStep& step) {
    const QU8GraphTensor& input = tensor_of(step.inputs[0]);
    const int b = node.block_size;
    if (b < 2 || input.channels % (b * b) != 0) return "a depth-to-space of other channels";
    step.kind = QU8GraphStepKind::kDepthToSpace;
    step.block = b;
    step.order = node.order;
    const int channels = input.channels / (b * b);
    step.output = tensor(node.output, channels, groups_of(channels), input.factor * b);
    return std::nullopt;
  }

  // A graph output that is a u8 tensor of 3 channels at the output's size (EDSR's mean shift
  // back): its rows are the output rows.
  bool finish_with_rgb_rows() {
    const auto found = index_.find(net_.graph.output);
    if (found == index_.end()) return false;
    const QU8GraphTensor& output = tensor_of(found->second);
    if (output.channels != 3 || output.factor != plan_.scale || !whole(found->second)) return false;
    plan_.output = found->second;
    plan_.output_block = 1;
    plan_.output_encoding = encoding(net_.graph.output);
    return true;
  }

  std::optional<std::string> finish(const GraphNode& node, int input) {
    plan_.output = input;
    plan_.output_block = plan_.scale;
    plan_.order = node.order;
    plan_.output_encoding = encoding(node.output);
    finished_ = true;
    return std::nullopt;
  }

  const GraphNode* sole_reader(const std::string& name) const {
    if (name == net_.graph.output || readers(name) != 1) return nullptr;
    for (const GraphNode& node : net_.graph.nodes) {
      for (const std::string& input : node.inputs) {
        if (input == name) return &node;
      }
    }
    return nullptr;
  }

  // A conv reads the rows of its kernel (k / 2 above and below; a strided one rows y * stride ..
  // + k - 1), a pool its window's rows, a depth-to-space by b row Y / b for its row Y, a resize
  // the rows around its source position, every other step its row (the fp32 path's maps).
  GraphBands bands() const {
    std::vector<BandStep> steps;
    for (const QU8GraphStep& step : plan_.steps) {
      RowReach reach;
      std::vector<int> inputs = step.inputs;
      if (step.kind == QU8GraphStepKind::kConv) {
        const QU8GraphConv& conv = plan_.convs[step.conv];
        const int k = conv.shifted != 0 ? conv.shifted : conv.tile_kernel;
        reach.above = conv.stride == 1 ? k / 2 : 0;
        reach.below = conv.stride == 1 ? k / 2 : k - 1;
        reach.stride = conv.stride;
        reach.shrink = conv.stride == 1 ? 0 : k - 1;
      } else if (step.kind == QU8GraphStepKind::kMaxPool) {
        reach.below = reach.shrink = step.window - 1;
        reach.stride = step.stride;
      } else if (step.kind == QU8GraphStepKind::kResize) {
        reach.resize_to = step.resize_to;
        inputs.resize(1);  // the size tensor's rows are not read
      } else if (step.kind == QU8GraphStepKind::kDepthToSpace) {
        reach.block = step.block;
      }
      steps.push_back({inputs, step.output, reach});
    }
    std::vector<int> factors;
    for (const QU8GraphTensor& tensor : plan_.tensors) factors.push_back(tensor.factor);
    return GraphBands(std::move(steps), std::move(factors), plan_.input, plan_.output);
  }

  const QU8Conv3x3Config* kernel_;    // null: only checking
  std::map<std::string, int> index_;  // u8 tensor name -> plan tensor
  std::set<std::size_t> consumed_;    // activation nodes run on a conv's rows
  std::vector<double> ratios_;        // per plan tensor: its rows per input row
  bool finished_ = false;
  QU8GraphPlan plan_;
};

std::variant<QU8GraphPlan, std::string> plan_graph(const QuantizedGraph& net,
                                                   const QU8Conv3x3Config* kernel) {
  try {
    net.check();
  } catch (const Error& error) {
    throw Error(net.graph.architecture + ": " + error.what());
  }
  return Qu8GraphPlanner(net, kernel).plan();
}

}  // namespace

std::optional<std::string> qu8_graph_unsupported_reason(const QuantizedGraph& net) {
  std::variant<QU8GraphPlan, std::string> planned = plan_graph(net, nullptr);
  if (const std::string* reason = std::get_if<std::string>(&planned)) return *reason;
  return std::nullopt;
}

QU8GraphPlan make_qu8_graph_plan(const QuantizedGraph& net, const QU8Conv3x3Config& kernel) {
  std::variant<QU8GraphPlan, std::string> planned = plan_graph(net, &kernel);
  if (const std::string* reason = std::get_if<std::string>(&planned)) {
    throw Error("INT8 engine: " + net.graph.architecture + ": " + *reason);
  }
  return std::move(std::get<QU8GraphPlan>(planned));
}

}  // namespace quicksr::engine
