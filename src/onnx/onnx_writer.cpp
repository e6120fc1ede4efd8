#include "onnx/onnx_writer.hpp"

#include <onnx/checker.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <type_traits>
#include <vector>

#include "common/atomic_file.hpp"
#include "model/graph_check.hpp"
#include "model/layout.hpp"
#include "quicksr/error.hpp"
#include "quicksr/onnx.hpp"

namespace quicksr::onnx_io {
namespace {

// The IR version each opset came with (onnx/helper.py VERSION_TABLE), so that older runtimes
// accept the files.
int ir_version(int opset) {
  if (opset <= 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  return 8;
}

// Position of channel c's sample (dy, dx) among the C * block^2 channels of a depth-to-space input
// (or space-to-depth output).
int block_channel(ChannelOrder order, int c, int dy, int dx, int channels, int block) {
  return order == ChannelOrder::kCRD ? (c * block + dy) * block + dx
                                     : (dy * block + dx) * channels + c;
}

const char* onnx_op_name(OpType op) {
  switch (op) {
    case OpType::kConv:
      return "Conv";
    case OpType::kClip:
      return "Clip";
    case OpType::kRelu:
      return "Relu";
    case OpType::kDepthToSpace:
      return "DepthToSpace";
    case OpType::kSpaceToDepth:
      return "SpaceToDepth";
    case OpType::kAdd:
      return "Add";
    case OpType::kConcat:
      return "Concat";
    case OpType::kConvTranspose:
      return "ConvTranspose";
    case OpType::kPRelu:
      return "PRelu";
    case OpType::kLeakyRelu:
      return "LeakyRelu";
    case OpType::kSigmoid:
      return "Sigmoid";
    case OpType::kTanh:
      return "Tanh";
    case OpType::kMul:
      return "Mul";
    case OpType::kSub:
      return "Sub";
    case OpType::kAveragePool:
      return "AveragePool";
    case OpType::kMaxPool:
      return "MaxPool";
    case OpType::kResizeNearest:
    case OpType::kResizeBilinear:
      return "Resize";
  }
  return "?";
}

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
  OnnxWriter(const Graph& graph, const OnnxGraphInfo& info, const std::string& file,
             const QdqAnnotations* qdq)
      : graph_(graph), info_(info), file_(file), qdq_(qdq) {}

  onnx::ModelProto write() {
    try {
      check_graph(graph_);
    } catch (const Error& error) {
      throw Error(file_ + ": " + error.what());
    }
    const Scale scale = graph_.scale;
    onnx::ModelProto model;
    if (info_.opset < kMinOnnxOpset || info_.opset > kMaxOnnxOpset) {
      throw Error(file_ + ": opset " + std::to_string(info_.opset) + " is outside " +
                  std::to_string(kMinOnnxOpset) + ".." + std::to_string(kMaxOnnxOpset));
    }
    if (qdq_ && info_.opset < 13) {
      throw Error(file_ + ": INT8 (QDQ) export needs opset 13 or later (per-channel scales)");
    }
    for (const auto& [name, tensor] : infer_graph_tensors(graph_)) {
      channels_[name] = static_cast<int>(tensor.channels);
    }
    model.set_ir_version(ir_version(info_.opset));
    model.set_producer_name("quicksr");
    model.set_producer_version(QUICKSR_VERSION);
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(info_.opset);
    for (const auto& [key, value] : info_.metadata) {
      auto* entry = model.add_metadata_props();
      entry->set_key(key);
      entry->set_value(value);
    }
    onnx::GraphProto& graph = *model.mutable_graph();
    graph.set_name(info_.name);
    // The image names come first so that no node or weight can take them.
    tensor_names_[graph_.input] = names_.unique("input");
    const std::string output = names_.unique("output");
    // An encoded output is quantized as well: "output" is then its quantizer pair's result.
    tensor_names_[graph_.output] = encoded(graph_.output) ? names_.unique("output_float") : output;
    add_image_value(*graph.add_input(), "input", info_.height, info_.width, Scale{1, 1});
    add_image_value(*graph.add_output(), "output", info_.height, info_.width, scale);
    quantize_if_encoded(graph, graph_.input);
    for (const GraphNode& node : graph_.nodes) add_node(graph, node);
    check(model);
    return model;
  }

 private:
  [[noreturn]] void fail(const GraphNode& node, const std::string& problem) const {
    throw Error(file_ + ": node '" + node.name + "' (" + onnx_op_name(node.op) + "): " + problem);
  }

  // N x 3 x H x W with fixed or symbolic N, H and W.
  void add_image_value(onnx::ValueInfoProto& value, const std::string& name, int height, int width,
                       Scale scale) const {
    value.set_name(name);
    auto* type = value.mutable_type()->mutable_tensor_type();
    type->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = type->mutable_shape();
    if (info_.batch > 0) {
      shape->add_dim()->set_dim_value(info_.batch);
    } else {
      shape->add_dim()->set_dim_param("batch");
    }
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

  template <typename T>
  std::string add_initializer(onnx::GraphProto& graph, const std::string& name,
                              const std::vector<std::int64_t>& dims, const std::vector<T>& values) {
    auto* tensor = graph.add_initializer();
    tensor->set_name(names_.unique(name));
    tensor->set_data_type(onnx_type<T>());
    for (std::int64_t dim : dims) tensor->add_dims(dim);
    std::string raw(values.size() * sizeof(T), '\0');
    if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());  // data() may be null
    tensor->set_raw_data(std::move(raw));
    return tensor->name();
  }

  template <typename T>
  static constexpr onnx::TensorProto::DataType onnx_type() {
    if constexpr (std::is_same_v<T, float>) return onnx::TensorProto::FLOAT;
    if constexpr (std::is_same_v<T, std::uint8_t>) return onnx::TensorProto::UINT8;
    if constexpr (std::is_same_v<T, std::int8_t>) return onnx::TensorProto::INT8;
    if constexpr (std::is_same_v<T, std::int32_t>) return onnx::TensorProto::INT32;
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
    // Dequantized weights must be computed before the conv that reads them.
    std::vector<std::string> weights;
    if ((node.op == OpType::kConv || node.op == OpType::kConvTranspose) && qdq_) {
      weights =
          add_dequantized_weights(graph, node, graph_.convs[node.conv], qdq_->convs.at(node.conv));
    }
    // Likewise the shape a bilinear resize takes its output size from.
    std::string target_shape;
    if (node.op == OpType::kResizeBilinear) target_shape = add_shape(graph, node);
    onnx::NodeProto& out = *graph.add_node();
    out.set_name(names_.unique(node.name));
    out.set_op_type(onnx_op_name(node.op));
    for (const std::string& input : node.inputs) out.add_input(tensor_name(input));
    out.add_output(tensor_name(node.output));
    if (node.op == OpType::kResizeBilinear) out.mutable_input()->DeleteSubrange(1, 1);
    add_attributes(graph, out, node, weights);
    if (!target_shape.empty()) out.add_input(target_shape);
    quantize_if_encoded(graph, node.output);
  }

  // Shape of the resize's second input: N x C x H x W, equal channels (the checker ensures it).
  std::string add_shape(onnx::GraphProto& graph, const GraphNode& node) {
    require_resize_opset(node);
    onnx::NodeProto& shape = *graph.add_node();
    shape.set_name(names_.unique(node.name + ".shape"));
    shape.set_op_type("Shape");
    shape.add_input(tensor_name(node.inputs.at(1)));
    shape.add_output(names_.unique(node.name + ".size"));
    return shape.output(0);
  }

  void require_resize_opset(const GraphNode& node) const {
    if (info_.opset < 11) fail(node, "Resize needs opset 11 or later");
  }

  // Resize's roi and scales before the one that is used: empty names from opset 13, empty
  // tensors before (opset 11 and 12 require the inputs).
  std::string unused_resize_input(onnx::GraphProto& graph, const std::string& name) {
    if (info_.opset >= 13) return "";
    return add_initializer(graph, name, {0}, std::vector<float>{});
  }

  void add_resize(onnx::GraphProto& graph, onnx::NodeProto& out, const GraphNode& node) {
    require_resize_opset(node);
    out.add_input(unused_resize_input(graph, out.name() + ".roi"));
    if (node.op == OpType::kResizeNearest) {
      const auto scale = static_cast<float>(node.block_size);
      out.add_input(add_initializer(graph, out.name() + ".scales", {4},
                                    std::vector<float>{1.0f, 1.0f, scale, scale}));
      add_string(out, "mode", "nearest");
      add_string(out, "coordinate_transformation_mode", "asymmetric");
      return add_string(out, "nearest_mode", "floor");
    }
    out.add_input(unused_resize_input(graph, out.name() + ".scales"));
    add_string(out, "mode", "linear");
    add_string(out, "coordinate_transformation_mode", "half_pixel");
  }

  static void add_float(onnx::NodeProto& node, const std::string& name, float value) {
    auto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto::FLOAT);
    attribute->set_f(value);
  }

  void add_pool(onnx::NodeProto& out, const GraphNode& node) const {
    const Pool2d& pool = node.pool;
    add_ints(out, "kernel_shape", {pool.kernel, pool.kernel});
    add_ints(out, "strides", {pool.stride, pool.stride});
    add_ints(out, "pads", {pool.pad_top, pool.pad_left, pool.pad_bottom, pool.pad_right});
    if (node.op == OpType::kAveragePool) {
      add_int(out, "count_include_pad", pool.count_include_pad ? 1 : 0);
    }
  }

  // Slopes as [C, 1, 1] (per channel; broadcast over N, H, W) or [1] (shared).
  void add_prelu(onnx::GraphProto& graph, onnx::NodeProto& out, const GraphNode& node) {
    const PRelu& prelu = graph_.prelus.at(static_cast<std::size_t>(node.prelu));
    const std::vector<std::int64_t> dims = prelu.channels == 1
                                               ? std::vector<std::int64_t>{1}
                                               : std::vector<std::int64_t>{prelu.channels, 1, 1};
    out.add_input(add_initializer(graph, out.name() + ".slope", dims, prelu.slope));
  }

  void add_attributes(onnx::GraphProto& graph, onnx::NodeProto& out, const GraphNode& node,
                      const std::vector<std::string>& dequantized_weights) {
    switch (node.op) {
      case OpType::kConv:
        for (const std::string& weight : dequantized_weights) out.add_input(weight);
        return add_conv(graph, out, graph_.convs[node.conv], dequantized_weights.empty());
      case OpType::kClip:
        return info_.opset < 11 ? add_clip_attributes(out, node)
                                : add_clip_bounds(graph, out, node);
      case OpType::kDepthToSpace:
        if (info_.shuffles_as_convs) return add_depth_to_space_conv(graph, out, node);
        add_int(out, "blocksize", node.block_size);
        if (info_.opset >= 11) {
          return add_string(out, "mode", node.order == ChannelOrder::kCRD ? "CRD" : "DCR");
        }
        if (node.order == ChannelOrder::kCRD) {
          fail(node, "opset " + std::to_string(info_.opset) +
                         " has DCR depth-to-space only: export with shuffles as convs (quicksr "
                         "export --opencv), or a QuickSRNet with DCR (--dcr)");
        }
        return;
      case OpType::kSpaceToDepth:
        if (node.order != ChannelOrder::kDCR) {
          fail(node, "ONNX SpaceToDepth is DCR-ordered; a CRD space-to-depth cannot be exported");
        }
        if (info_.shuffles_as_convs) return add_space_to_depth_conv(graph, out, node);
        return add_int(out, "blocksize", node.block_size);
      case OpType::kConcat:
        return add_int(out, "axis", 1);
      case OpType::kConvTranspose:
        for (const std::string& weight : dequantized_weights) out.add_input(weight);
        add_conv(graph, out, graph_.convs[node.conv], dequantized_weights.empty());
        return add_ints(
            out, "output_padding",
            {graph_.convs[node.conv].output_padding, graph_.convs[node.conv].output_padding});
      case OpType::kPRelu:
        return add_prelu(graph, out, node);
      case OpType::kLeakyRelu:
        return add_float(out, "alpha", node.alpha);
      case OpType::kAveragePool:
      case OpType::kMaxPool:
        return add_pool(out, node);
      case OpType::kResizeNearest:
      case OpType::kResizeBilinear:
        return add_resize(graph, out, node);
      case OpType::kRelu:
      case OpType::kAdd:
      case OpType::kSigmoid:
      case OpType::kTanh:
      case OpType::kMul:
      case OpType::kSub:
        return;
    }
  }

  // `float_weights`: the conv's own weights as initializers (else its inputs are already given).
  void add_conv(onnx::GraphProto& graph, onnx::NodeProto& out, const Conv2d& conv,
                bool float_weights = true) {
    if (float_weights) {
      out.add_input(
          add_initializer(graph, out.name() + ".weight", weight_shape(conv), conv.weight));
      if (!conv.bias.empty()) {
        out.add_input(add_initializer(graph, out.name() + ".bias", {conv.out_channels}, conv.bias));
      }
    }
    add_ints(out, "kernel_shape", {conv.kernel_h, conv.kernel_w});
    add_ints(out, "strides", {conv.stride, conv.stride});
    add_ints(out, "pads", {conv.pad_top, conv.pad_left, conv.pad_bottom, conv.pad_right});
    add_ints(out, "dilations", {1, 1});
    add_int(out, "group", conv.groups);
  }

  // ConvTranspose with kernel = stride = block: input channel block_channel(c, dy, dx) lands on
  // output channel c at offset (dy, dx) with weight 1, every other weight is 0.
  void add_depth_to_space_conv(onnx::GraphProto& graph, onnx::NodeProto& out,
                               const GraphNode& node) {
    const int block = node.block_size;
    const int channels = channels_.at(node.output);
    const int in_channels = channels * block * block;
    std::vector<float> weight(static_cast<std::size_t>(in_channels) * channels * block * block);
    for (int c = 0; c < channels; ++c) {
      for (int dy = 0; dy < block; ++dy) {
        for (int dx = 0; dx < block; ++dx) {
          const int in = block_channel(node.order, c, dy, dx, channels, block);
          weight[((static_cast<std::size_t>(in) * channels + c) * block + dy) * block + dx] = 1.0f;
        }
      }
    }
    out.set_op_type("ConvTranspose");
    out.add_input(add_initializer(graph, out.name() + ".weight",
                                  {in_channels, channels, block, block}, weight));
    add_ints(out, "kernel_shape", {block, block});
    add_ints(out, "strides", {block, block});
  }

  // Conv with kernel = stride = block: output channel block_channel(c, dy, dx) takes input channel
  // c at offset (dy, dx).
  void add_space_to_depth_conv(onnx::GraphProto& graph, onnx::NodeProto& out,
                               const GraphNode& node) {
    const int block = node.block_size;
    const int channels = channels_.at(node.inputs.at(0));
    Conv2d conv;
    conv.in_channels = channels;
    conv.out_channels = channels * block * block;
    conv.kernel_h = conv.kernel_w = conv.stride = block;
    conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 0;
    conv.weight.assign(static_cast<std::size_t>(conv.out_channels) * channels * block * block,
                       0.0f);
    for (int c = 0; c < channels; ++c) {
      for (int dy = 0; dy < block; ++dy) {
        for (int dx = 0; dx < block; ++dx) {
          conv.w(block_channel(node.order, c, dy, dx, channels, block), c, dy, dx) = 1.0f;
        }
      }
    }
    out.set_op_type("Conv");
    add_conv(graph, out, conv);
  }

  // Clip-6 (opset < 11): bounds as attributes; an infinite bound is left out.
  static void add_clip_attributes(onnx::NodeProto& out, const GraphNode& node) {
    for (const auto& [name, value] : {std::pair{"min", node.clip_min}, {"max", node.clip_max}}) {
      if (std::isfinite(value)) add_float(out, name, value);
    }
  }

  // Infinite bounds are left out (an empty input name skips min when only max is given).
  void add_clip_bounds(onnx::GraphProto& graph, onnx::NodeProto& out, const GraphNode& node) {
    const bool has_min = std::isfinite(node.clip_min);
    const bool has_max = std::isfinite(node.clip_max);
    if (has_min || has_max) {
      out.add_input(has_min ? add_initializer(graph, out.name() + ".min", {},
                                              std::vector<float>{node.clip_min})
                            : "");
    }
    if (has_max) {
      out.add_input(
          add_initializer(graph, out.name() + ".max", {}, std::vector<float>{node.clip_max}));
    }
  }

  // DequantizeLinear of the s8 weights and s32 bias (zero points 0): per output channel (axis 0
  // of OIHW, 1 of a transposed conv's IOHW), or per tensor. Returns the float weight and bias.
  std::vector<std::string> add_dequantized_weights(onnx::GraphProto& graph, const GraphNode& node,
                                                   const Conv2d& conv, const QdqConv& q) {
    if (conv.transposed && conv.groups != 1 && q.weight_scale.size() > 1) {
      fail(node, "a grouped transposed conv with per-channel weights has no QDQ form");
    }
    const std::string weight =
        add_initializer(graph, node.name + ".weight_quantized", weight_shape(conv), q.weight);
    const std::string bias =
        add_initializer(graph, node.name + ".bias_quantized", {conv.out_channels}, q.bias);
    return {add_dequantize(graph, weight, node.name + ".weight", q.weight_scale, std::int8_t{0},
                           conv.transposed ? 1 : 0),
            add_dequantize(graph, bias, node.name + ".bias", q.bias_scale, std::int32_t{0})};
  }

  // `output` = DequantizeLinear(`tensor`) with zero points `zero` (of the tensor's type): along
  // `axis` when there are several scales.
  template <typename T>
  std::string add_dequantize(onnx::GraphProto& graph, const std::string& tensor,
                             const std::string& output, const std::vector<float>& scales, T zero,
                             int axis = 0) {
    const bool per_axis = scales.size() > 1;
    const std::vector<std::int64_t> dims =
        per_axis ? std::vector<std::int64_t>{static_cast<std::int64_t>(scales.size())}
                 : std::vector<std::int64_t>{};
    const std::vector<T> zero_points(scales.size(), zero);
    onnx::NodeProto& node = *graph.add_node();
    node.set_name(names_.unique(tensor + ".dequantize"));
    node.set_op_type("DequantizeLinear");
    node.add_input(tensor);
    node.add_input(add_initializer(graph, tensor + ".scale", dims, scales));
    node.add_input(add_initializer(graph, tensor + ".zero_point", dims, zero_points));
    node.add_output(names_.unique(output));
    if (per_axis) add_int(node, "axis", axis);
    return node.output(0);
  }

  // When `graph_tensor` has an activation encoding: QuantizeLinear to u8, then
  // DequantizeLinear, whose output the tensor's consumers read from now on.
  bool encoded(const std::string& graph_tensor) const {
    return qdq_ && qdq_->activations.count(graph_tensor);
  }

  void quantize_if_encoded(onnx::GraphProto& graph, const std::string& graph_tensor) {
    if (!encoded(graph_tensor)) return;
    const ActivationEncoding& encoding = qdq_->activations.at(graph_tensor);
    const std::string tensor = tensor_name(graph_tensor);
    const std::string scale =
        add_initializer(graph, tensor + ".scale", {}, std::vector<float>{encoding.scale});
    const std::string zero_point =
        add_initializer(graph, tensor + ".zero_point", {},
                        std::vector<std::uint8_t>{static_cast<std::uint8_t>(encoding.zero_point)});
    onnx::NodeProto& quantize = *graph.add_node();
    quantize.set_name(names_.unique(tensor + ".quantize"));
    quantize.set_op_type("QuantizeLinear");
    for (const std::string& input : {tensor, scale, zero_point}) quantize.add_input(input);
    quantize.add_output(names_.unique(tensor + "_quantized"));
    onnx::NodeProto& dequantize = *graph.add_node();
    dequantize.set_name(names_.unique(tensor + ".dequantize"));
    dequantize.set_op_type("DequantizeLinear");
    for (const std::string& input : {quantize.output(0), scale, zero_point}) {
      dequantize.add_input(input);
    }
    dequantize.add_output(graph_tensor == graph_.output ? "output"
                                                        : names_.unique(tensor + "_dequantized"));
    tensor_names_[graph_tensor] = dequantize.output(0);
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
  const QdqAnnotations* qdq_;
  NameTable names_;
  std::map<std::string, std::string> tensor_names_;  // graph tensor -> ONNX tensor
  std::map<std::string, int> channels_;              // graph tensor -> channels
};

}  // namespace

onnx::ModelProto graph_to_onnx(const Graph& graph, const OnnxGraphInfo& info,
                               const std::string& file, const QdqAnnotations* qdq) {
  return OnnxWriter(graph, info, file, qdq).write();
}

void save_model_proto(const onnx::ModelProto& model, const std::filesystem::path& path,
                      ExistingFile existing) {
  write_atomically(
      path,
      [&](const std::filesystem::path& temp) {
        std::ofstream out(temp, std::ios::binary);
        if (!out || !model.SerializeToOstream(&out) || !out.flush()) {
          throw Error(path.string() + ": cannot write the file");
        }
      },
      existing);
}

}  // namespace quicksr::onnx_io
