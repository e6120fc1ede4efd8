#pragma once
// QDQ ONNX files -> INT8 QuickSRNets: the inverse of export_qdq_onnx (docs/onnx.md).
#include <onnx/onnx_pb.h>

#include <string>

#include "quicksr/model.hpp"

namespace quicksr::onnx_io {

// Whether the graph has QuantizeLinear or DequantizeLinear nodes.
bool has_qdq_nodes(const onnx::ModelProto& model);

// The INT8 QuickSRNet of a QDQ file: a float QuickSRNet graph whose convs read DequantizeLinear
// of s8 weights (zero point 0, per tensor or per output channel) and of s32 biases, with a
// QuantizeLinear + DequantizeLinear pair (u8) at each quantizer of docs/quantization.md: the
// input (scale 1/255, zero point 0), each conv + activation output and the clipped output.
// Biases are re-expressed in units of input scale x weight scale. Throws quicksr::Error naming
// `file` for anything else.
QuantizedQuickSRNet quantized_quicksrnet_from_qdq(const onnx::ModelProto& model,
                                                  const std::string& file);

}  // namespace quicksr::onnx_io
