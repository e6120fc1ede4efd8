#pragma once
// ONNX protobuf -> quicksr Graph.
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <string>

#include "quicksr/model.hpp"

namespace quicksr::onnx_io {

// Throws quicksr::Error naming the file when it is unreadable, truncated or not an ONNX model.
onnx::ModelProto read_model_proto(const std::filesystem::path& path);

// The model's graph with the input renamed "input", Identity and Constant nodes resolved and the
// scale deduced; `file` names the source in error messages. `tensor_names`, when given, receives
// the graph tensor of each ONNX feature-map tensor.
Graph graph_from_onnx(const onnx::ModelProto& model, const std::string& file,
                      std::map<std::string, std::string>* tensor_names = nullptr);

}  // namespace quicksr::onnx_io
