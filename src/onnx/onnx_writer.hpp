#pragma once
// quicksr Graph -> ONNX protobuf.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "quicksr/model.hpp"
#include "quicksr/output.hpp"

namespace quicksr::onnx_io {

struct OnnxGraphInfo {
  std::string name;                             // the graph's name
  std::map<std::string, std::string> metadata;  // written as metadata_props
  int height = 0;                               // fixed input size; 0 = dynamic
  int width = 0;
  int batch = 0;  // fixed batch size; 0 = dynamic
  int opset = 13;
  bool shuffles_as_convs = false;  // OnnxExportOptions::shuffles_as_convs
};

// The integer tensors of one conv of a QDQ graph: s8 weights (symmetric, zero point 0) and s32
// bias, each with one scale per output channel or one per tensor.
struct QdqConv {
  std::vector<std::int8_t> weight;  // the graph conv's OIHW layout
  std::vector<float> weight_scale;
  std::vector<std::int32_t> bias;
  std::vector<float> bias_scale;  // float32(input_scale * weight_scale[o])
};

// What turns a float graph into a QDQ graph: QuantizeLinear + DequantizeLinear after each
// encoded tensor (u8), and DequantizeLinear of integer weights and bias for every conv.
struct QdqAnnotations {
  std::map<std::string, ActivationEncoding> activations;  // graph tensor -> encoding
  std::vector<QdqConv> convs;                             // one per Graph::convs entry
};

// Model of `info.opset` with input "input" and output "output"; throws quicksr::Error naming
// `file` for graphs ONNX (or that opset) cannot express, and when the result fails
// onnx::checker. With `qdq` (opset >= 13), the convs read quantized weights and the annotated
// tensors are quantized (the graph's own conv weights are unused).
onnx::ModelProto graph_to_onnx(const Graph& graph, const OnnxGraphInfo& info,
                               const std::string& file, const QdqAnnotations* qdq = nullptr);

// Serialises `model` to `path` atomically; throws quicksr::Error naming the file.
void save_model_proto(const onnx::ModelProto& model, const std::filesystem::path& path,
                      ExistingFile existing);

}  // namespace quicksr::onnx_io
