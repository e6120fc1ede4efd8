#pragma once
// QuickSRNet <-> general graph: the network as explicit nodes for export, and the recognition of
// that structure in imported graphs.
#include <optional>

#include "quicksr/model.hpp"

namespace quicksr::onnx_io {

// The network as a graph whose depth-to-space uses `order`. Space-to-depth (x1.5) is DCR, as
// ONNX defines it. Convs feeding re-ordered channels are permuted so the output is unchanged.
Graph quicksrnet_to_graph(const QuickSRNet& net, ChannelOrder order);

// The QuickSRNet (CRD order) computing the same as `graph`, or nullopt when the graph does not
// have the QuickSRNet structure: conv-ReLU1 (Clip 0..1) or conv-ReLU (Relu, or Clip 0..+inf)
// chain, the same activation after every conv, last conv (x1.5: space-to-depth(2) and a 1x1
// conv), optional anchor conv of the input added, clip [0,1], depth-to-space.
std::optional<QuickSRNet> graph_to_quicksrnet(const Graph& graph);

}  // namespace quicksr::onnx_io
