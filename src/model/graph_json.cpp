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

constexpr std::array<OpType, 7> kOps = {OpType::kConv,         OpType::kClip,         OpType::kRelu,
                                        OpType::kDepthToSpace, OpType::kSpaceToDepth, OpType::kAdd,
                                        OpType::kConcat};

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

Json node_to_json(const GraphNode& node) {
  Json json = {{"op", graph_op_name(node.op)},
               {"name", node.name},
               {"inputs", node.inputs},
               {"output", node.output}};
  switch (node.op) {
    case OpType::kConv:
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
    case OpType::kRelu:
    case OpType::kAdd:
    case OpType::kConcat:
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

GraphNode node_from_json(const Json& json) {
  GraphNode node;
  node.op = op_from_name(member<std::string>(json, "op"));
  node.name = member<std::string>(json, "name");
  node.inputs = member<std::vector<std::string>>(json, "inputs");
  node.output = member<std::string>(json, "output");
  switch (node.op) {
    case OpType::kConv:
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
    case OpType::kRelu:
    case OpType::kAdd:
    case OpType::kConcat:
      break;
  }
  return node;
}

Conv2d conv_from_json(const Json& json, bool& has_bias) {
  Conv2d conv;
  conv.in_channels = member<int>(json, "in_channels");
  conv.out_channels = member<int>(json, "out_channels");
  const auto kernel = int_array<2>(json, "kernel");
  conv.kernel_h = kernel[0];
  conv.kernel_w = kernel[1];
  conv.stride = member<int>(json, "stride");
  const auto pads = int_array<4>(json, "pads");
  conv.pad_top = pads[0];
  conv.pad_left = pads[1];
  conv.pad_bottom = pads[2];
  conv.pad_right = pads[3];
  conv.groups = member<int>(json, "groups");
  has_bias = member<bool>(json, "bias");
  return conv;
}

}  // namespace

std::string graph_to_json(const Graph& graph) {
  Json nodes = Json::array();
  for (const GraphNode& node : graph.nodes) nodes.push_back(node_to_json(node));
  Json convs = Json::array();
  for (const Conv2d& conv : graph.convs) convs.push_back(conv_to_json(conv));
  const Json json = {{"name", graph.architecture},
                     {"input", graph.input},
                     {"output", graph.output},
                     {"nodes", nodes},
                     {"convs", convs}};
  return dump_json(json);
}

Graph graph_from_json(const std::string& text, const std::string& file,
                      std::vector<bool>& has_bias) {
  try {
    const Json json = parse_bounded_json(text.begin(), text.end());
    if (json.is_discarded()) throw Error("not valid JSON");
    Graph graph;
    graph.architecture = member<std::string>(json, "name");
    graph.input = member<std::string>(json, "input");
    graph.output = member<std::string>(json, "output");
    const Json nodes = member<Json>(json, "nodes");
    const Json convs = member<Json>(json, "convs");
    if (!nodes.is_array() || !convs.is_array())
      throw Error("\"nodes\" and \"convs\" must be arrays");
    for (const Json& node : nodes) graph.nodes.push_back(node_from_json(node));
    has_bias.clear();
    for (const Json& conv : convs) {
      bool bias = false;
      graph.convs.push_back(conv_from_json(conv, bias));
      has_bias.push_back(bias);
    }
    return graph;
  } catch (const Error& error) {
    throw Error(file + ": metadata \"graph\": " + error.what());
  }
}

}  // namespace quicksr
