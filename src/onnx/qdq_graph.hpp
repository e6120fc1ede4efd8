#pragma once
// An INT8 QuickSRNet as a graph plus the QDQ annotations that quantize it (docs/quantization.md).
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

}  // namespace quicksr::onnx_io
