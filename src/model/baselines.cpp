#include "quicksr/baselines.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <utility>

#include "model/graph_check.hpp"
#include "model/layout.hpp"
#include "quicksr/error.hpp"

namespace quicksr {
namespace {

struct ConvOptions {
  int groups = 1;
  bool bias = true;
  int stride = 1;
  int pad = -1;  // -1: "same" (kernel / 2 on every side)
};

// Appends nodes whose output tensor is named like the node, drawing every parameter from one
// seeded engine in creation order.
class Builder {
 public:
  Builder(std::string architecture, Scale scale, std::uint64_t seed) : engine_(seed) {
    graph_.architecture = std::move(architecture);
    graph_.scale = scale;
  }

  std::string conv(const std::string& name, const std::string& input, int in, int out, int kernel,
                   ConvOptions options = {}) {
    Conv2d conv = conv_geometry(in, out, kernel, options.groups);
    conv.stride = options.stride;
    if (options.pad >= 0) {
      conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = options.pad;
    }
    return add_conv(name, input, std::move(conv), options.bias);
  }

  std::string conv_transpose(const std::string& name, const std::string& input, int in, int out,
                             int kernel, int stride, int pad, int output_padding) {
    Conv2d conv = conv_geometry(in, out, kernel);
    conv.transposed = true;
    conv.stride = stride;
    conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = pad;
    conv.output_padding = output_padding;
    return add_conv(name, input, std::move(conv), true);
  }

  Conv2d& last_conv() { return graph_.convs.back(); }

  std::string node(OpType op, const std::string& name, std::vector<std::string> inputs,
                   const std::function<void(GraphNode&)>& configure = {}) {
    GraphNode node;
    node.op = op;
    node.name = name;
    node.inputs = std::move(inputs);
    node.output = name;
    if (configure) configure(node);
    graph_.nodes.push_back(std::move(node));
    return name;
  }

  std::string relu(const std::string& name, const std::string& input) {
    return node(OpType::kRelu, name, {input});
  }
  std::string leaky_relu(const std::string& name, const std::string& input, float alpha) {
    return node(OpType::kLeakyRelu, name, {input}, [&](GraphNode& n) { n.alpha = alpha; });
  }
  std::string add(const std::string& name, const std::string& a, const std::string& b) {
    return node(OpType::kAdd, name, {a, b});
  }
  std::string depth_to_space(const std::string& name, const std::string& input, int block,
                             ChannelOrder order = ChannelOrder::kCRD) {
    return node(OpType::kDepthToSpace, name, {input}, [&](GraphNode& n) {
      n.block_size = block;
      n.order = order;
    });
  }
  std::string clip01(const std::string& name, const std::string& input) {
    return node(OpType::kClip, name, {input}, [](GraphNode& n) {
      n.clip_min = 0.0f;
      n.clip_max = 1.0f;
    });
  }

  Graph finish(const std::string& output) {
    graph_.output = output;
    check_graph(graph_);
    return std::move(graph_);
  }

 private:
  std::string add_conv(const std::string& name, const std::string& input, Conv2d conv, bool bias) {
    allocate_zero_weights(conv);
    if (!bias) conv.bias.clear();
    fill_uniform(conv, engine_);
    graph_.convs.push_back(std::move(conv));
    const int index = static_cast<int>(graph_.convs.size()) - 1;
    const OpType op = graph_.convs.back().transposed ? OpType::kConvTranspose : OpType::kConv;
    return node(op, name, {input}, [index](GraphNode& n) { n.conv = index; });
  }

  Graph graph_;
  std::mt19937_64 engine_;
};

// ---- the architectures (docs/baselines.md)

// FSRCNN(d=56, s=12, m=4) on RGB, ReLU for PReLU as in the QuickSRNet paper; the 9x9 transposed
// conv upscales (padding 4, output padding s-1: exactly s times the input).
Graph fsrcnn(int s, std::uint64_t seed) {
  Builder b("fsrcnn", {s, 1}, seed);
  std::string x = b.relu("feature_relu", b.conv("feature", "input", 3, 56, 5));
  x = b.relu("shrink_relu", b.conv("shrink", x, 56, 12, 1));
  for (int i = 0; i < 4; ++i) {
    const std::string name = "map" + std::to_string(i);
    x = b.relu(name + "_relu", b.conv(name, x, 12, 12, 3));
  }
  x = b.relu("expand_relu", b.conv("expand", x, 12, 56, 1));
  return b.finish(b.conv_transpose("deconv", x, 56, 3, 9, s, 4, s - 1));
}

// ESPCN: conv5x5(64) tanh, conv3x3(32) tanh, conv3x3(3s^2), depth-to-space.
Graph espcn(int s, std::uint64_t seed) {
  Builder b("espcn", {s, 1}, seed);
  std::string x = b.node(OpType::kTanh, "conv1_tanh", {b.conv("conv1", "input", 3, 64, 5)});
  x = b.node(OpType::kTanh, "conv2_tanh", {b.conv("conv2", x, 64, 32, 3)});
  return b.finish(b.depth_to_space("shuffle", b.conv("conv3", x, 32, 3 * s * s, 3), s));
}

// XLSR as in the official files: a 3x3 residual branch, conv3x3 + ReLU + conv1x1, three grouped
// (4 groups) 3x3 + ReLU + 1x1 blocks, concat, 1x1 + ReLU, 3x3 to 3s^2, depth-to-space, clip.
Graph xlsr(int s, std::uint64_t seed) {
  Builder b("xlsr", {s, 1}, seed);
  const std::string residual = b.conv("residual", "input", 3, 16, 3);
  std::string x = b.relu("cnn_relu", b.conv("cnn_conv", "input", 3, 32, 3));
  x = b.conv("cnn_pointwise", x, 32, 32, 1);
  for (int i = 0; i < 3; ++i) {
    const std::string name = "block" + std::to_string(i);
    x = b.relu(name + "_relu", b.conv(name + "_grouped", x, 32, 32, 3, {.groups = 4}));
    x = b.conv(name + "_pointwise", x, 32, 32, 1);
  }
  x = b.node(OpType::kConcat, "concat_residual", {x, residual});
  x = b.relu("tail_relu", b.conv("tail_pointwise", x, 48, 32, 1));
  x = b.depth_to_space("depth_to_space", b.conv("tail_conv", x, 32, 3 * s * s, 3), s);
  return b.finish(b.clip01("clipped_relu", x));
}

// SESR training form (AIMET's files): linear blocks kxk (expand to 256, no bias) + 1x1 (squeeze,
// bias); a fixed 1x1 anchor repeats each input colour s^2 times (CRD order).
Graph sesr_expanded(const std::string& name, int features, int blocks, int s, std::uint64_t seed) {
  constexpr int kExpanded = 256;
  Builder b(name, {s, 1}, seed);
  const int out = 3 * s * s;
  const std::string anchor = b.conv("anchor", "input", 3, out, 1);
  Conv2d& anchor_conv = b.last_conv();
  std::fill(anchor_conv.weight.begin(), anchor_conv.weight.end(), 0.0f);
  std::fill(anchor_conv.bias.begin(), anchor_conv.bias.end(), 0.0f);
  for (int o = 0; o < out; ++o) anchor_conv.w(o, o / (s * s), 0, 0) = 1.0f;
  const auto linear_block = [&](const std::string& block, const std::string& input, int in,
                                int result, int kernel) {
    const std::string expanded =
        b.conv(block + "_expand", input, in, kExpanded, kernel, {.bias = false});
    return b.conv(block + "_squeeze", expanded, kExpanded, result, 1);
  };
  const std::string first = b.relu("first_relu", linear_block("first", "input", 3, features, 5));
  std::string x = first;
  for (int i = 0; i < blocks; ++i) {
    const std::string block = "block" + std::to_string(i);
    const std::string sum = b.add(block + "_add", x, linear_block(block, x, features, features, 3));
    x = b.relu(block + "_relu", sum);
  }
  x = b.add("add_residual", x, first);
  x = b.add("add_upsampled_input", linear_block("last", x, features, out, 5), anchor);
  return b.finish(b.depth_to_space("depth_to_space", x, s));
}

// ABPN: conv3x3(28) + ReLU, 4 x [conv3x3(28) + ReLU], conv3x3(3s^2) + ReLU, conv3x3(3s^2), plus
// the anchor (the input repeated s^2 times along channels, DCR order: each sub-pixel gets its
// colour), depth-to-space (DCR), clip.
Graph abpn(int s, bool residual, std::uint64_t seed) {
  Builder b(residual ? "abpn" : "abpn-noresidual", {s, 1}, seed);
  std::string x = b.relu("conv0_relu", b.conv("conv0", "input", 3, 28, 3));
  for (int i = 1; i <= 4; ++i) {
    const std::string name = "conv" + std::to_string(i);
    x = b.relu(name + "_relu", b.conv(name, x, 28, 28, 3));
  }
  const int out = 3 * s * s;
  x = b.relu("conv5_relu", b.conv("conv5", x, 28, out, 3));
  x = b.conv("conv6", x, out, out, 3);
  if (residual) {
    const std::string anchor =
        b.node(OpType::kConcat, "anchor", std::vector<std::string>(s * s, "input"));
    x = b.add("add_anchor", x, anchor);
  }
  return b.finish(b.clip01("clip", b.depth_to_space("depth_to_space", x, s, ChannelOrder::kDCR)));
}

constexpr float kRfdnSlope = 0.05f;  // RFDN's LeakyReLU

// Enhanced spatial attention (RFDN): 1x1 reduce to f/4, a stride-2 3x3 (no padding) and a 7x7
// stride-3 max pool shrink the map, three 3x3 convs, bilinear resize back, 1x1 expand, sigmoid
// gate.
std::string esa(Builder& b, const std::string& p, const std::string& x, int features) {
  const int f = features / 4;
  const std::string reduced = b.conv(p + "_conv1", x, features, f, 1);
  const std::string strided = b.conv(p + "_conv2", reduced, f, f, 3, {.stride = 2, .pad = 0});
  const std::string pooled = b.node(OpType::kMaxPool, p + "_pool", {strided},
                                    [](GraphNode& n) { n.pool = {.kernel = 7, .stride = 3}; });
  std::string y = b.relu(p + "_max_relu", b.conv(p + "_conv_max", pooled, f, f, 3));
  y = b.relu(p + "_conv3_relu", b.conv(p + "_conv3", y, f, f, 3));
  y = b.conv(p + "_conv3b", y, f, f, 3);
  y = b.node(OpType::kResizeBilinear, p + "_upsample", {y, reduced});
  const std::string skip = b.conv(p + "_conv_f", reduced, f, f, 1);
  y = b.conv(p + "_conv4", b.add(p + "_add", y, skip), f, features, 1);
  return b.node(OpType::kMul, p + "_gate", {x, b.node(OpType::kSigmoid, p + "_sigmoid", {y})});
}

// Residual feature distillation block: three 1x1 distillation + 3x3 residual steps, a 3x3,
// concat, 1x1 fuse, ESA.
std::string rfdb(Builder& b, const std::string& p, const std::string& input, int features) {
  const int distilled = features / 2;
  std::vector<std::string> parts;
  std::string x = input;
  for (int i = 1; i <= 3; ++i) {
    const std::string step = p + "_c" + std::to_string(i);
    parts.push_back(
        b.leaky_relu(step + "_d_act", b.conv(step + "_d", x, features, distilled, 1), kRfdnSlope));
    const std::string refined = b.conv(step + "_r", x, features, features, 3);
    x = b.leaky_relu(step + "_r_act", b.add(step + "_r_add", refined, x), kRfdnSlope);
  }
  parts.push_back(
      b.leaky_relu(p + "_c4_act", b.conv(p + "_c4", x, features, distilled, 3), kRfdnSlope));
  const std::string fused =
      b.conv(p + "_c5", b.node(OpType::kConcat, p + "_concat", parts), 4 * distilled, features, 1);
  return esa(b, p + "_esa", fused, features);
}

// ERFDN: RFDN (50 features, 4 RFDBs with ESA), conv 3x3 to 3s^2 and depth-to-space.
Graph erfdn(int s, std::uint64_t seed) {
  constexpr int kFeatures = 50;
  constexpr int kBlocks = 4;
  Builder b("erfdn", {s, 1}, seed);
  const std::string features = b.conv("fea_conv", "input", 3, kFeatures, 3);
  std::vector<std::string> outputs;
  std::string x = features;
  for (int i = 1; i <= kBlocks; ++i) {
    x = rfdb(b, "b" + std::to_string(i), x, kFeatures);
    outputs.push_back(x);
  }
  x = b.conv("c", b.node(OpType::kConcat, "concat", outputs), kFeatures * kBlocks, kFeatures, 1);
  x = b.leaky_relu("c_act", x, kRfdnSlope);
  x = b.add("lr_add", b.conv("lr_conv", x, kFeatures, kFeatures, 3), features);
  return b.finish(b.depth_to_space("shuffle", b.conv("upsampler", x, kFeatures, 3 * s * s, 3), s));
}

// EDSR's fixed 1x1 MeanShift: x + sign * DIV2K mean (rgb_range 1, std 1).
std::string mean_shift(Builder& b, const std::string& name, const std::string& input, float sign) {
  constexpr float kMean[3] = {0.4488f, 0.4371f, 0.4040f};
  const std::string output = b.conv(name, input, 3, 3, 1);
  Conv2d& conv = b.last_conv();
  for (int o = 0; o < 3; ++o) {
    for (int i = 0; i < 3; ++i) conv.w(o, i, 0, 0) = o == i ? 1.0f : 0.0f;
    conv.bias[o] = sign * kMean[o];
  }
  return output;
}

// EDSR-baseline: 64 features, 16 residual blocks (res_scale 1), PixelShuffle upsampler (x4 as two
// x2 steps), the mean shifts as fixed 1x1 convs.
Graph edsr_baseline(int s, std::uint64_t seed) {
  constexpr int kFeatures = 64;
  Builder b("edsr-baseline", {s, 1}, seed);
  const std::string head =
      b.conv("head", mean_shift(b, "sub_mean", "input", -1.0f), 3, kFeatures, 3);
  std::string x = head;
  for (int i = 0; i < 16; ++i) {
    const std::string p = "res" + std::to_string(i);
    const std::string y = b.relu(p + "_relu", b.conv(p + "_conv1", x, kFeatures, kFeatures, 3));
    x = b.add(p + "_add", b.conv(p + "_conv2", y, kFeatures, kFeatures, 3), x);
  }
  x = b.add("body_add", b.conv("body_end", x, kFeatures, kFeatures, 3), head);
  const std::vector<int> steps = s == 4 ? std::vector<int>{2, 2} : std::vector<int>{s};
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const int r = steps[i];
    const std::string p = "upsample" + std::to_string(i);
    x = b.depth_to_space(p + "_shuffle", b.conv(p, x, kFeatures, kFeatures * r * r, 3), r);
  }
  return b.finish(mean_shift(b, "add_mean", b.conv("tail", x, kFeatures, 3, 3), 1.0f));
}

struct Sesr {
  int features;
  int blocks;
};

// A function-local table: baseline_names() may run during other translation units' static
// initialisation (test parameter lists).
const std::vector<std::pair<std::string_view, Sesr>>& sesr_variants() {
  static const std::vector<std::pair<std::string_view, Sesr>> kVariants = {{"sesr-m3", {16, 3}},
                                                                           {"sesr-m5", {16, 5}},
                                                                           {"sesr-m7", {16, 7}},
                                                                           {"sesr-m11", {16, 11}},
                                                                           {"sesr-xl", {32, 11}}};
  return kVariants;
}

constexpr std::string_view kExpandedSuffix = "-expanded";

// ---- collapsing linear blocks

// How many nodes read each tensor (the graph output counts as a reader).
std::map<std::string, int> reader_counts(const Graph& graph) {
  std::map<std::string, int> readers{{graph.output, 1}};
  for (const GraphNode& node : graph.nodes) {
    for (const std::string& input : node.inputs) ++readers[input];
  }
  return readers;
}

void erase_marked(Graph& graph, const std::vector<bool>& removed) {
  std::vector<GraphNode> kept;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!removed[i]) kept.push_back(std::move(graph.nodes[i]));
  }
  graph.nodes = std::move(kept);
}

bool is_pointwise(const Conv2d& conv) {
  return !conv.transposed && conv.kernel_h == 1 && conv.kernel_w == 1 && conv.stride == 1 &&
         conv.groups == 1 && conv.pad_top + conv.pad_left + conv.pad_bottom + conv.pad_right == 0;
}

// squeeze(expand(x)) as one conv with expand's geometry.
Conv2d compose(const Conv2d& expand, const Conv2d& squeeze) {
  Conv2d conv = expand;
  conv.out_channels = squeeze.out_channels;
  allocate_zero_weights(conv);
  const int taps = expand.kernel_h * expand.kernel_w;
  for (int o = 0; o < squeeze.out_channels; ++o) {
    conv.bias[o] = squeeze.bias.empty() ? 0.0f : squeeze.bias[o];
    for (int p = 0; p < expand.out_channels; ++p) {
      const float s = squeeze.w(o, p, 0, 0);
      if (!expand.bias.empty()) conv.bias[o] += s * expand.bias[p];
      for (int i = 0; i < expand.in_channels; ++i) {
        for (int t = 0; t < taps; ++t) {
          conv.w(o, i, t / expand.kernel_w, t % expand.kernel_w) +=
              s * expand.w(p, i, t / expand.kernel_w, t % expand.kernel_w);
        }
      }
    }
  }
  return conv;
}

// Whether conv(x) + x equals a conv with +1 on the centre tap of each channel's own weight.
bool can_absorb_identity(const Conv2d& conv) {
  return !conv.transposed && conv.stride == 1 && conv.groups == 1 &&
         conv.in_channels == conv.out_channels && conv.kernel_h == conv.kernel_w &&
         conv.kernel_h % 2 == 1 && conv.pad_top == conv.kernel_h / 2 &&
         conv.pad_left == conv.pad_top && conv.pad_bottom == conv.pad_top &&
         conv.pad_right == conv.pad_top;
}

void merge_pointwise_pairs(Graph& graph, std::vector<CollapsedConv>& origins) {
  const std::map<std::string, int> readers = reader_counts(graph);
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) producer[graph.nodes[i].output] = i;
  std::vector<bool> removed(graph.nodes.size(), false);
  for (GraphNode& node : graph.nodes) {
    if (node.op != OpType::kConv || !is_pointwise(graph.convs[node.conv])) continue;
    const auto found = producer.find(node.inputs[0]);
    if (found == producer.end() || readers.at(node.inputs[0]) != 1) continue;
    const GraphNode& expand = graph.nodes[found->second];
    if (expand.op != OpType::kConv || graph.convs[expand.conv].groups != 1) continue;
    graph.convs[node.conv] = compose(graph.convs[expand.conv], graph.convs[node.conv]);
    std::vector<int>& chain = origins[node.conv].chain;
    chain.insert(chain.begin(), origins[expand.conv].chain.begin(),
                 origins[expand.conv].chain.end());
    node.inputs = expand.inputs;
    removed[found->second] = true;
  }
  erase_marked(graph, removed);
}

void absorb_residual_adds(Graph& graph, std::vector<CollapsedConv>& origins) {
  const std::map<std::string, int> readers = reader_counts(graph);
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) producer[graph.nodes[i].output] = i;
  std::vector<bool> removed(graph.nodes.size(), false);
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const GraphNode& add = graph.nodes[i];
    if (add.op != OpType::kAdd) continue;
    for (int side = 0; side < 2; ++side) {
      const auto found = producer.find(add.inputs[side]);
      if (found == producer.end() || readers.at(add.inputs[side]) != 1) continue;
      GraphNode& conv_node = graph.nodes[found->second];
      if (conv_node.op != OpType::kConv || conv_node.inputs[0] != add.inputs[1 - side]) continue;
      Conv2d& conv = graph.convs[conv_node.conv];
      if (!can_absorb_identity(conv)) continue;
      for (int c = 0; c < conv.out_channels; ++c) {
        conv.w(c, c, conv.kernel_h / 2, conv.kernel_w / 2) += 1.0f;
      }
      origins[conv_node.conv].plus_identity = true;
      conv_node.output = add.output;  // the add disappears; its readers read the conv
      removed[i] = true;
      break;
    }
  }
  erase_marked(graph, removed);
}

// Drops convs no node uses and renumbers the rest (and their origins).
void drop_unused_convs(Graph& graph, std::vector<CollapsedConv>& origins) {
  std::map<int, int> renumbered;
  std::vector<Conv2d> convs;
  std::vector<CollapsedConv> kept;
  for (GraphNode& node : graph.nodes) {
    if (node.op != OpType::kConv && node.op != OpType::kConvTranspose) continue;
    const auto [entry, added] = renumbered.emplace(node.conv, static_cast<int>(convs.size()));
    if (added) {
      convs.push_back(graph.convs[node.conv]);
      kept.push_back(origins[node.conv]);
    }
    node.conv = entry->second;
  }
  graph.convs = std::move(convs);
  origins = std::move(kept);
}

// Each conv made from itself alone.
std::vector<CollapsedConv> own_origins(const Graph& graph) {
  std::vector<CollapsedConv> origins;
  for (std::size_t i = 0; i < graph.convs.size(); ++i) origins.push_back({{static_cast<int>(i)}});
  return origins;
}

}  // namespace

std::vector<std::string> baseline_names() {
  std::vector<std::string> names = {"fsrcnn", "espcn", "xlsr"};
  for (const auto& [name, sesr] : sesr_variants()) names.emplace_back(name);
  for (const auto& [name, sesr] : sesr_variants()) {
    names.push_back(std::string(name) + std::string(kExpandedSuffix));
  }
  names.insert(names.end(), {"abpn", "abpn-noresidual", "erfdn", "edsr-baseline"});
  return names;
}

Graph build_baseline(std::string_view name, const BaselineOptions& options) {
  const Scale scale = options.scale;
  if (!scale.is_integer() || scale.numerator < 2 || scale.numerator > 4) {
    throw Error("baseline " + std::string(name) + ": scale x" + scale.to_string() +
                " is not supported (2, 3 or 4)");
  }
  const int s = scale.numerator;
  const std::uint64_t seed = options.seed;
  if (name == "fsrcnn") return fsrcnn(s, seed);
  if (name == "espcn") return espcn(s, seed);
  if (name == "xlsr") return xlsr(s, seed);
  if (name == "abpn" || name == "abpn-noresidual") return abpn(s, name == "abpn", seed);
  if (name == "erfdn") return erfdn(s, seed);
  if (name == "edsr-baseline") return edsr_baseline(s, seed);
  const bool expanded = name.ends_with(kExpandedSuffix);
  const std::string_view family =
      expanded ? name.substr(0, name.size() - kExpandedSuffix.size()) : name;
  for (const auto& [variant, sesr] : sesr_variants()) {
    if (variant != family) continue;
    Graph graph = sesr_expanded(std::string(family) + std::string(kExpandedSuffix), sesr.features,
                                sesr.blocks, s, seed);
    return expanded ? graph : inference_form(std::move(graph));
  }
  std::string known;
  for (const std::string& baseline : baseline_names())
    known += (known.empty() ? "" : ", ") + baseline;
  throw Error("unknown baseline \"" + std::string(name) + "\" (known: " + known + ")");
}

Graph collapse_linear_blocks(const Graph& graph, std::vector<CollapsedConv>* origins) {
  check_graph(graph);
  Graph collapsed = graph;
  std::vector<CollapsedConv> recipes = own_origins(graph);
  merge_pointwise_pairs(collapsed, recipes);
  absorb_residual_adds(collapsed, recipes);
  drop_unused_convs(collapsed, recipes);
  check_graph(collapsed);
  if (origins) *origins = std::move(recipes);
  return collapsed;
}

std::string training_form(std::string_view name) {
  for (const auto& [variant, sesr] : sesr_variants()) {
    if (variant == name) return std::string(name) + std::string(kExpandedSuffix);
  }
  return std::string(name);
}

Graph initial_training_graph(std::string_view name, const BaselineOptions& options) {
  Graph graph = build_baseline(training_form(name), options);
  if (!graph.architecture.starts_with("sesr-")) return graph;
  for (const GraphNode& node : graph.nodes) {
    if (node.name != "last_squeeze") continue;
    Conv2d& squeeze = graph.convs[node.conv];
    std::fill(squeeze.weight.begin(), squeeze.weight.end(), 0.0f);
    std::fill(squeeze.bias.begin(), squeeze.bias.end(), 0.0f);
  }
  return graph;
}

Graph inference_form(Graph graph, std::vector<CollapsedConv>* origins) {
  if (!graph.architecture.ends_with(kExpandedSuffix)) {
    if (origins) *origins = own_origins(graph);
    return graph;
  }
  const std::string name =
      graph.architecture.substr(0, graph.architecture.size() - kExpandedSuffix.size());
  graph = collapse_linear_blocks(graph, origins);
  graph.architecture = name;
  return graph;
}

std::vector<int> fixed_convs(const Graph& graph) {
  const auto fixed_names = [&]() -> std::vector<std::string_view> {
    if (graph.architecture.starts_with("sesr-")) return {"anchor"};
    if (graph.architecture == "edsr-baseline") return {"sub_mean", "add_mean"};
    return {};
  }();
  std::vector<int> convs;
  for (const GraphNode& node : graph.nodes) {
    const bool is_conv = node.op == OpType::kConv || node.op == OpType::kConvTranspose;
    if (is_conv &&
        std::find(fixed_names.begin(), fixed_names.end(), node.name) != fixed_names.end()) {
      convs.push_back(node.conv);
    }
  }
  return convs;
}

}  // namespace quicksr
