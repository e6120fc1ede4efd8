#pragma once
// A general SR graph (the baselines: XLSR, SESR, ABPN, ESPCN, EDSR...) compiled for the engine:
// stride-1 convs of any size and groups with kernel-ready packed weights (the activation that
// follows a conv fused into its store or run on its output rows), elementwise ops, add, concat and
// depth-to-space, in graph order, run band by band (graph_bands.hpp); a transposed conv that
// upscales by its stride (FSRCNN) as its phase conv and depth-to-space (phase_conv.hpp); ERFDN's
// spatial attention: a strided conv and a max pool without padding, a half-pixel bilinear resize
// back to another tensor's size, mul. Graphs with other ops (other transposed convs, padded
// strided convs, average pooling...) are not supported: unsupported_reason() says why, and
// callers fall back to the reference runtime.
#include <optional>
#include <string>
#include <vector>

#include "engine/graph_bands.hpp"
#include "engine/kernels/kernels.hpp"
#include "quicksr/model.hpp"

namespace quicksr::engine {

// Zero rows and columns around every tensor: the largest conv padding the engine takes.
inline constexpr int kGraphMaxPadding = 8;

// A conv, per group (grouped convs whose groups do not fill the kernel's channel tiles run as
// one dense conv with zero weights across groups).
struct GraphConv {
  int kernel_h = 3;
  int kernel_w = 3;
  int pad_top = 1;
  int pad_left = 1;
  int stride = 1;  // > 1: no padding; computed at stride 1 along the row, every stride-th kept
  int groups = 1;
  int in_per_group = 0;
  int out_per_group = 0;         // real
  int padded_out_per_group = 0;  // rounded up to the kernel's channel_group
  bool direct3x3 = false;        // runs on the f32-conv3x3 kernels, else on f32-conv
  bool clamp = false;            // fused ReLU / ReLU1 / Clip(0, hi)
  float clamp_max = 1.0f;
  std::vector<std::vector<float>> weights;  // per group, packed by the kernel's config
  std::vector<std::vector<float>> bias;     // per group, padded_out_per_group values
};

// kBinary: add or mul (node.op) of two tensors of one size; kMaxPool: node.pool, no padding;
// kResize: half-pixel bilinear to the size of inputs[1] (whose rows it does not read).
enum class GraphStepKind { kConv, kUnary, kBinary, kConcat, kDepthToSpace, kMaxPool, kResize };

struct GraphStep {
  GraphStepKind kind = GraphStepKind::kConv;
  std::vector<int> inputs;  // tensor indices
  int output = 0;
  int conv = -1;  // kConv: index into GraphPlan::convs
  // kConv: a 1x1 conv (index into GraphPlan::convs), the only reader of this conv's output, run
  // on each output row from a per-job row buffer, so that the tensor between them never exists.
  int pointwise = -1;
  GraphNode node;  // kUnary / kBinary / kDepthToSpace / kMaxPool: the op and its attributes
  // kConv: the activation that follows it when the kernel's clamp cannot apply it (Tanh, PReLU,
  // Sigmoid...): run on each output row right after the conv stores it, while it is in cache.
  std::optional<GraphNode> row_activation;
  std::vector<float> slopes;  // PReLU (kUnary or row_activation): one per channel, or one shared
};

struct PlannedTensor {
  int channels = 0;
  int planes = 0;  // planes its rows hold: conv outputs padded to the kernel's channel tiles
  int factor = 1;  // resolution: factor x the input's (1 for ESA's shrunk tensors: see
                   // GraphBands::lengths for every tensor's size)
};

struct GraphPlan {
  std::vector<PlannedTensor> tensors;
  std::vector<GraphStep> steps;
  std::vector<GraphConv> convs;
  GraphBands bands;  // each tensor's rows per band of output rows (steps' row reach)
  int input = 0;     // tensor index of the graph input
  int output = 0;    // tensor index of the graph output (3 channels at factor `scale`)
  int scale = 2;
  double macs_per_pixel = 0.0;  // executed, per input pixel (padding and dense groups included)
};

// A 3x3 stride-1 conv with padding 1 and no groups (Conv2d or QConv2d): a QuickSRNet-like chain's.
template <typename Conv>
bool is_plain_conv3x3(const Conv& conv) {
  return !conv.transposed && conv.stride == 1 && conv.groups == 1 && conv.kernel_h == 3 &&
         conv.kernel_w == 3 && conv.pad_top == 1 && conv.pad_left == 1 && conv.pad_bottom == 1 &&
         conv.pad_right == 1;
}

// Whether the conv kernels' clamp can apply `node` in their store: ReLU, or Clip(0, hi).
bool is_clamp_activation(const GraphNode& node);
// That clamp's upper bound: +infinity for ReLU, hi for Clip(0, hi).
float clamp_upper_bound(const GraphNode& node);

// Why the engine cannot run `graph`, or nothing when it can. Throws quicksr::Error when the graph
// fails check_graph().
std::optional<std::string> unsupported_reason(const Graph& graph);

// Throws quicksr::Error with unsupported_reason() when the engine cannot run `graph`.
GraphPlan make_graph_plan(const Graph& graph, const F32Kernels& kernels);

}  // namespace quicksr::engine
