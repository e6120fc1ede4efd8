#pragma once
// The one structural check of a general Graph, used by every load and save (safetensors, ONNX
// import and export) and by the runtime: every tensor defined before use, conv geometry, channel
// counts inferred through the whole graph with overflow-safe arithmetic, and the upscaling factor
// the graph actually computes.
#include <cstdint>
#include <map>
#include <string>

#include "quicksr/model.hpp"

namespace quicksr {

// Largest channel count of any tensor in a graph.
inline constexpr int kMaxGraphChannels = 1 << 16;

// Whether check_graph also checks the conv weight and bias sizes (a loader checks the structure
// before it reads any weights).
enum class GraphWeights { kChecked, kNotLoadedYet };

// Infers every tensor's channels and resolution (relative to the input) and returns the scale the
// graph computes. Throws quicksr::Error naming the first offending node.
Scale infer_graph_scale(const Graph& graph, GraphWeights weights = GraphWeights::kChecked);

// infer_graph_scale, and the declared graph.scale must equal the inferred one (so a graph
// declared x2 that does not upscale, or upscales by 4, is rejected).
void check_graph(const Graph& graph, GraphWeights weights = GraphWeights::kChecked);

// A tensor's channels and resolution relative to the graph input, numerator / denominator. When
// not `exact` (after a conv or pool whose padding does not keep the size, as in ESA's strided
// conv and max pool) the size also depends on rounding and the fraction is only the approximate
// resolution; such tensors cannot meet others in add/mul/sub/concat and cannot be the output.
struct GraphTensor {
  std::int64_t channels = 0;
  std::int64_t numerator = 1;
  std::int64_t denominator = 1;
  bool exact = true;
};

// Every tensor of a graph that passes infer_graph_scale (throws like it otherwise).
std::map<std::string, GraphTensor> infer_graph_tensors(
    const Graph& graph, GraphWeights weights = GraphWeights::kChecked);

// Multiply-accumulates of the convs (transposed too) per input pixel; other ops count nothing.
// `weights`: kNotLoadedYet for an INT8 graph's structure (its float weights are empty).
double graph_macs_per_input_pixel(const Graph& graph,
                                  GraphWeights weights = GraphWeights::kChecked);

// "conv", "depth_to_space", ...: the op names of the model file format.
const char* graph_op_name(OpType op);
// The first graph format version that has `op` (1 or 2).
int graph_op_version(OpType op);

}  // namespace quicksr
