#include "train/graph_net.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "model/graph_check.hpp"
#include "quicksr/error.hpp"
#include "train/fake_quant.hpp"

namespace quicksr::train {
namespace {

namespace F = torch::nn::functional;

std::vector<std::int64_t> weight_shape(const Conv2d& conv) {
  if (conv.transposed) {  // IOHW
    return {conv.in_channels, conv.out_channels / conv.groups, conv.kernel_h, conv.kernel_w};
  }
  return {conv.out_channels, conv.in_channels / conv.groups, conv.kernel_h, conv.kernel_w};
}

// a / b rounded towards minus infinity (b > 0).
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((b - 1 - a) / b);
}

// One axis of a transposed conv with stride s in sub-pixel form: output s * q + r (after the
// leading pad) is the sum over input offsets d of x[q + d] * w[r + pad - s * d]. Returns the first
// offset and the s x L kernel taps of offsets first..first + L - 1 (`kernel`: outside the kernel).
std::pair<std::int64_t, torch::Tensor> phase_taps(std::int64_t kernel, std::int64_t stride,
                                                  std::int64_t pad) {
  const std::int64_t first = -floor_div(kernel - 1 - pad, stride);
  const std::int64_t last = floor_div(stride - 1 + pad, stride);
  const torch::Tensor taps = torch::arange(stride).unsqueeze(1) + pad -
                             stride * torch::arange(first, last + 1).unsqueeze(0);
  return {first, torch::where((taps >= 0) & (taps < kernel), taps, kernel)};
}

// ONNX ConvTranspose with quicksr's geometry (the full transposed conv, the pads cropped, the
// output padding added at the bottom/right) as one ordinary conv on the input grid with s^2 output
// phases, then depth-to-space. LibTorch's CPU transposed conv (slow_conv_transpose2d) spends 83 %
// of FSRCNN's step in the reference BLAS's sgemm: its step took 9.5x as long as with this. The
// phase kernels are gathered from the ConvTranspose weight (Cin x Cout/groups x kh x kw, a zero
// appended as tap `kernel`).
torch::Tensor conv_transpose(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, const Conv2d& shape) {
  const std::int64_t s = shape.stride, groups = shape.groups;
  const std::int64_t height = (x.size(2) - 1) * s - shape.pad_top - shape.pad_bottom +
                              shape.kernel_h + shape.output_padding;
  const std::int64_t width = (x.size(3) - 1) * s - shape.pad_left - shape.pad_right +
                             shape.kernel_w + shape.output_padding;
  const auto [top, rows] = phase_taps(shape.kernel_h, s, shape.pad_top);
  const auto [left, cols] = phase_taps(shape.kernel_w, s, shape.pad_left);
  const std::int64_t in = weight.size(0) / groups, out = weight.size(1);
  const std::int64_t taps_h = rows.size(1), taps_w = cols.size(1);
  const torch::Tensor phases = F::pad(weight, F::PadFuncOptions({0, 1, 0, 1}))
                                   .index_select(2, rows.flatten())
                                   .index_select(3, cols.flatten())
                                   .reshape({groups, in, out, s, taps_h, s, taps_w})
                                   .permute({0, 3, 5, 2, 1, 4, 6})
                                   .reshape({groups * s * s * out, in, taps_h, taps_w});
  // Position q of every phase reads inputs q + first .. q + first + taps - 1 (zeros outside).
  const std::int64_t rows_out = (height + s - 1) / s, cols_out = (width + s - 1) / s;
  const torch::Tensor padded =
      F::pad(x, F::PadFuncOptions({-left, cols_out + taps_w - 1 + left - x.size(3), -top,
                                   rows_out + taps_h - 1 + top - x.size(2)}));
  const torch::Tensor y = torch::conv2d(padded, phases, {}, 1, torch::IntArrayRef{0, 0}, 1, groups)
                              .reshape({x.size(0), groups, s, s, out, rows_out, cols_out})
                              .permute({0, 1, 4, 5, 2, 6, 3})
                              .reshape({x.size(0), groups * out, rows_out * s, cols_out * s})
                              .slice(2, 0, height)
                              .slice(3, 0, width);
  return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
}

// Pools in floor mode with explicit padding: padded positions are -inf for max; for the average
// they count only with count_include_pad (else the sum is divided by the real pixels covered).
torch::Tensor pool(const torch::Tensor& x, const Pool2d& window, OpType op) {
  const F::PadFuncOptions pads(
      {window.pad_left, window.pad_right, window.pad_top, window.pad_bottom});
  if (op == OpType::kMaxPool) {
    const torch::Tensor padded =
        F::pad(x, F::PadFuncOptions(pads).value(-std::numeric_limits<double>::infinity()));
    return torch::max_pool2d(padded, {window.kernel, window.kernel},
                             {window.stride, window.stride});
  }
  const auto average = [&](const torch::Tensor& t) {
    return torch::avg_pool2d(F::pad(t, pads), {window.kernel, window.kernel},
                             {window.stride, window.stride});
  };
  if (window.count_include_pad) return average(x);
  return average(x) / average(torch::ones({1, 1, x.size(2), x.size(3)}, x.options()));
}

// DCR order: channel (dy * r + dx) * C + c (ONNX DepthToSpace's default); CRD is PixelShuffle.
torch::Tensor depth_to_space(const torch::Tensor& x, int r, ChannelOrder order) {
  if (order == ChannelOrder::kCRD) return torch::pixel_shuffle(x, r);
  const std::int64_t n = x.size(0), c = x.size(1) / (r * r), h = x.size(2), w = x.size(3);
  return x.reshape({n, r, r, c, h, w}).permute({0, 3, 4, 1, 5, 2}).reshape({n, c, h * r, w * r});
}

torch::Tensor space_to_depth(const torch::Tensor& x, int r, ChannelOrder order) {
  if (order == ChannelOrder::kCRD) return torch::pixel_unshuffle(x, r);
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2) / r, w = x.size(3) / r;
  return x.reshape({n, c, h, r, w, r}).permute({0, 3, 5, 1, 2, 4}).reshape({n, r * r * c, h, w});
}

}  // namespace

TorchGraphNetImpl::TorchGraphNetImpl(Graph graph) : graph_(std::move(graph)) {
  check_graph(graph_);
  run_graph_ = inference_form(graph_, &origins_);
  const std::vector<int> fixed = fixed_convs(graph_);
  for (std::size_t i = 0; i < graph_.convs.size(); ++i) {
    const Conv2d& conv = graph_.convs[i];
    const bool trained = std::find(fixed.begin(), fixed.end(), static_cast<int>(i)) == fixed.end();
    const auto add = [&](const std::string& name, const torch::Tensor& value) {
      return trained ? register_parameter(name, value) : register_buffer(name, value);
    };
    const std::string prefix = "conv" + std::to_string(i);
    weights_.push_back(add(prefix + "_weight", to_tensor(conv.weight, weight_shape(conv))));
    biases_.push_back(conv.bias.empty()
                          ? torch::Tensor()
                          : add(prefix + "_bias", to_tensor(conv.bias, {conv.out_channels})));
  }
  for (std::size_t i = 0; i < graph_.prelus.size(); ++i) {
    const PRelu& prelu = graph_.prelus[i];
    slopes_.push_back(register_parameter("prelu" + std::to_string(i) + "_slope",
                                         to_tensor(prelu.slope, {prelu.channels})));
  }
  // Each tensor is dropped after the last node that reads it (the output is kept).
  std::map<std::string, std::size_t> last_reader;
  for (std::size_t i = 0; i < run_graph_.nodes.size(); ++i) {
    for (const std::string& input : run_graph_.nodes[i].inputs) last_reader[input] = i;
  }
  released_.resize(run_graph_.nodes.size());
  for (const auto& [tensor, node] : last_reader) {
    if (tensor != run_graph_.output) released_[node].push_back(tensor);
  }
  use_channels_last();
}

torch::Tensor TorchGraphNetImpl::forward(torch::Tensor lr) {
  std::vector<ConvValues> convs;
  for (std::size_t i = 0; i < origins_.size(); ++i) convs.push_back(run_conv(i));
  std::map<std::string, torch::Tensor> tensors{
      {run_graph_.input, lr.contiguous(torch::MemoryFormat::ChannelsLast)}};
  for (std::size_t i = 0; i < run_graph_.nodes.size(); ++i) {
    const GraphNode& node = run_graph_.nodes[i];
    std::vector<torch::Tensor> inputs;
    for (const std::string& input : node.inputs) inputs.push_back(tensors.at(input));
    tensors[node.output] = run_node(node, inputs, convs);
    for (const std::string& tensor : released_[i]) tensors.erase(tensor);
  }
  return tensors.at(run_graph_.output);
}

// As collapse_linear_blocks computes it in fp32 (compose(), absorb_residual_adds()).
TorchGraphNetImpl::ConvValues TorchGraphNetImpl::run_conv(std::size_t index) const {
  const CollapsedConv& origin = origins_[index];
  torch::Tensor weight = weights_[origin.chain.front()];
  torch::Tensor bias = biases_[origin.chain.front()];
  const auto or_zeros = [](const torch::Tensor& values, std::int64_t size) {
    return values.defined() ? values : torch::zeros({size});
  };
  for (std::size_t k = 1; k < origin.chain.size(); ++k) {
    const torch::Tensor pointwise = weights_[origin.chain[k]].flatten(1);  // O x P
    bias = pointwise.mv(or_zeros(bias, pointwise.size(1))) +
           or_zeros(biases_[origin.chain[k]], pointwise.size(0));
    weight = pointwise.mm(weight.flatten(1))
                 .view({pointwise.size(0), weight.size(1), weight.size(2), weight.size(3)});
  }
  if (origin.plus_identity) {
    const std::int64_t channels = weight.size(0), kh = weight.size(2), kw = weight.size(3);
    weight = weight + F::pad(torch::eye(channels).view({channels, channels, 1, 1}),
                             F::PadFuncOptions({kw / 2, kw / 2, kh / 2, kh / 2}));
  }
  return {weight.contiguous(torch::MemoryFormat::ChannelsLast), bias};
}

torch::Tensor TorchGraphNetImpl::run_node(const GraphNode& node,
                                          const std::vector<torch::Tensor>& inputs,
                                          const std::vector<ConvValues>& convs) const {
  const torch::Tensor& x = inputs.front();
  switch (node.op) {
    case OpType::kConv:
      return conv(x, convs[node.conv].weight, convs[node.conv].bias, run_graph_.convs[node.conv]);
    case OpType::kConvTranspose:
      return conv_transpose(x, convs[node.conv].weight, convs[node.conv].bias,
                            run_graph_.convs[node.conv]);
    case OpType::kClip:
      return torch::clamp(x, node.clip_min, node.clip_max);
    case OpType::kRelu:
      return torch::relu(x);
    case OpType::kLeakyRelu:
      return torch::leaky_relu(x, node.alpha);
    case OpType::kPRelu:
      return torch::prelu(x, slopes_[node.prelu]);
    case OpType::kSigmoid:
      return torch::sigmoid(x);
    case OpType::kTanh:
      return torch::tanh(x);
    case OpType::kAdd:
      return x + inputs[1];
    case OpType::kSub:  // a 1-channel operand broadcasts over the other's channels
      return x - inputs[1];
    case OpType::kMul:
      return x * inputs[1];
    case OpType::kConcat:
      return torch::cat(inputs, 1);
    case OpType::kAveragePool:
    case OpType::kMaxPool:
      return pool(x, node.pool, node.op);
    case OpType::kResizeNearest:
      return x.repeat_interleave(node.block_size, 2).repeat_interleave(node.block_size, 3);
    case OpType::kResizeBilinear:  // PyTorch's half-pixel bilinear (align_corners=False)
      return torch::upsample_bilinear2d(x, {inputs[1].size(2), inputs[1].size(3)}, false);
    case OpType::kDepthToSpace:
      return depth_to_space(x, node.block_size, node.order);
    case OpType::kSpaceToDepth:
      return space_to_depth(x, node.block_size, node.order);
  }
  throw Error(std::string("the trainer cannot run graph op ") + graph_op_name(node.op));
}

Graph TorchGraphNetImpl::to_graph() const {
  Graph graph = graph_;
  for (std::size_t i = 0; i < graph.convs.size(); ++i) {
    graph.convs[i].weight = to_vector(weights_[i]);
    if (biases_[i].defined()) graph.convs[i].bias = to_vector(biases_[i]);
  }
  for (std::size_t i = 0; i < graph.prelus.size(); ++i) {
    graph.prelus[i].slope = to_vector(slopes_[i]);
  }
  return graph;
}

Model TorchGraphNetImpl::to_model() const { return Model{inference_form(to_graph()), {}}; }

}  // namespace quicksr::train
