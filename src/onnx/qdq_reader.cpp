#include "onnx/qdq_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include "model/layout.hpp"
#include "onnx/onnx_reader.hpp"
#include "onnx/proto_values.hpp"
#include "onnx/quicksrnet_graph.hpp"
#include "quicksr/error.hpp"

namespace quicksr::onnx_io {
namespace {

bool is_qdq_op(const onnx::NodeProto& node) {
  return node.op_type() == "QuantizeLinear" || node.op_type() == "DequantizeLinear";
}

// The integers of an s8 weight or s32 bias tensor, with its DequantizeLinear scales (one, or
// one per output channel). `first` is the carrier index of values[0] (see QdqReader).
struct QuantizedTensor {
  bool s8 = false;  // weights; else s32 (biases)
  std::vector<std::int32_t> values;
  std::vector<float> scales;
  std::int64_t per_channel_values = 0;  // values / dims[0]
  int axis = 0;                         // of per-channel scales: 0 (OIHW) or 1 (IOHW)
  std::int64_t first = 0;
};

// A file's QDQ graph taken apart: the float graph with index carriers in place of the
// dequantized weights and biases, the integer tensors, and the activation encodings in order.
// Carrier values are exact float integers: weight or bias k of the file (counted over all its
// dequantized tensors, from 1) carries k, so that after the QuickSRNet recognition (which only
// permutes channels) each weight and bias names its integer source.
class QdqReader {
 public:
  QdqReader(const onnx::ModelProto& model, const std::string& file) : model_(model), file_(file) {}

  Int8Net read() {
    for (const auto& tensor : model_.graph().initializer()) initializers_[tensor.name()] = &tensor;
    for (const auto& node : model_.graph().node()) {
      for (const std::string& output : node.output()) producers_[output] = &node;
    }
    const Graph graph = graph_from_onnx(carrier_model(), file_, &tensor_names_);
    if (const std::optional<QuickSRNet> net = graph_to_quicksrnet(graph)) return quantized(*net);
    return quantized(graph);
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw Error(file_ + ": " + problem); }
  [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& problem) const {
    fail(node_name(node) + ": " + problem);
  }

  const onnx::TensorProto* initializer(const onnx::NodeProto& node, int input) const {
    if (node.input_size() <= input || node.input(input).empty()) return nullptr;
    const auto found = initializers_.find(node.input(input));
    return found == initializers_.end() ? nullptr : found->second;
  }

  // An initializer's values, its element type T's.
  template <typename T>
  std::vector<T> values(const onnx::NodeProto& node, const onnx::TensorProto& tensor) const {
    return tensor_values<T>(tensor, where(node) + ": '" + tensor.name() + "'");
  }

  std::string where(const onnx::NodeProto& node) const { return file_ + ": " + node_name(node); }

  // Scales (input 1, positive and finite) and zero points (input 2, optional) of a Q/DQ node.
  std::vector<float> scales(const onnx::NodeProto& node) const {
    const onnx::TensorProto* tensor = initializer(node, 1);
    if (!tensor) fail(node, "its scale is not an initializer");
    std::vector<float> result = values<float>(node, *tensor);
    if (result.empty()) fail(node, "no scale");
    for (float scale : result) {
      if (!(scale > 0) || !std::isfinite(scale)) fail(node, "a scale is not positive and finite");
    }
    return result;
  }

  // A weight or bias DequantizeLinear: its integers, zero points 0, per tensor or along axis 0.
  QuantizedTensor dequantized_tensor(const onnx::NodeProto& node, const onnx::TensorProto& tensor) {
    const bool weight = tensor.data_type() == onnx::TensorProto::INT8;
    QuantizedTensor result;
    result.s8 = weight;
    if (weight) {
      for (std::int8_t v : values<std::int8_t>(node, tensor)) {
        if (v == -128) fail(node, "weight -128: quicksr's s8 weights are symmetric [-127, 127]");
        result.values.push_back(v);
      }
    } else {
      result.values = values<std::int32_t>(node, tensor);
    }
    result.scales = scales(node);
    if (const onnx::TensorProto* zero = initializer(node, 2)) {
      const auto all_zero = [](const auto& points) {
        return std::all_of(points.begin(), points.end(), [](auto v) { return v == 0; });
      };
      if (weight ? !all_zero(values<std::int8_t>(node, *zero))
                 : !all_zero(values<std::int32_t>(node, *zero))) {
        fail(node, "a zero point is not 0");
      }
    }
    const std::int64_t outputs = tensor.dims_size() > 0 ? tensor.dims(0) : 1;
    // A negative axis counts from the last dimension.
    std::int64_t axis = int_attribute(node, "axis", 1, where(node));
    if (axis < 0) axis += tensor.dims_size();
    if (result.scales.size() != 1 &&
        (axis < 0 || axis > 1 || axis >= tensor.dims_size() ||
         static_cast<std::int64_t>(result.scales.size()) != tensor.dims(static_cast<int>(axis)))) {
      fail(node,
           "scales must be one, or one per output channel (along axis 0, or 1 when transposed)");
    }
    result.axis = static_cast<int>(axis);
    result.per_channel_values =
        outputs > 0 ? static_cast<std::int64_t>(result.values.size()) / outputs : 0;
    result.first = next_index_;
    next_index_ += static_cast<std::int64_t>(result.values.size());
    if (next_index_ > (1 << 24)) fail("more than 2^24 weights");  // carriers are exact floats
    return result;
  }

  // The activation encoding of a QuantizeLinear (u8, scalar scale and zero point).
  ActivationEncoding encoding(const onnx::NodeProto& node) const {
    const std::vector<float> scale = scales(node);
    if (scale.size() != 1) fail(node, "activations have one scale");
    ActivationEncoding result{.scale = scale[0], .zero_point = 0};
    if (const onnx::TensorProto* zero = initializer(node, 2)) {
      const std::vector<std::uint8_t> zeros = values<std::uint8_t>(node, *zero);
      if (zeros.size() != 1) fail(node, "activations have one zero point");
      result.zero_point = zeros[0];
    }  // else u8 with zero point 0, ONNX's default
    return result;
  }

  // The float graph: Q/DQ pairs removed (their consumers read the quantized tensor), weight and
  // bias DequantizeLinear replaced by carrier initializers.
  onnx::ModelProto carrier_model() {
    onnx::ModelProto carrier = model_;
    onnx::GraphProto& graph = *carrier.mutable_graph();
    graph.clear_node();
    graph.clear_initializer();
    for (const auto& tensor : model_.graph().initializer()) {
      if (tensor.data_type() == onnx::TensorProto::FLOAT) *graph.add_initializer() = tensor;
    }
    std::map<std::string, std::pair<std::string, ActivationEncoding>> quantized;  // Q outputs
    std::map<std::string, std::string> aliases;  // DQ outputs -> the tensor quantized
    for (const auto& node : model_.graph().node()) {
      if (!is_qdq_op(node)) {
        check_integer_weights(node);
        onnx::NodeProto& copy = *graph.add_node() = node;
        for (std::string& input : *copy.mutable_input()) {
          if (const auto alias = aliases.find(input); alias != aliases.end()) input = alias->second;
        }
        continue;
      }
      if (node.input_size() < 2 || node.output_size() != 1) fail(node, "needs x, scale, y");
      const onnx::TensorProto* constant = initializer(node, 0);
      if (node.op_type() == "DequantizeLinear" && constant) {
        add_carrier(graph, node, *constant);
      } else if (node.op_type() == "QuantizeLinear") {
        quantized[node.output(0)] = {node.input(0), encoding(node)};
      } else if (const auto pair = quantized.find(node.input(0)); pair != quantized.end()) {
        const auto& [tensor, encoding_of_q] = pair->second;
        const ActivationEncoding dq = encoding(node);
        if (dq.scale != encoding_of_q.scale || dq.zero_point != encoding_of_q.zero_point) {
          fail(node, "dequantizes with another scale or zero point than its QuantizeLinear");
        }
        aliases[node.output(0)] = tensor;
        activations_.emplace_back(tensor, dq);
      } else {
        fail(node, "neither a weight's dequantization nor the second half of a quantizer pair");
      }
    }
    if (quantized.size() != activations_.size()) {
      fail("a QuantizeLinear is not followed by its DequantizeLinear");
    }
    check_only_quantized_reads();
    // An encoded graph output: the float graph ends at the tensor its pair quantizes.
    for (auto& output : *graph.mutable_output()) {
      if (const auto alias = aliases.find(output.name()); alias != aliases.end()) {
        output.set_name(alias->second);
      }
    }
    return carrier;
  }

  // A tensor with a quantizer pair is read through it: by the QuantizeLinear alone, else the
  // file would compute with float values the INT8 model does not have.
  void check_only_quantized_reads() const {
    std::set<std::string> quantized;
    for (const auto& activation : activations_) quantized.insert(activation.first);
    for (const auto& node : model_.graph().node()) {
      if (node.op_type() == "QuantizeLinear") continue;
      for (const std::string& input : node.input()) {
        if (quantized.count(input)) fail(node, "reads '" + input + "' around its quantizer pair");
      }
    }
    for (const auto& output : model_.graph().output()) {
      if (quantized.count(output.name())) {
        fail("the graph output '" + output.name() + "' is read around its quantizer pair");
      }
    }
  }

  // A conv's weights and bias must be dequantized integers (their carriers), not float32.
  void check_integer_weights(const onnx::NodeProto& node) const {
    if (node.op_type() != "Conv" && node.op_type() != "ConvTranspose") return;
    for (int input = 1; input < node.input_size(); ++input) {
      if (!carriers_.count(node.input(input))) {
        fail(node, "its weights or bias are not a DequantizeLinear of integers");
      }
    }
  }

  void add_carrier(onnx::GraphProto& graph, const onnx::NodeProto& node,
                   const onnx::TensorProto& tensor) {
    if (tensor.data_type() != onnx::TensorProto::INT8 &&
        tensor.data_type() != onnx::TensorProto::INT32) {
      fail(node, "dequantizes '" + tensor.name() + "', which is neither s8 weights nor s32 bias");
    }
    const QuantizedTensor& source = tensors_.emplace_back(dequantized_tensor(node, tensor));
    onnx::TensorProto& carrier = *graph.add_initializer();
    carrier.set_name(node.output(0));
    carriers_.insert(node.output(0));
    carrier.set_data_type(onnx::TensorProto::FLOAT);
    *carrier.mutable_dims() = tensor.dims();
    for (std::size_t i = 0; i < source.values.size(); ++i) {
      carrier.add_float_data(static_cast<float>(source.first + static_cast<std::int64_t>(i)));
    }
  }

  // The tensor and position a carrier value names.
  std::pair<const QuantizedTensor*, std::int64_t> source_of(float carrier) const {
    const auto index = static_cast<std::int64_t>(carrier);
    for (const QuantizedTensor& tensor : tensors_) {
      const std::int64_t position = index - tensor.first;
      if (position >= 0 && position < static_cast<std::int64_t>(tensor.values.size())) {
        return {&tensor, position};
      }
    }
    fail("a conv's weights or bias are not dequantized integers");
  }

  // The s8 conv whose carrier (a conv of the recognised QuickSRNet) is `carrier`, reading an
  // activation of scale `input_scale`.
  QConv2d quantized_conv(const Conv2d& carrier, float input_scale) const {
    QConv2d conv = with_geometry_of<QConv2d>(carrier);
    const std::size_t per_output = carrier.weight.size() / carrier.out_channels;
    bool per_tensor = false;
    for (int o = 0; o < carrier.out_channels; ++o) {
      const QuantizedTensor* tensor = nullptr;
      std::int64_t channel = -1;
      for (std::size_t k = 0; k < per_output; ++k) {
        const auto [source, position] = source_of(carrier.weight[o * per_output + k]);
        if (!source->s8) fail("a conv's weights are not s8");
        conv.weight.push_back(static_cast<std::int8_t>(source->values[position]));
        const std::int64_t source_channel = position / source->per_channel_values;
        if (tensor && (source != tensor || source_channel != channel)) {
          fail("an output channel's weights come from several channels of the file");
        }
        tensor = source;
        channel = source_channel;
      }
      per_tensor = tensor->scales.size() == 1;
      if (!per_tensor && tensor->axis != 0) fail("per-channel weight scales are not along axis 0");
      conv.weight_scale.push_back(tensor->scales[per_tensor ? 0 : channel]);
    }
    if (per_tensor) conv.weight_scale.resize(1);
    add_biases(conv, carrier, input_scale);
    return conv;
  }

  // The s8 conv of a general graph, whose convs read the file's tensors unpermuted.
  QConv2d graph_conv(const Conv2d& carrier, float input_scale) const {
    QConv2d conv = with_geometry_of<QConv2d>(carrier);
    if (carrier.weight.empty()) fail_not_whole_tensor();
    const auto [weights, first] = source_of(carrier.weight.front());
    for (std::size_t k = 0; k < carrier.weight.size(); ++k) {
      if (carrier.weight[k] != carrier.weight.front() + static_cast<float>(k))
        fail_not_whole_tensor();
    }
    if (first != 0 || weights->values.size() != carrier.weight.size()) fail_not_whole_tensor();
    if (!weights->s8) fail("a conv's weights are not s8");
    const int output_axis = carrier.transposed ? 1 : 0;
    if (weights->scales.size() != 1 &&
        (weights->axis != output_axis || (carrier.transposed && carrier.groups != 1))) {
      fail("per-channel weight scales are not along a conv's output channels");
    }
    conv.weight.assign(weights->values.begin(), weights->values.end());
    conv.weight_scale = weights->scales;
    add_biases(conv, carrier, input_scale);
    return conv;
  }

  [[noreturn]] void fail_not_whole_tensor() const {
    fail("a conv's weights are not one dequantized tensor of its shape");
  }

  // The s32 biases of `conv` (0 where the file has none), in units of input scale x weight scale.
  void add_biases(QConv2d& conv, const Conv2d& carrier, float input_scale) const {
    for (int o = 0; o < carrier.out_channels; ++o) {
      if (carrier.bias.empty() || carrier.bias[o] == 0.0f) {  // no bias in the file
        conv.bias.push_back(0);
        continue;
      }
      const auto [source, position] = source_of(carrier.bias[o]);
      if (source->s8) fail("a conv's bias is not s32");
      const float scale = source->scales[source->scales.size() == 1 ? 0 : position];
      const double units = static_cast<double>(input_scale) * conv.scale_of(o);
      // The units exactly (export_qdq_onnx's files): the integer as it is; else re-expressed.
      const double bias = scale == static_cast<float>(units)
                              ? source->values[position]
                              : std::round(source->values[position] * (scale / units));
      if (std::abs(bias) > std::numeric_limits<std::int32_t>::max()) fail("a bias overflows s32");
      conv.bias.push_back(static_cast<std::int32_t>(bias));
    }
  }

  QuantizedQuickSRNet quantized(const QuickSRNet& net) const {
    const int blocks = net.config.blocks;
    if (static_cast<int>(activations_.size()) != blocks + 3) {
      fail("expected " + std::to_string(blocks + 3) +
           " quantizer pairs (the input, each conv + activation, the output), found " +
           std::to_string(activations_.size()));
    }
    check_quantizer_places();
    QuantizedQuickSRNet q;
    q.config = net.config;
    q.input = activations_.front().second;
    if (!(q.input == ActivationEncoding{})) {
      fail("the input quantizer must be the 8-bit image (scale 1/255, zero point 0)");
    }
    for (int i = 0; i <= blocks; ++i) q.features.push_back(activations_[1 + i].second);
    q.output = activations_.back().second;
    q.first = quantized_conv(net.first, q.input.scale);
    for (int i = 0; i < blocks; ++i)
      q.body.push_back(quantized_conv(net.body[i], q.features[i].scale));
    q.last = quantized_conv(net.last, q.features.back().scale);
    for (const Conv2d& anchor : net.anchor)
      q.anchor.push_back(quantized_conv(anchor, q.input.scale));
    try {
      q.check();
    } catch (const Error& error) {
      fail(error.what());
    }
    return q;
  }

  // An INT8 general graph: a quantizer pair on each u8 tensor of its placement (int8_layout), but
  // optional on shuffle outputs, which keep their input's encoding.
  QuantizedGraph quantized(const Graph& graph) const {
    QuantizedGraph q;
    q.graph = graph;
    try {
      check_int8_ops(graph);
    } catch (const Error& error) {
      fail(error.what());
    }
    const Int8GraphLayout layout = int8_layout(graph);
    std::map<std::string, ActivationEncoding> pairs;  // graph tensor -> encoding
    for (const auto& [tensor, encoding] : activations_) {
      const auto name = tensor_names_.find(tensor);
      if (name == tensor_names_.end())
        fail("a quantizer pair on '" + tensor + "', not a feature map");
      pairs[name->second] = encoding;
    }
    const auto producer = [&](const std::string& tensor) {
      return std::find_if(graph.nodes.begin(), graph.nodes.end(),
                          [&](const GraphNode& node) { return node.output == tensor; });
    };
    for (const std::string& tensor : layout.tensors) {
      if (const auto pair = pairs.find(tensor); pair != pairs.end()) {
        q.encodings.push_back(pair->second);
        pairs.erase(pair);
      } else if (const auto node = producer(tensor);
                 node != graph.nodes.end() && is_permutation(node->op)) {
        q.encodings.push_back(q.encodings.at(layout.index.at(node->inputs.at(0))));
      } else {
        fail("'" + tensor + "' is a u8 tensor of the INT8 graph without a quantizer pair");
      }
    }
    if (!pairs.empty()) {
      fail("a quantizer pair on '" + pairs.begin()->first +
           "', which the INT8 graph does not quantize (a conv or add output fused with its "
           "activation)");
    }
    q.convs.resize(graph.convs.size());
    for (const GraphNode& node : graph.nodes) {
      if (node.conv < 0) continue;
      const auto conv = static_cast<std::size_t>(node.conv);
      const float input_scale = q.encodings.at(layout.index.at(node.inputs.at(0))).scale;
      q.convs[conv] = graph_conv(graph.convs[conv], input_scale);
      q.graph.convs[conv].weight.clear();  // the integers are in q.convs
      q.graph.convs[conv].bias.clear();
    }
    try {
      q.check();
    } catch (const Error& error) {
      fail(error.what());
    }
    return q;
  }

  // Quantizers in file order (topological, and all on one chain): the graph input, then the
  // outputs of activations (Clip or Relu), the last one the output clip.
  void check_quantizer_places() const {
    bool input = false;
    for (const auto& value : model_.graph().input()) {
      input = input || value.name() == activations_.front().first;
    }
    if (!input) fail("the first quantizer is not on the graph input");
    for (std::size_t i = 1; i < activations_.size(); ++i) {
      const auto producer = producers_.find(activations_[i].first);
      const std::string op = producer == producers_.end() ? "" : producer->second->op_type();
      if (op != "Clip" && op != "Relu") {
        fail("quantizer " + std::to_string(i) + " is on '" + activations_[i].first +
             "', not an activation's output");
      }
    }
  }

  const onnx::ModelProto& model_;
  const std::string& file_;
  std::map<std::string, const onnx::TensorProto*> initializers_;
  std::map<std::string, const onnx::NodeProto*> producers_;
  std::vector<QuantizedTensor> tensors_;
  std::set<std::string> carriers_;
  std::vector<std::pair<std::string, ActivationEncoding>> activations_;
  std::map<std::string, std::string> tensor_names_;  // ONNX tensor -> graph tensor
  std::int64_t next_index_ = 1;  // 0: no bias (a missing bias is a zero carrier)
};

}  // namespace

bool has_qdq_nodes(const onnx::ModelProto& model) {
  for (const auto& node : model.graph().node()) {
    if (is_qdq_op(node)) return true;
  }
  return false;
}

Int8Net int8_net_from_qdq(const onnx::ModelProto& model, const std::string& file) {
  return QdqReader(model, file).read();
}

}  // namespace quicksr::onnx_io
