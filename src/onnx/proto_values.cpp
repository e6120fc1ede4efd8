#include "onnx/proto_values.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <type_traits>

#include "quicksr/error.hpp"

namespace quicksr::onnx_io {
namespace {

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

// Bounds each dimension and the product before anything is allocated: the data size check
// below then ties the allocation to bytes actually in the file.
constexpr std::int64_t kMaxTensorValues = std::int64_t{1} << 30;

template <typename T>
constexpr int onnx_type() {
  if constexpr (std::is_same_v<T, float>) return onnx::TensorProto::FLOAT;
  if constexpr (std::is_same_v<T, std::int8_t>) return onnx::TensorProto::INT8;
  if constexpr (std::is_same_v<T, std::uint8_t>) return onnx::TensorProto::UINT8;
  if constexpr (std::is_same_v<T, std::int32_t>) return onnx::TensorProto::INT32;
}

const char* type_name(int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT:
      return "float32";
    case onnx::TensorProto::INT8:
      return "int8";
    case onnx::TensorProto::UINT8:
      return "uint8";
    case onnx::TensorProto::INT32:
      return "int32";
    default:
      return "another type";
  }
}

std::int64_t value_count(const onnx::TensorProto& tensor, const std::string& where) {
  std::int64_t count = 1;
  for (std::int64_t dim : tensor.dims()) {
    if (dim < 0 || dim > kMaxTensorValues || count * dim > kMaxTensorValues) {
      throw Error(where + " has invalid dims");
    }
    count *= dim;
  }
  return count;
}

void check_held(std::int64_t held, std::int64_t count, const char* unit, const std::string& where) {
  if (held != count) {
    throw Error(where + " holds " + std::to_string(held) + " " + unit + ", its dims need " +
                std::to_string(count));
  }
}

// int8, uint8 and int32 tensors keep their typed values in int32_data (onnx.proto).
template <typename T>
std::vector<T> typed_field(const onnx::TensorProto& tensor, std::int64_t count,
                           const std::string& where) {
  if constexpr (std::is_same_v<T, float>) {
    check_held(tensor.float_data_size(), count, "values", where);
    return {tensor.float_data().begin(), tensor.float_data().end()};
  } else {
    check_held(tensor.int32_data_size(), count, "values", where);
    std::vector<T> result;
    result.reserve(count);
    for (std::int32_t value : tensor.int32_data()) {
      if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max()) {
        throw Error(where + " holds " + std::to_string(value) + ", outside " +
                    type_name(onnx_type<T>()));
      }
      result.push_back(static_cast<T>(value));
    }
    return result;
  }
}

}  // namespace

std::string node_name(const onnx::NodeProto& node) {
  return "node '" + node.name() + "' (" + node.op_type() + ")";
}

template <typename T>
std::vector<T> tensor_values(const onnx::TensorProto& tensor, const std::string& where) {
  if (tensor.data_type() != onnx_type<T>()) {
    throw Error(where + " is not " + type_name(onnx_type<T>()) + " (ONNX data type " +
                std::to_string(tensor.data_type()) + ")");
  }
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    throw Error(where + " is stored in an external file, which is not supported");
  }
  const std::int64_t count = value_count(tensor, where);
  if (!tensor.has_raw_data()) return typed_field<T>(tensor, count, where);
  const std::string& raw = tensor.raw_data();
  check_held(static_cast<std::int64_t>(raw.size()), count * std::int64_t{sizeof(T)}, "bytes",
             where);
  std::vector<T> result(count);
  if (count > 0) std::memcpy(result.data(), raw.data(), raw.size());  // data() may be null
  return result;
}

template std::vector<float> tensor_values(const onnx::TensorProto&, const std::string&);
template std::vector<std::int8_t> tensor_values(const onnx::TensorProto&, const std::string&);
template std::vector<std::uint8_t> tensor_values(const onnx::TensorProto&, const std::string&);
template std::vector<std::int32_t> tensor_values(const onnx::TensorProto&, const std::string&);

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& attribute : node.attribute()) {
    if (attribute.name() == name) return &attribute;
  }
  return nullptr;
}

namespace {

const onnx::AttributeProto* typed_attribute(const onnx::NodeProto& node, const std::string& name,
                                            onnx::AttributeProto::AttributeType type,
                                            const char* expected, const std::string& where) {
  const onnx::AttributeProto* attribute = find_attribute(node, name);
  if (attribute && attribute->type() != type) {
    throw Error(where + ": attribute '" + name + "' is not " + expected);
  }
  return attribute;
}

std::int64_t fits_int(std::int64_t value, const std::string& name, const std::string& where) {
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
    throw Error(where + ": attribute '" + name + "' value " + std::to_string(value) +
                " is out of range");
  }
  return value;
}

}  // namespace

std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name,
                           std::int64_t fallback, const std::string& where, bool required) {
  const auto* attribute = typed_attribute(node, name, onnx::AttributeProto::INT, "an int", where);
  if (!attribute) {
    if (required) throw Error(where + ": missing attribute '" + name + "'");
    return fallback;
  }
  return fits_int(attribute->i(), name, where);
}

std::vector<std::int64_t> ints_attribute(const onnx::NodeProto& node, const std::string& name,
                                         std::vector<std::int64_t> fallback,
                                         const std::string& where) {
  const std::string expected = std::to_string(fallback.size()) + " ints";
  const auto* attribute =
      typed_attribute(node, name, onnx::AttributeProto::INTS, expected.c_str(), where);
  if (!attribute) return fallback;
  if (attribute->ints_size() != static_cast<int>(fallback.size())) {
    throw Error(where + ": attribute '" + name + "' is not " + expected);
  }
  for (std::int64_t value : attribute->ints()) fits_int(value, name, where);
  return {attribute->ints().begin(), attribute->ints().end()};
}

std::string string_attribute(const onnx::NodeProto& node, const std::string& name,
                             const std::string& fallback, const std::string& where) {
  const auto* attribute =
      typed_attribute(node, name, onnx::AttributeProto::STRING, "a string", where);
  return attribute ? attribute->s() : fallback;
}

float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback,
                      const std::string& where) {
  const auto* attribute =
      typed_attribute(node, name, onnx::AttributeProto::FLOAT, "a float", where);
  return attribute ? attribute->f() : fallback;
}

}  // namespace quicksr::onnx_io
