#pragma once
// Structural checks of a general graph: every tensor defined before use, channel counts that fit,
// and the upscaling factor implied by its depth-to-space, space-to-depth and strides.
#include <string>

#include "quicksr/model.hpp"

namespace quicksr::onnx_io {

// The ONNX operator name of `op` ("Conv", "DepthToSpace"...).
const char* onnx_op_name(OpType op);

// Throws quicksr::Error naming `file` and the offending node; returns the graph's scale.
Scale check_graph(const Graph& graph, const std::string& file);

}  // namespace quicksr::onnx_io
