#pragma once
// quicksr Graph -> ONNX protobuf.
#include <onnx/onnx_pb.h>

#include <map>
#include <string>

#include "quicksr/model.hpp"

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

// Model of `info.opset` with input "input" and output "output"; throws quicksr::Error naming
// `file` for graphs ONNX (or that opset) cannot express, and when the result fails
// onnx::checker.
onnx::ModelProto graph_to_onnx(const Graph& graph, const OnnxGraphInfo& info,
                               const std::string& file);

}  // namespace quicksr::onnx_io
