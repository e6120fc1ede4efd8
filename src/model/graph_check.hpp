#pragma once
// The one structural check of a general Graph, used by every load and save (safetensors, ONNX
// import and export) and by the runtime: every tensor defined before use, conv geometry, channel
// counts inferred through the whole graph with overflow-safe arithmetic, and the upscaling factor
// the graph actually computes.
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

// "conv", "depth_to_space", ...: the op names of the model file format.
const char* graph_op_name(OpType op);

}  // namespace quicksr
