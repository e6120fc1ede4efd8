#include "train/torch_net.hpp"

#include <cmath>
#include <string>

#include "quicksr/error.hpp"
#include "train/fake_quant.hpp"

namespace quicksr::train {
torch::Tensor relu1(const torch::Tensor& x) { return torch::hardtanh(x, 0.0, 1.0); }

torch::Tensor activate(const torch::Tensor& x, Activation activation) {
  return activation == Activation::kReLU ? torch::relu(x) : relu1(x);
}

torch::Tensor to_tensor(const std::vector<float>& values, torch::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat32).clone();
}

std::vector<float> to_vector(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.detach().contiguous().to(torch::kFloat32);
  return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

TorchQuickSRNetImpl::TorchQuickSRNetImpl(const QuickSRNet& net) : config_(net.config) {
  net.check();
  if (config_.order != ChannelOrder::kCRD) {
    throw Error("training supports CRD depth-to-space (PyTorch PixelShuffle) only");
  }
  first_ = make_layer("first", net.first);
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    body_.push_back(make_layer("body" + std::to_string(i), net.body[i]));
  }
  last_ = make_layer("last", net.last);
  for (const Conv2d& conv : net.anchor) anchor_.push_back(make_layer("anchor", conv));
  use_channels_last();
}

TorchQuickSRNetImpl::TorchQuickSRNetImpl(const QuantizedQuickSRNet& net)
    : TorchQuickSRNetImpl(quant::dequantize_weights(net)) {
  grid_ = net;
  std::vector<const QConv2d*> convs = {&net.first};
  for (const QConv2d& conv : net.body) convs.push_back(&conv);
  convs.push_back(&net.last);
  for (const QConv2d& conv : net.anchor) convs.push_back(&conv);
  std::size_t k = 0;
  for (auto& [name, layer] : named_layers()) fix_weight_scales(*layer, name, *convs[k++]);
  enable_fake_quantization(quant::encodings_of(net), std::nullopt);
}

std::vector<const TorchQuickSRNetImpl::Layer*> TorchQuickSRNetImpl::layers() const {
  std::vector<const Layer*> layers;
  for (const auto& [name, layer] : const_cast<TorchQuickSRNetImpl*>(this)->named_layers()) {
    layers.push_back(layer);
  }
  return layers;
}

// Every layer with the name of its module, in order: first, body0.., last, anchor.
std::vector<std::pair<std::string, TorchQuickSRNetImpl::Layer*>>
TorchQuickSRNetImpl::named_layers() {
  std::vector<std::pair<std::string, Layer*>> layers = {{"first", &first_}};
  for (std::size_t i = 0; i < body_.size(); ++i) {
    layers.emplace_back("body" + std::to_string(i), &body_[i]);
  }
  layers.emplace_back("last", &last_);
  for (Layer& layer : anchor_) layers.emplace_back("anchor", &layer);
  return layers;
}

void TorchQuickSRNetImpl::fix_weight_scales(Layer& layer, const std::string& name,
                                            const QConv2d& conv) {
  layer.weight_scales = register_buffer(
      name + "_weight_scales",
      to_tensor(conv.weight_scale, {static_cast<std::int64_t>(conv.weight_scale.size())}));
}

void TrainableNet::use_channels_last() {
  torch::NoGradGuard no_grad;
  for (auto& parameter : parameters()) {
    if (parameter.dim() == 4) {
      parameter.set_data(parameter.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
}

TorchQuickSRNetImpl::Layer TorchQuickSRNetImpl::make_layer(const std::string& name,
                                                           const Conv2d& conv) {
  Layer layer;
  layer.shape = conv;
  layer.symmetric_pad = conv.pad_top == conv.pad_bottom && conv.pad_left == conv.pad_right;
  auto options =
      torch::nn::Conv2dOptions(conv.in_channels, conv.out_channels, {conv.kernel_h, conv.kernel_w})
          .stride(conv.stride)
          .groups(conv.groups)
          .bias(!conv.bias.empty());
  if (layer.symmetric_pad) options.padding({conv.pad_top, conv.pad_left});
  layer.conv = register_module(name, torch::nn::Conv2d(options));
  torch::NoGradGuard no_grad;
  const torch::Tensor weight =
      to_tensor(conv.weight,
                {conv.out_channels, conv.in_channels / conv.groups, conv.kernel_h, conv.kernel_w});
  layer.conv->weight.set_data(weight);
  if (!conv.bias.empty()) layer.conv->bias.set_data(to_tensor(conv.bias, {conv.out_channels}));
  return layer;
}

torch::Tensor TorchQuickSRNetImpl::apply(Layer& layer, const torch::Tensor& x) const {
  if (!encodings_.defined() && layer.symmetric_pad) return layer.conv->forward(x);
  torch::Tensor weight = layer.conv->weight;
  if (layer.weight_scales.defined()) {
    weight = fake_quantize_weight(weight, layer.weight_scales);
  } else if (weights_) {
    weight = fake_quantize_weight(weight, *weights_ == WeightGranularity::kPerChannel);
  }
  return conv(x, weight, layer.conv->bias, layer.shape);
}

void TorchQuickSRNetImpl::enable_fake_quantization(const ActivationEncodings& encodings,
                                                   std::optional<WeightGranularity> weights) {
  if (encodings.features.size() != body_.size() + 1) {
    throw Error("fake quantization: expected " + std::to_string(body_.size() + 1) +
                " feature encodings");
  }
  std::vector<float> values;
  for (const ActivationEncoding& e : encodings.features) {
    values.insert(values.end(), {e.scale, static_cast<float>(e.zero_point)});
  }
  values.insert(values.end(),
                {encodings.output.scale, static_cast<float>(encodings.output.zero_point)});
  const torch::Tensor table = to_tensor(values, {static_cast<std::int64_t>(values.size() / 2), 2});
  if (encodings_.defined()) {
    torch::NoGradGuard no_grad;
    encodings_.copy_(table);
    if (ranges_.defined()) ranges_.copy_(range_tops());
  } else {
    encodings_ = register_buffer("activation_encodings", table);
  }
  weights_ = weights;
}

torch::Tensor TorchQuickSRNetImpl::range_tops() const {
  torch::NoGradGuard no_grad;
  const torch::Tensor scales = encodings_.select(1, 0);
  const torch::Tensor zero_points = encodings_.select(1, 1);
  return (scales * (255 - zero_points)).contiguous();
}

torch::Tensor TorchQuickSRNetImpl::learn_activation_ranges() {
  if (!encodings_.defined()) throw Error("learned activation ranges need fake quantization (QAT)");
  if (!ranges_.defined()) ranges_ = register_parameter("activation_ranges", range_tops());
  return ranges_;
}

void TorchQuickSRNetImpl::clamp_activation_ranges() {
  torch::NoGradGuard no_grad;
  const std::int64_t output = ranges_.size(0) - 1;
  const float lowest = 1.0f / 255;  // one LSB of the [0, 1] range
  if (config_.activation == Activation::kReLU1) {
    ranges_.clamp_(lowest, 1.0f);
  } else {
    ranges_.narrow(0, 0, output).clamp_min_(lowest);
    ranges_.narrow(0, output, 1).clamp_(lowest, 1.0f);
  }
}

std::optional<ActivationEncodings> TorchQuickSRNetImpl::fake_quantization() const {
  if (!encodings_.defined()) return std::nullopt;
  ActivationEncodings encodings;
  for (std::int64_t i = 0; i < encodings_.size(0); ++i) {
    encodings.features.push_back(encoding(i));
  }
  encodings.output = encodings.features.back();
  encodings.features.pop_back();
  return encodings;
}

ActivationEncoding TorchQuickSRNetImpl::encoding(std::int64_t index) const {
  const int zero_point = static_cast<int>(std::lround(encodings_[index][1].item<float>()));
  if (!ranges_.defined()) return {encodings_[index][0].item<float>(), zero_point};
  // As fake_quantize_learned computes it, in float.
  const torch::Tensor scale = ranges_[index].detach() / static_cast<double>(255 - zero_point);
  return {scale.item<float>(), zero_point};
}

// With fake quantization: the quantizers of docs/quantization.md on the input, after each
// conv + ReLU1 and on the clipped output, and s8 weights (gradients pass straight through).
torch::Tensor TorchQuickSRNetImpl::forward(torch::Tensor lr) {
  if (!encodings_.defined()) return run(lr, {});
  const torch::Tensor input = fake_quantize(lr, ActivationEncoding{});  // the 8-bit image
  return run(input, [this](const torch::Tensor& x, std::int64_t quantizer) {
    if (!ranges_.defined()) return fake_quantize(x, encoding(quantizer));
    return fake_quantize_learned(x, ranges_[quantizer], encoding(quantizer).zero_point);
  });
}

ActivationEncodings TorchQuickSRNetImpl::calibrate_encodings(const torch::Tensor& lr) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<float, float>> ranges;
  run(lr, [&](const torch::Tensor& x, std::int64_t) {
    ranges.emplace_back(x.min().item<float>(), x.max().item<float>());
    return x;
  });
  ActivationEncodings encodings;
  for (const auto& [min, max] : ranges) {
    encodings.features.push_back(quant::encoding_from_range(min, max));
  }
  encodings.output = encodings.features.back();
  encodings.features.pop_back();
  return encodings;
}

torch::Tensor TorchQuickSRNetImpl::run(const torch::Tensor& lr, const Quantizer& quantizer) {
  const auto at_quantizer = [&](const torch::Tensor& x, std::int64_t index) {
    return quantizer ? quantizer(x, index) : x;
  };
  const torch::Tensor input = lr.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor x = at_quantizer(activate(apply(first_, input), config_.activation), 0);
  for (std::size_t i = 0; i < body_.size(); ++i) {
    x = at_quantizer(activate(apply(body_[i], x), config_.activation),
                     static_cast<std::int64_t>(i) + 1);
  }
  const bool fractional = !config_.scale.is_integer();  // x1.5: s2d(2), 1x1 conv, d2s(3)
  if (fractional) x = torch::pixel_unshuffle(x, 2);
  x = apply(last_, x);
  if (!anchor_.empty()) x = x + apply(anchor_.front(), input);
  x = at_quantizer(torch::hardtanh(x, 0.0, 1.0), static_cast<std::int64_t>(body_.size()) + 1);
  return torch::pixel_shuffle(x, fractional ? 3 : config_.scale.numerator);
}

Conv2d TorchQuickSRNetImpl::export_layer(const Layer& layer) {
  Conv2d conv = layer.shape;
  conv.weight = to_vector(layer.conv->weight);
  if (!conv.bias.empty()) conv.bias = to_vector(layer.conv->bias);
  return conv;
}

torch::Tensor TorchQuickSRNetImpl::weight_integers(const Layer& layer) {
  torch::NoGradGuard no_grad;
  const torch::Tensor scales = layer.weight_scales.reshape({-1, 1, 1, 1});
  return torch::round(fake_quantize_weight(layer.conv->weight, layer.weight_scales) / scales);
}

void TorchQuickSRNetImpl::enable_oscillation_freezing(const OscillationFreezing& freezing) {
  if (!grid_) {
    throw Error("freezing oscillating weights needs QAT from an INT8 model (its fixed scales)");
  }
  freezing_ = freezing;
  for (auto& [name, layer] : named_layers()) {
    OscillationState state = start_tracking(weight_integers(*layer));
    const std::string prefix = name + "_oscillation_";
    for (auto [key, tensor] : {std::pair{"integer", &state.integer},
                               {"direction", &state.direction},
                               {"frequency", &state.frequency},
                               {"average", &state.average},
                               {"frozen", &state.frozen}}) {
      *tensor = register_buffer(prefix + key, *tensor);
    }
    layer->oscillation = state;
  }
}

void TorchQuickSRNetImpl::freeze_oscillating_weights() {
  torch::NoGradGuard no_grad;
  for (auto& [name, layer] : named_layers()) {
    OscillationState& state = layer->oscillation.value();
    const torch::Tensor integers =
        torch::where(state.frozen, state.integer, weight_integers(*layer));
    track_step(state, integers, freezing_);
    torch::Tensor& weight = layer->conv->weight;
    weight.copy_(torch::where(state.frozen,
                              state.integer * layer->weight_scales.reshape({-1, 1, 1, 1}), weight));
  }
}

std::int64_t TorchQuickSRNetImpl::frozen_weights() const {
  std::int64_t frozen = 0;
  for (const Layer* layer : layers()) {
    if (layer->oscillation) frozen += layer->oscillation->frozen.sum().item<std::int64_t>();
  }
  return frozen;
}

std::int64_t TorchQuickSRNetImpl::quantized_weights() const {
  std::int64_t count = 0;
  for (const Layer* layer : layers()) count += layer->conv->weight.numel();
  return count;
}

QuantizedQuickSRNet TorchQuickSRNetImpl::to_quantized(WeightGranularity granularity) const {
  const std::optional<ActivationEncodings> encodings = fake_quantization();
  if (!encodings) throw Error("to_quantized needs fake quantization (QAT)");
  if (!grid_) return quant::quantize_weights(to_quicksrnet(), *encodings, granularity);
  QuantizedQuickSRNet grid = *grid_;  // its weight scales, the encodings in use (maybe learned)
  grid.features = encodings->features;
  grid.output = encodings->output;
  return quant::quantize_weights(to_quicksrnet(), grid);
}

QuickSRNet TorchQuickSRNetImpl::to_quicksrnet() const {
  QuickSRNet net;
  net.config = config_;
  net.first = export_layer(first_);
  for (const Layer& layer : body_) net.body.push_back(export_layer(layer));
  net.last = export_layer(last_);
  for (const Layer& layer : anchor_) net.anchor.push_back(export_layer(layer));
  return net;
}

}  // namespace quicksr::train
