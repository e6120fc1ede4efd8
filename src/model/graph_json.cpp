#include "model/graph_json.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "model/bounded_json.hpp"
#include "model/graph_check.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

namespace {

using Json = nlohmann::json;

constexpr std::array kOps = {
    OpType::kConv,          OpType::kClip,          OpType::kRelu,        OpType::kDepthToSpace,
    OpType::kSpaceToDepth,  OpType::kAdd,           OpType::kConcat,      OpType::kConvTranspose,
    OpType::kPRelu,         OpType::kLeakyRelu,     OpType::kSigmoid,     OpType::kTanh,
    OpType::kMul,           OpType::kSub,           OpType::kAveragePool, OpType::kMaxPool,
    OpType::kResizeNearest, OpType::kResizeBilinear};

// Version 1: the ops up to concat. Version 2 adds the others, transposed convs and PReLU slopes.
constexpr int kGraphVersion = 2;

OpType op_from_name(const std::string& name) {
  for (OpType op : kOps) {
    if (name == graph_op_name(op)) return op;
  }
  throw Error("unknown graph op \"" + name + "\"");
}

std::string order_name(ChannelOrder order) { return order == ChannelOrder::kCRD ? "crd" : "dcr"; }

ChannelOrder order_from_name(const std::string& name) {
  if (name == "crd") return ChannelOrder::kCRD;
  if (name == "dcr") return ChannelOrder::kDCR;
  throw Error("unknown channel order \"" + name + "\" (expected crd or dcr)");
}

Json pool_to_json(const Pool2d& pool) {
  return {{"kernel", pool.kernel},
          {"stride", pool.stride},
          {"pads", {pool.pad_top, pool.pad_left, pool.pad_bottom, pool.pad_right}},
          {"count_include_pad", pool.count_include_pad}};
}

Json node_to_json(const GraphNode& node) {
  Json json = {{"op", graph_op_name(node.op)},
               {"name", node.name},
               {"inputs", node.inputs},
               {"output", node.output}};
  switch (node.op) {
    case OpType::kConv:
    case OpType::kConvTranspose:
      json["conv"] = node.conv;
      break;
    case OpType::kClip:
      json["min"] = node.clip_min;
      json["max"] = node.clip_max;
      break;
    case OpType::kDepthToSpace:
    case OpType::kSpaceToDepth:
      json["block_size"] = node.block_size;
      json["order"] = order_name(node.order);
      break;
    case OpType::kResizeNearest:
      json["scale"] = node.block_size;
      break;
    case OpType::kPRelu:
      json["prelu"] = node.prelu;
      break;
    case OpType::kLeakyRelu:
      json["alpha"] = node.alpha;
      break;
    case OpType::kAveragePool:
    case OpType::kMaxPool:
      json["pool"] = pool_to_json(node.pool);
      break;
    case OpType::kRelu:
    case OpType::kAdd:
    case OpType::kConcat:
    case OpType::kSigmoid:
    case OpType::kTanh:
    case OpType::kMul:
    case OpType::kSub:
    case OpType::kResizeBilinear:
      break;
  }
  return json;
}

Json conv_to_json(const Conv2d& conv) {
  return {{"in_channels", conv.in_channels},
          {"out_channels", conv.out_channels},
          {"kernel", {conv.kernel_h, conv.kernel_w}},
          {"stride", conv.stride},
          {"pads", {conv.pad_top, conv.pad_left, conv.pad_bottom, conv.pad_right}},
          {"groups", conv.groups},
          {"bias", !conv.bias.empty()}};
}

Json conv_json(const Conv2d& conv) {
  Json json = conv_to_json(conv);
  if (conv.transposed) {
    json["transposed"] = true;
    json["output_padding"] = conv.output_padding;
  }
  return json;
}

// The oldest format version that can hold `graph` (files stay readable by older quicksr).
int version_needed(const Graph& graph) {
  bool needs_two = !graph.prelus.empty();
  for (const GraphNode& node : graph.nodes) needs_two |= graph_op_version(node.op) > 1;
  return needs_two ? 2 : 1;
}

// Typed access to a JSON object's members; wrong types and out-of-range numbers become
// quicksr::Error (never an nlohmann exception or an undefined narrowing conversion).
const Json& field(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) {
    throw Error(std::string("missing \"") + key + "\"");
  }
  return object.at(key);
}

[[noreturn]] void wrong_type(const char* key) {
  throw Error(std::string("\"") + key + "\" has the wrong type");
}

template <typename T>
T member(const Json& object, const char* key) {
  try {
    return field(object, key).get<T>();
  } catch (const Json::exception&) {
    wrong_type(key);
  }
}

int to_int(const Json& value, const char* key) {
  const bool fits = value.is_number_unsigned()
                        ? value.get<std::uint64_t>() <= std::numeric_limits<int>::max()
                        : value.is_number_integer() &&
                              value.get<std::int64_t>() >= std::numeric_limits<int>::min() &&
                              value.get<std::int64_t>() <= std::numeric_limits<int>::max();
  if (!fits) wrong_type(key);
  return static_cast<int>(value.get<std::int64_t>());
}

template <>
int member<int>(const Json& object, const char* key) {
  return to_int(field(object, key), key);
}

template <>
float member<float>(const Json& object, const char* key) {
  const Json& value = field(object, key);
  if (!value.is_number()) wrong_type(key);
  const double number = value.get<double>();
  if (!(std::abs(number) <= std::numeric_limits<float>::max())) wrong_type(key);
  return static_cast<float>(number);
}

template <std::size_t N>
std::array<int, N> int_array(const Json& object, const char* key) {
  const Json& value = field(object, key);
  if (!value.is_array() || value.size() != N) wrong_type(key);
  std::array<int, N> values{};
  for (std::size_t i = 0; i < N; ++i) values[i] = to_int(value[i], key);
  return values;
}

// "pads" [top, left, bottom, right] into a Conv2d or Pool2d.
template <typename Window>
void read_pads(const Json& json, Window& window) {
  const auto pads = int_array<4>(json, "pads");
  window.pad_top = pads[0];
  window.pad_left = pads[1];
  window.pad_bottom = pads[2];
  window.pad_right = pads[3];
}

Pool2d pool_from_json(const Json& json) {
  Pool2d pool;
  pool.kernel = member<int>(json, "kernel");
  pool.stride = member<int>(json, "stride");
  read_pads(json, pool);
  pool.count_include_pad = member<bool>(json, "count_include_pad");
  return pool;
}

GraphNode node_from_json(const Json& json, int version) {
  GraphNode node;
  node.op = op_from_name(member<std::string>(json, "op"));
  if (graph_op_version(node.op) > version) {
    throw Error(std::string("op \"") + graph_op_name(node.op) + "\" needs graph version " +
                std::to_string(graph_op_version(node.op)) + ", the file declares " +
                std::to_string(version));
  }
  node.name = member<std::string>(json, "name");
  node.inputs = member<std::vector<std::string>>(json, "inputs");
  node.output = member<std::string>(json, "output");
  switch (node.op) {
    case OpType::kConv:
    case OpType::kConvTranspose:
      node.conv = member<int>(json, "conv");
      break;
    case OpType::kClip:
      node.clip_min = member<float>(json, "min");
      node.clip_max = member<float>(json, "max");
      break;
    case OpType::kDepthToSpace:
    case OpType::kSpaceToDepth:
      node.block_size = member<int>(json, "block_size");
      node.order = order_from_name(member<std::string>(json, "order"));
      break;
    case OpType::kResizeNearest:
      node.block_size = member<int>(json, "scale");
      break;
    case OpType::kPRelu:
      node.prelu = member<int>(json, "prelu");
      break;
    case OpType::kLeakyRelu:
      node.alpha = member<float>(json, "alpha");
      break;
    case OpType::kAveragePool:
    case OpType::kMaxPool:
      node.pool = pool_from_json(field(json, "pool"));
      break;
    case OpType::kRelu:
    case OpType::kAdd:
    case OpType::kConcat:
    case OpType::kSigmoid:
    case OpType::kTanh:
    case OpType::kMul:
    case OpType::kSub:
    case OpType::kResizeBilinear:
      break;
  }
  return node;
}

Conv2d conv_from_json(const Json& json, int version, bool& has_bias) {
  Conv2d conv;
  conv.in_channels = member<int>(json, "in_channels");
  conv.out_channels = member<int>(json, "out_channels");
  const auto kernel = int_array<2>(json, "kernel");
  conv.kernel_h = kernel[0];
  conv.kernel_w = kernel[1];
  conv.stride = member<int>(json, "stride");
  read_pads(json, conv);
  conv.groups = member<int>(json, "groups");
  has_bias = member<bool>(json, "bias");
  if (json.contains("transposed")) {
    if (version < 2) throw Error("\"transposed\" needs graph version 2");
    conv.transposed = member<bool>(json, "transposed");
    conv.output_padding = member<int>(json, "output_padding");
  }
  return conv;
}

int version_from_json(const Json& json) {
  if (!json.contains("version")) return 1;
  const int version = member<int>(json, "version");
  if (version < 1 || version > kGraphVersion) {
    throw Error("graph version " + std::to_string(version) +
                " is not supported (this quicksr "
                "reads 1.." +
                std::to_string(kGraphVersion) + ")");
  }
  return version;
}

}  // namespace

std::string graph_to_json(const Graph& graph) {
  Json nodes = Json::array();
  for (const GraphNode& node : graph.nodes) nodes.push_back(node_to_json(node));
  Json convs = Json::array();
  for (const Conv2d& conv : graph.convs) convs.push_back(conv_json(conv));
  Json json = {{"name", graph.architecture},
               {"input", graph.input},
               {"output", graph.output},
               {"nodes", nodes},
               {"convs", convs}};
  const int version = version_needed(graph);
  if (version > 1) {
    json["version"] = version;
    Json prelus = Json::array();
    for (const PRelu& prelu : graph.prelus) prelus.push_back({{"channels", prelu.channels}});
    json["prelus"] = prelus;
  }
  return dump_json(json);
}

Graph graph_from_json(const std::string& text, const std::string& file,
                      std::vector<bool>& has_bias) {
  try {
    const Json json = parse_bounded_json(text.begin(), text.end());
    if (json.is_discarded()) throw Error("not valid JSON");
    Graph graph;
    const int version = version_from_json(json);
    graph.architecture = member<std::string>(json, "name");
    graph.input = member<std::string>(json, "input");
    graph.output = member<std::string>(json, "output");
    const Json nodes = member<Json>(json, "nodes");
    const Json convs = member<Json>(json, "convs");
    if (!nodes.is_array() || !convs.is_array())
      throw Error("\"nodes\" and \"convs\" must be arrays");
    for (const Json& node : nodes) graph.nodes.push_back(node_from_json(node, version));
    has_bias.clear();
    for (const Json& conv : convs) {
      bool bias = false;
      graph.convs.push_back(conv_from_json(conv, version, bias));
      has_bias.push_back(bias);
    }
    if (version >= 2) {
      const Json prelus = member<Json>(json, "prelus");
      if (!prelus.is_array()) throw Error("\"prelus\" must be an array");
      for (const Json& prelu : prelus) graph.prelus.push_back({member<int>(prelu, "channels"), {}});
    }
    return graph;
  } catch (const Error& error) {
    throw Error(file + ": metadata \"graph\": " + error.what());
  }
}

}  // namespace quicksr
