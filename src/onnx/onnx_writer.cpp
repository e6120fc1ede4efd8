#include "onnx/onnx_writer.hpp"

#include <onnx/checker.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "onnx/graph_check.hpp"
#include "quicksr/error.hpp"

namespace quicksr::onnx_io {
namespace {

// Opset 13 (IR 7) is the oldest with DepthToSpace CRD and Clip bounds as inputs, so the widest
// range of runtimes can read the files.
constexpr int kOpset = 13;
constexpr int kIrVersion = 7;

// Hands out names that are unique within the ONNX graph.
class NameTable {
 public:
  std::string unique(const std::string& wanted) {
    std::string name = wanted.empty() ? "t" : wanted;
    for (int suffix = 2; !used_.insert(name).second; ++suffix) {
      name = wanted + "_" + std::to_string(suffix);
    }
    return name;
  }

 private:
  std::set<std::string> used_;
};

class OnnxWriter {
 public:
  OnnxWriter(const Graph& graph, const OnnxGraphInfo& info, const std::string& file)
      : graph_(graph), info_(info), file_(file) {}

  onnx::ModelProto write() {
    const Scale scale = check_graph(graph_, file_);
    onnx::ModelProto model;
    model.set_ir_version(kIrVersion);
    model.set_producer_name("quicksr");
    model.set_producer_version(QUICKSR_VERSION);
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOpset);
    for (const auto& [key, value] : info_.metadata) {
      auto* entry = model.add_metadata_props();
      entry->set_key(key);
      entry->set_value(value);
    }
    onnx::GraphProto& graph = *model.mutable_graph();
    graph.set_name(info_.name);
    // The image names come first so that no node or weight can take them.
    tensor_names_[graph_.input] = names_.unique("input");
    tensor_names_[graph_.output] = names_.unique("output");
    add_image_value(*graph.add_input(), "input", info_.height, info_.width, Scale{1, 1});
    add_image_value(*graph.add_output(), "output", info_.height, info_.width, scale);
    for (const GraphNode& node : graph_.nodes) add_node(graph, node);
    check(model);
    return model;
  }

 private:
  [[noreturn]] void fail(const GraphNode& node, const std::string& problem) const {
    throw Error(file_ + ": node '" + node.name + "' (" + onnx_op_name(node.op) + "): " + problem);
  }

  // 1 x 3 x H x W with fixed or symbolic H and W.
  void add_image_value(onnx::ValueInfoProto& value, const std::string& name, int height, int width,
                       Scale scale) const {
    value.set_name(name);
    auto* type = value.mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = type->mutable_shape();
    shape->add_dim()->set_dim_value(1);
    shape->add_dim()->set_dim_value(3);
    const std::string prefix = name == "input" ? "" : "output_";
    for (const auto& [size, symbol] : {std::pair{height, "height"}, std::pair{width, "width"}}) {
      if (size > 0) {
        if (size * scale.numerator % scale.denominator != 0) {
          throw Error(file_ + ": the fixed input size must be a multiple of " +
                      std::to_string(scale.denominator) + " for scale x" + scale.to_string());
        }
        shape->add_dim()->set_dim_value(size * scale.numerator / scale.denominator);
      } else {
        shape->add_dim()->set_dim_param(prefix + symbol);
      }
    }
  }

  const std::string& tensor_name(const std::string& graph_name) {
    auto it = tensor_names_.find(graph_name);
    if (it == tensor_names_.end()) {
      it = tensor_names_.emplace(graph_name, names_.unique(graph_name)).first;
    }
    return it->second;
  }

  std::string add_initializer(onnx::GraphProto& graph, const std::string& name,
                              const std::vector<std::int64_t>& dims,
                              const std::vector<float>& values) {
    auto* tensor = graph.add_initializer();
    tensor->set_name(names_.unique(name));
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    for (std::int64_t dim : dims) tensor->add_dims(dim);
    std::string raw(values.size() * sizeof(float), '\0');
    std::memcpy(raw.data(), values.data(), raw.size());
    tensor->set_raw_data(std::move(raw));
    return tensor->name();
  }

  static void add_ints(onnx::NodeProto& node, const std::string& name,
                       const std::vector<std::int64_t>& values) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INTS);
    for (std::int64_t v : values) attribute->add_ints(v);
  }

  static void add_int(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::INT);
    attribute->set_i(value);
  }

  static void add_string(onnx::NodeProto& node, const std::string& name, const std::string& value) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::STRING);
    attribute->set_s(value);
  }

  void add_node(onnx::GraphProto& graph, const GraphNode& node) {
    onnx::NodeProto& out = *graph.add_node();
    out.set_name(names_.unique(node.name));
    out.set_op_type(onnx_op_name(node.op));
    for (const std::string& input : node.inputs) out.add_input(tensor_name(input));
    out.add_output(tensor_name(node.output));
    switch (node.op) {
      case OpType::kConv:
        return add_conv(graph, out, graph_.convs[node.conv]);
      case OpType::kClip:
        return add_clip_bounds(graph, out, node);
      case OpType::kDepthToSpace:
        add_int(out, "blocksize", node.block_size);
        return add_string(out, "mode", node.order == ChannelOrder::kCRD ? "CRD" : "DCR");
      case OpType::kSpaceToDepth:
        if (node.order != ChannelOrder::kDCR) {
          fail(node, "ONNX SpaceToDepth is DCR-ordered; a CRD space-to-depth cannot be exported");
        }
        return add_int(out, "blocksize", node.block_size);
      case OpType::kConcat:
        return add_int(out, "axis", 1);
      case OpType::kRelu:
      case OpType::kAdd:
        return;
    }
  }

  void add_conv(onnx::GraphProto& graph, onnx::NodeProto& out, const Conv2d& conv) {
    out.add_input(add_initializer(
        graph, out.name() + ".weight",
        {conv.out_channels, conv.in_channels / conv.groups, conv.kernel_h, conv.kernel_w},
        conv.weight));
    if (!conv.bias.empty()) {
      out.add_input(add_initializer(graph, out.name() + ".bias", {conv.out_channels}, conv.bias));
    }
    add_ints(out, "kernel_shape", {conv.kernel_h, conv.kernel_w});
    add_ints(out, "strides", {conv.stride, conv.stride});
    add_ints(out, "pads", {conv.pad_top, conv.pad_left, conv.pad_bottom, conv.pad_right});
    add_ints(out, "dilations", {1, 1});
    add_int(out, "group", conv.groups);
  }

  // Infinite bounds are left out (an empty input name skips min when only max is given).
  void add_clip_bounds(onnx::GraphProto& graph, onnx::NodeProto& out, const GraphNode& node) {
    const bool has_min = std::isfinite(node.clip_min);
    const bool has_max = std::isfinite(node.clip_max);
    if (has_min || has_max) {
      out.add_input(has_min ? add_initializer(graph, out.name() + ".min", {}, {node.clip_min})
                            : "");
    }
    if (has_max) out.add_input(add_initializer(graph, out.name() + ".max", {}, {node.clip_max}));
  }

  void check(const onnx::ModelProto& model) const {
    try {
      onnx::checker::check_model(model);
    } catch (const std::exception& e) {
      throw Error(file_ + ": the exported model fails the ONNX checker: " + e.what());
    }
  }

  const Graph& graph_;
  const OnnxGraphInfo& info_;
  const std::string& file_;
  NameTable names_;
  std::map<std::string, std::string> tensor_names_;  // graph tensor -> ONNX tensor
};

}  // namespace

onnx::ModelProto graph_to_onnx(const Graph& graph, const OnnxGraphInfo& info,
                               const std::string& file) {
  return OnnxWriter(graph, info, file).write();
}

}  // namespace quicksr::onnx_io
