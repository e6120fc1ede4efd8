#pragma once
// Typed reads of ONNX protobuf values, shared by the float reader and the QDQ reader. Each
// function is told where the value sits (`where`, e.g. "m.onnx: initializer 'w'"), which opens
// its error message.

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace quicksr::onnx_io {

// "node 'conv1' (Conv)": how errors name a node.
std::string node_name(const onnx::NodeProto& node);

// The values of an in-file tensor whose ONNX element type is T's (float, int8, uint8, int32),
// from raw_data or the typed field; the data must hold exactly what the dims ask for.
template <typename T>
std::vector<T> tensor_values(const onnx::TensorProto& tensor, const std::string& where);

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name);

// An INT attribute that fits an int (a stride of 2^32 + 1 must not become 1); `fallback` when
// absent, unless `required`.
std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name,
                           std::int64_t fallback, const std::string& where, bool required = false);

// An INTS attribute of `fallback.size()` values that fit an int; `fallback` when absent.
std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name,
                                         std::vector<std::int64_t> fallback,
                                         const std::string& where);

std::string string_attribute(const onnx::NodeProto& node, const std::string& name,
                             const std::string& fallback, const std::string& where);

float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback,
                      const std::string& where);

}  // namespace quicksr::onnx_io
