#pragma once
// QDQ ONNX files -> INT8 QuickSRNets and INT8 graphs: the inverse of the QDQ export (docs/onnx.md).
#include <onnx/onnx_pb.h>

#include <string>
#include <variant>

#include "quicksr/model.hpp"

namespace quicksr::onnx_io {

// Whether the graph has QuantizeLinear or DequantizeLinear nodes.
bool has_qdq_nodes(const onnx::ModelProto& model);

using Int8Net = std::variant<QuantizedQuickSRNet, QuantizedGraph>;

// The INT8 model of a QDQ file: convs reading DequantizeLinear of s8 weights (zero point 0, per
// tensor or per output channel) and of s32 biases, and QuantizeLinear + DequantizeLinear pairs
// (u8). A float QuickSRNet graph between them becomes an INT8 QuickSRNet, with a pair at each
// quantizer of docs/quantization.md: the input (scale 1/255, zero point 0), each conv +
// activation output and the clipped output. Any other graph becomes an INT8 graph, with a pair on
// each u8 tensor of its placement (int8_layout; optional on shuffle outputs). Biases are
// re-expressed in units of input scale x weight scale. Throws quicksr::Error naming `file` for
// anything else.
Int8Net int8_net_from_qdq(const onnx::ModelProto& model, const std::string& file);

}  // namespace quicksr::onnx_io
