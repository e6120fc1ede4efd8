#pragma once
// An INT8 model as a graph plus the QDQ annotations that quantize it (docs/quantization.md).
#include "onnx/onnx_writer.hpp"

namespace quicksr::onnx_io {

struct QdqGraph {
  Graph graph;  // the network's nodes; its convs give geometry only (weights are in `qdq`)
  QdqAnnotations qdq;
};

// The graph of quicksrnet_to_graph (same nodes and channel orders) with the integer weights
// permuted as that graph permutes the float ones, and an encoding on the input, on each conv +
// ReLU1 output and on the clipped output.
QdqGraph quantized_quicksrnet_to_graph(const QuantizedQuickSRNet& net, ChannelOrder order);

// An INT8 general graph: its own nodes, an encoding on every u8 tensor of its placement
// (int8_layout) except the outputs of depth-to-space and space-to-depth (they keep their input's
// values and encoding, so a quantizer pair there would change nothing), and its integer weights.
QdqGraph quantized_graph_to_qdq(const QuantizedGraph& net);

}  // namespace quicksr::onnx_io
