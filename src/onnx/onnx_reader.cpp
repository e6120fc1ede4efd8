#include "onnx/onnx_reader.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "common/input_file.hpp"
#include "model/graph_check.hpp"
#include "onnx/proto_values.hpp"
#include "quicksr/error.hpp"

namespace quicksr::onnx_io {
namespace {

constexpr int kMaxResizeScale = 16;
constexpr float kInfinity = std::numeric_limits<float>::infinity();

// One feature-map input, no weights; LeakyRelu's alpha is read separately.
const std::map<std::string, OpType> kUnaryOps = {{"Relu", OpType::kRelu},
                                                 {"LeakyRelu", OpType::kLeakyRelu},
                                                 {"Sigmoid", OpType::kSigmoid},
                                                 {"Tanh", OpType::kTanh}};

// An initializer or the value of a Constant node.
struct Constant {
  std::vector<std::int64_t> dims;
  std::vector<float> values;
};

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

int default_opset(const onnx::ModelProto& model, const std::string& file) {
  for (const auto& opset : model.opset_import()) {
    if (is_default_domain(opset.domain())) return static_cast<int>(opset.version());
  }
  throw Error(file + ": the model does not import the default ONNX operator set");
}

class GraphReader {
 public:
  GraphReader(const onnx::ModelProto& model, const std::string& file)
      : onnx_graph_(model.graph()), file_(file), opset_(default_opset(model, file)) {}

  // ONNX tensor -> graph tensor, after read().
  const std::map<std::string, std::string>& tensor_names() const { return names_; }

  Graph read() {
    for (const auto& tensor : onnx_graph_.initializer()) {
      constants_[tensor.name()] = to_constant(tensor, "initializer '" + tensor.name() + "'");
    }
    define_graph_input();
    for (int i = 0; i < onnx_graph_.node_size(); ++i) read_node(onnx_graph_.node(i), i);
    define_graph_output();
    try {
      graph_.scale = infer_graph_scale(graph_);
    } catch (const Error& error) {
      fail(error.what());
    }
    check_declared_sizes();
    return graph_;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw Error(file_ + ": " + problem); }
  [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& problem) const {
    fail(node_name(node) + ": " + problem);
  }

  // The values of `constant`, input `input` of `node`, checked: a NaN or infinite weight makes
  // every output pixel it reaches NaN (model files refuse them too).
  const std::vector<float>& weights_of(const onnx::NodeProto& node, int input,
                                       const Constant& constant) const {
    const auto bad = std::find_if(constant.values.begin(), constant.values.end(),
                                  [](float value) { return !std::isfinite(value); });
    if (bad != constant.values.end()) {
      fail(node, "\"" + node.input(input) + "\" holds " + std::to_string(*bad) + " at index " +
                     std::to_string(bad - constant.values.begin()) + " (weights must be finite)");
    }
    return constant.values;
  }

  Constant to_constant(const onnx::TensorProto& tensor, const std::string& what) const {
    return {{tensor.dims().begin(), tensor.dims().end()},
            tensor_values<float>(tensor, file_ + ": " + what)};
  }

  // The single non-initializer graph input becomes "input" (3 channels, float).
  void define_graph_input() {
    const onnx::ValueInfoProto* image = nullptr;
    for (const auto& value : onnx_graph_.input()) {
      if (constants_.count(value.name())) continue;  // IR < 4 lists initializers as inputs
      if (image) fail("the graph has more than one input; an SR model takes one image");
      image = &value;
    }
    if (!image) fail("the graph has no input");
    const auto& type = image->type().tensor_type();
    if (type.elem_type() != onnx::TensorProto::FLOAT) fail("the graph input is not float32");
    if (type.has_shape()) {
      const auto& dims = type.shape().dim();
      if (dims.size() != 4 || (dims[1].has_dim_value() && dims[1].dim_value() != 3)) {
        fail("the graph input must have shape N x 3 x H x W");
      }
    }
    graph_.input = "input";
    onnx_input_ = image->name();
    names_[image->name()] = graph_.input;
    defined_.insert(graph_.input);
  }

  void define_graph_output() {
    if (onnx_graph_.output_size() != 1) fail("the graph must have exactly one output");
    const std::string& name = onnx_graph_.output(0).name();
    auto it = names_.find(name);
    if (it == names_.end()) fail("the graph output '" + name + "' is not computed by any node");
    graph_.output = it->second;
  }

  // Declared static sizes must agree with the deduced scale: a cheap guard against misreading.
  void check_declared_sizes() const {
    const auto& in = onnx_graph_.input();
    const onnx::ValueInfoProto* image = nullptr;
    for (const auto& value : in) {
      if (value.name() == onnx_input_) image = &value;
    }
    const auto& in_dims = image->type().tensor_type().shape().dim();
    const auto& out_dims = onnx_graph_.output(0).type().tensor_type().shape().dim();
    if (in_dims.size() != 4 || out_dims.size() != 4) return;
    for (int axis : {2, 3}) {
      if (!in_dims[axis].has_dim_value() || !out_dims[axis].has_dim_value()) continue;
      const std::int64_t expected =
          in_dims[axis].dim_value() * graph_.scale.numerator / graph_.scale.denominator;
      if (out_dims[axis].dim_value() != expected) {
        fail("declared output size " + std::to_string(out_dims[axis].dim_value()) +
             " does not match input size " + std::to_string(in_dims[axis].dim_value()) +
             " at the deduced scale x" + graph_.scale.to_string());
      }
    }
  }

  void read_node(const onnx::NodeProto& node, int index) {
    if (!is_default_domain(node.domain()))
      fail(node, "operators of domain '" + node.domain() + "' are not supported");
    if (node.output_size() != 1) fail(node, "expected exactly one output");
    const std::string& op = node.op_type();
    if (op == "Constant") return read_constant(node);
    if (op == "Identity") return read_identity(node);
    if (op == "Shape") return read_shape(node);
    GraphNode result;
    result.name = node.name().empty() ? "node" + std::to_string(index) : node.name();
    if (op == "Conv" || op == "ConvTranspose") {
      result = read_conv(node, std::move(result), op == "ConvTranspose");
    } else if (op == "Clip") {
      result = read_clip(node, std::move(result));
    } else if (const auto unary = kUnaryOps.find(op); unary != kUnaryOps.end()) {
      result.op = unary->second;
      result.inputs = {feature_input(node, 0)};
      if (result.op == OpType::kLeakyRelu)
        result.alpha = float_attribute(node, "alpha", 0.01f, where(node));
    } else if (op == "Mul" || op == "Sub") {
      if (node.input_size() != 2) fail(node, "expected two inputs");
      result.op = op == "Mul" ? OpType::kMul : OpType::kSub;
      result.inputs = {feature_input(node, 0), feature_input(node, 1)};
    } else if (op == "PRelu") {
      result = read_prelu(node, std::move(result));
    } else if (op == "AveragePool" || op == "MaxPool") {
      result = read_pool(node, std::move(result));
    } else if (op == "Resize") {
      result = read_resize(node, std::move(result));
    } else if (op == "DepthToSpace" || op == "SpaceToDepth") {
      result = read_block_op(node, std::move(result));
    } else if (op == "Add") {
      if (node.input_size() != 2) fail(node, "expected two inputs");
      result.op = OpType::kAdd;
      result.inputs = {feature_input(node, 0), feature_input(node, 1)};
    } else if (op == "Concat") {
      const std::int64_t axis = int_attribute(node, "axis", 0, where(node), true);
      if (axis != 1 && axis != -3)
        fail(node, "only concatenation along channels (axis 1) is supported");
      result.op = OpType::kConcat;
      for (int i = 0; i < node.input_size(); ++i) result.inputs.push_back(feature_input(node, i));
    } else {
      fail(node,
           "operator not supported (supported: Conv, ConvTranspose, Clip, Relu, LeakyRelu, "
           "PRelu, Sigmoid, Tanh, Add, Sub, Mul, Concat, DepthToSpace, SpaceToDepth, "
           "AveragePool, MaxPool, Resize, Shape, Identity, Constant)");
    }
    result.output = define_output(node);
    graph_.nodes.push_back(std::move(result));
  }

  // --- node inputs and outputs ---

  std::string feature_input(const onnx::NodeProto& node, int index) const {
    if (index >= node.input_size() || node.input(index).empty()) fail(node, "missing input");
    const std::string& name = node.input(index);
    auto it = names_.find(name);
    if (it != names_.end()) return it->second;
    if (constants_.count(name)) {
      fail(node, "input '" + name + "' is a constant; only feature maps are supported here");
    }
    fail(node, "input '" + name + "' is not computed before this node");
  }

  const Constant* find_constant(const std::string& name) const {
    auto it = constants_.find(name);
    return it == constants_.end() ? nullptr : &it->second;
  }

  // Absent (no input or an empty name) gives nullptr; a feature map here is an error.
  const Constant* optional_constant(const onnx::NodeProto& node, int index) const {
    if (index >= node.input_size() || node.input(index).empty()) return nullptr;
    const Constant* constant = find_constant(node.input(index));
    if (!constant)
      fail(node, "input '" + node.input(index) + "' must be an initializer or a Constant");
    return constant;
  }

  std::string define_output(const onnx::NodeProto& node) {
    const std::string& name = node.output(0);
    // "input" is reserved for the graph input.
    const std::string graph_name = name == graph_.input ? name + ".renamed" : name;
    if (names_.count(name) || constants_.count(name) || shapes_.count(name) ||
        !defined_.insert(graph_name).second) {
      fail(node, "output '" + name + "' is defined twice");
    }
    names_[name] = graph_name;
    return graph_name;
  }

  // Where a node's errors point.
  std::string where(const onnx::NodeProto& node) const { return file_ + ": " + node_name(node); }

  // --- operators ---

  void read_constant(const onnx::NodeProto& node) {
    const onnx::AttributeProto* value = find_attribute(node, "value");
    Constant constant;
    if (value && value->type() == onnx::AttributeProto::TENSOR) {
      constant = to_constant(value->t(), node_name(node) + " value");
    } else if (const auto* scalar = find_attribute(node, "value_float")) {
      constant.values = {scalar->f()};
    } else if (const auto* list = find_attribute(node, "value_floats")) {
      constant.dims = {list->floats_size()};
      constant.values.assign(list->floats().begin(), list->floats().end());
    } else {
      fail(node, "only float tensor constants are supported");
    }
    if (names_.count(node.output(0)) || !constants_.emplace(node.output(0), constant).second) {
      fail(node, "output '" + node.output(0) + "' is defined twice");
    }
  }

  // Identity forwards its input under a new name, feature map or constant.
  void read_identity(const onnx::NodeProto& node) {
    if (node.input_size() != 1) fail(node, "expected one input");
    const std::string& output = node.output(0);
    if (names_.count(output) || constants_.count(output))
      fail(node, "output '" + output + "' is defined twice");
    if (const Constant* constant = find_constant(node.input(0))) {
      constants_[output] = *constant;
    } else {
      names_[output] = feature_input(node, 0);
    }
  }

  // Conv weights are [out, in / group, kh, kw], ConvTranspose weights [in, out / group, kh, kw];
  // ConvTranspose's output_shape (an alternative to pads) is not supported.
  GraphNode read_conv(const onnx::NodeProto& node, GraphNode result, bool transposed) {
    result.op = transposed ? OpType::kConvTranspose : OpType::kConv;
    result.inputs = {feature_input(node, 0)};
    const Constant* weight = optional_constant(node, 1);
    if (!weight || weight->dims.size() != 4) {
      fail(node, std::string("the weight must be a 4-D constant (") +
                     (transposed ? "IOHW" : "OIHW") + ")");
    }
    const std::int64_t group = int_attribute(node, "group", 1, where(node));
    if (group < 1 || weight->dims[0] % group != 0) fail(node, "invalid group count");
    Conv2d conv;
    conv.transposed = transposed;
    conv.groups = static_cast<int>(group);
    const int first = static_cast<int>(weight->dims[0]);
    const int second = static_cast<int>(weight->dims[1] * group);
    conv.out_channels = transposed ? second : first;
    conv.in_channels = transposed ? first : second;
    conv.kernel_h = static_cast<int>(weight->dims[2]);
    conv.kernel_w = static_cast<int>(weight->dims[3]);
    conv.weight = weights_of(node, 1, *weight);
    read_bias(node, conv);
    read_conv_geometry(node, conv);
    if (transposed) {
      if (find_attribute(node, "output_shape"))
        fail(node, "output_shape is not supported (use pads)");
      const auto output_padding = ints_attribute(node, "output_padding", {0, 0}, where(node));
      if (output_padding[0] != output_padding[1]) {
        fail(node, "only equal output_padding is supported");
      }
      conv.output_padding = static_cast<int>(output_padding[0]);
    }
    result.conv = static_cast<int>(graph_.convs.size());
    graph_.convs.push_back(std::move(conv));
    return result;
  }

  void read_bias(const onnx::NodeProto& node, Conv2d& conv) const {
    if (const Constant* bias = optional_constant(node, 2)) {
      if (bias->values.size() != static_cast<std::size_t>(conv.out_channels)) {
        fail(node, "the bias does not have one value per output channel");
      }
      conv.bias = weights_of(node, 2, *bias);
    }
  }

  // Slopes of shape [1] (shared) or [C, 1, 1] / [1, C, 1, 1] (per channel; a bare [C] would
  // broadcast along the width).
  GraphNode read_prelu(const onnx::NodeProto& node, GraphNode result) {
    result.op = OpType::kPRelu;
    result.inputs = {feature_input(node, 0)};
    const Constant* slope = optional_constant(node, 1);
    if (!slope) fail(node, "missing slope");
    std::vector<std::int64_t> dims = slope->dims;
    while (!dims.empty() && dims.front() == 1 && dims.size() > 3) dims.erase(dims.begin());
    const bool shared = slope->values.size() == 1;
    const bool per_channel = dims.size() == 3 && dims[1] == 1 && dims[2] == 1;
    if (!shared && !per_channel) fail(node, "slope must have shape [1] or [C, 1, 1]");
    result.prelu = static_cast<int>(graph_.prelus.size());
    graph_.prelus.push_back({static_cast<int>(slope->values.size()), weights_of(node, 1, *slope)});
    return result;
  }

  GraphNode read_pool(const onnx::NodeProto& node, GraphNode result) const {
    result.op = node.op_type() == "MaxPool" ? OpType::kMaxPool : OpType::kAveragePool;
    result.inputs = {feature_input(node, 0)};
    const auto kernel = ints_attribute(node, "kernel_shape", {0, 0}, where(node));
    if (kernel[0] != kernel[1]) fail(node, "only square pooling windows are supported");
    const auto strides = ints_attribute(node, "strides", {1, 1}, where(node));
    if (strides[0] != strides[1]) fail(node, "only equal strides are supported");
    if (int_attribute(node, "ceil_mode", 0, where(node)) != 0)
      fail(node, "ceil_mode is not supported");
    if (ints_attribute(node, "dilations", {1, 1}, where(node)) != std::vector<std::int64_t>{1, 1}) {
      fail(node, "dilated pooling is not supported");
    }
    if (int_attribute(node, "storage_order", 0, where(node)) != 0)
      fail(node, "storage_order is not supported");
    const std::string auto_pad = string_attribute(node, "auto_pad", "NOTSET", where(node));
    if (auto_pad != "NOTSET" && auto_pad != "VALID") fail(node, "auto_pad SAME is not supported");
    const auto pads = auto_pad == "VALID" ? std::vector<std::int64_t>{0, 0, 0, 0}
                                          : ints_attribute(node, "pads", {0, 0, 0, 0}, where(node));
    Pool2d& pool = result.pool;
    pool.kernel = static_cast<int>(kernel[0]);
    pool.stride = static_cast<int>(strides[0]);
    pool.pad_top = static_cast<int>(pads[0]);
    pool.pad_left = static_cast<int>(pads[1]);
    pool.pad_bottom = static_cast<int>(pads[2]);
    pool.pad_right = static_cast<int>(pads[3]);
    pool.count_include_pad = int_attribute(node, "count_include_pad", 0, where(node)) != 0;
    return result;
  }

  // Shape of a feature map, for a Resize that takes its output size from it.
  void read_shape(const onnx::NodeProto& node) {
    if (node.input_size() != 1 || find_attribute(node, "start") || find_attribute(node, "end")) {
      fail(node, "only a full Shape of one feature map is supported");
    }
    const std::string& output = node.output(0);
    if (names_.count(output) || constants_.count(output) || shapes_.count(output)) {
      fail(node, "output '" + output + "' is defined twice");
    }
    shapes_[output] = feature_input(node, 0);
  }

  // Two forms: nearest with constant scales [1, 1, s, s] (integer s) and coordinates that make
  // it out[y] = in[floor(y / s)]; linear with half-pixel coordinates and sizes = Shape(tensor).
  GraphNode read_resize(const onnx::NodeProto& node, GraphNode result) const {
    if (opset_ < 11) fail(node, "Resize before opset 11 is not supported");
    result.inputs = {feature_input(node, 0)};
    const std::string mode = string_attribute(node, "mode", "nearest", where(node));
    const std::string coordinates =
        string_attribute(node, "coordinate_transformation_mode", "half_pixel", where(node));
    if (int_attribute(node, "antialias", 0, where(node)) != 0 || find_attribute(node, "axes")) {
      fail(node, "antialias and axes are not supported");
    }
    if (mode == "linear") {
      if (coordinates != "half_pixel" && coordinates != "pytorch_half_pixel") {
        fail(node, "linear Resize needs half_pixel coordinates");
      }
      const auto like = node.input_size() == 4 ? shapes_.find(node.input(3)) : shapes_.end();
      if (like == shapes_.end()) fail(node, "linear Resize needs sizes = Shape(feature map)");
      result.op = OpType::kResizeBilinear;
      result.inputs.push_back(like->second);
      return result;
    }
    if (mode != "nearest") fail(node, "unknown mode '" + mode + "'");
    const std::string rounding =
        string_attribute(node, "nearest_mode", "round_prefer_floor", where(node));
    const bool half_pixel = coordinates == "half_pixel" || coordinates == "pytorch_half_pixel";
    const bool floors = (coordinates == "asymmetric" && rounding == "floor") ||
                        (half_pixel && rounding.starts_with("round_prefer"));
    if (!floors) fail(node, "nearest Resize coordinates other than floor(y / s) are not supported");
    const Constant* scales = optional_constant(node, 2);
    if (!scales || scales->values.size() != 4 || scales->values[0] != 1.0f ||
        scales->values[1] != 1.0f || scales->values[2] != scales->values[3] ||
        !(scales->values[2] >= 1.0f && scales->values[2] <= kMaxResizeScale) ||
        scales->values[2] != std::floor(scales->values[2])) {
      fail(node, "nearest Resize needs constant scales [1, 1, s, s] with integer s in 1.." +
                     std::to_string(kMaxResizeScale));
    }
    result.op = OpType::kResizeNearest;
    result.block_size = static_cast<int>(scales->values[2]);
    return result;
  }

  void read_conv_geometry(const onnx::NodeProto& node, Conv2d& conv) const {
    const auto kernel =
        ints_attribute(node, "kernel_shape", {conv.kernel_h, conv.kernel_w}, where(node));
    if (kernel[0] != conv.kernel_h || kernel[1] != conv.kernel_w) {
      fail(node, "kernel_shape does not match the weight");
    }
    if (ints_attribute(node, "dilations", {1, 1}, where(node)) != std::vector<std::int64_t>{1, 1}) {
      fail(node, "dilated convolutions are not supported");
    }
    const auto strides = ints_attribute(node, "strides", {1, 1}, where(node));
    if (strides[0] != strides[1] || strides[0] < 1) fail(node, "only equal strides are supported");
    conv.stride = static_cast<int>(strides[0]);
    const std::string auto_pad = string_attribute(node, "auto_pad", "NOTSET", where(node));
    std::vector<std::int64_t> pads = ints_attribute(node, "pads", {0, 0, 0, 0}, where(node));
    if (auto_pad == "VALID") {
      pads = {0, 0, 0, 0};
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // With stride 1 "same" padding does not depend on the input size.
      if (conv.stride != 1 || conv.transposed) {
        fail(node, "auto_pad SAME is supported for stride-1 Conv only");
      }
      const int total_h = conv.kernel_h - 1;
      const int total_w = conv.kernel_w - 1;
      const bool upper = auto_pad == "SAME_UPPER";
      const int top = upper ? total_h / 2 : total_h - total_h / 2;
      const int left = upper ? total_w / 2 : total_w - total_w / 2;
      pads = {top, left, total_h - top, total_w - left};
    } else if (auto_pad != "NOTSET") {
      fail(node, "unknown auto_pad '" + auto_pad + "'");
    }
    for (std::int64_t pad : pads) {
      if (pad < 0 || pad > 64) fail(node, "padding must be in [0, 64]");
    }
    // ONNX pads: x1_begin, x2_begin, x1_end, x2_end.
    conv.pad_top = static_cast<int>(pads[0]);
    conv.pad_left = static_cast<int>(pads[1]);
    conv.pad_bottom = static_cast<int>(pads[2]);
    conv.pad_right = static_cast<int>(pads[3]);
  }

  // Opset >= 11 passes min/max as optional inputs, older opsets as attributes; absent = no bound.
  GraphNode read_clip(const onnx::NodeProto& node, GraphNode result) const {
    result.op = OpType::kClip;
    result.inputs = {feature_input(node, 0)};
    if (opset_ >= 11) {
      result.clip_min = clip_bound(node, 1, -kInfinity);
      result.clip_max = clip_bound(node, 2, kInfinity);
    } else {
      result.clip_min = float_attribute(node, "min", -kInfinity, where(node));
      result.clip_max = float_attribute(node, "max", kInfinity, where(node));
    }
    return result;
  }

  float clip_bound(const onnx::NodeProto& node, int index, float fallback) const {
    const Constant* bound = optional_constant(node, index);
    if (!bound) return fallback;
    if (bound->values.size() != 1) fail(node, "min and max must be scalars");
    return bound->values[0];
  }

  GraphNode read_block_op(const onnx::NodeProto& node, GraphNode result) const {
    const bool to_space = node.op_type() == "DepthToSpace";
    result.op = to_space ? OpType::kDepthToSpace : OpType::kSpaceToDepth;
    result.inputs = {feature_input(node, 0)};
    const std::int64_t block = int_attribute(node, "blocksize", 0, where(node), true);
    if (block < 1 || block > 16) fail(node, "blocksize must be in [1, 16]");
    result.block_size = static_cast<int>(block);
    // SpaceToDepth has no mode: its channel order is DCR (the inverse of DepthToSpace DCR).
    const std::string mode = to_space ? string_attribute(node, "mode", "DCR", where(node)) : "DCR";
    if (mode != "DCR" && mode != "CRD") fail(node, "unknown mode '" + mode + "'");
    result.order = mode == "CRD" ? ChannelOrder::kCRD : ChannelOrder::kDCR;
    return result;
  }

  const onnx::GraphProto& onnx_graph_;
  const std::string& file_;
  const int opset_;
  Graph graph_;
  std::string onnx_input_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, std::string> names_;   // ONNX feature-map name -> graph tensor name
  std::map<std::string, std::string> shapes_;  // ONNX Shape output -> graph tensor name
  std::set<std::string> defined_;              // graph tensor names in use
};

}  // namespace

onnx::ModelProto read_model_proto(const std::filesystem::path& path) {
  check_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open the file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": cannot read the file");
  const std::string data = bytes.str();
  if (data.empty()) throw Error(path.string() + ": the file is empty");
  onnx::ModelProto model;
  if (!model.ParseFromString(data)) {
    throw Error(path.string() +
                ": not a valid ONNX file (the protobuf cannot be parsed; the file "
                "may be truncated or corrupt)");
  }
  if (!model.has_graph() || model.graph().node_size() == 0) {
    throw Error(path.string() + ": not an ONNX model (no graph with nodes)");
  }
  return model;
}

Graph graph_from_onnx(const onnx::ModelProto& model, const std::string& file,
                      std::map<std::string, std::string>* tensor_names) {
  GraphReader reader(model, file);
  Graph graph = reader.read();
  if (tensor_names) *tensor_names = reader.tensor_names();
  return graph;
}

}  // namespace quicksr::onnx_io
