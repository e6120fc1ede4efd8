#pragma once
// QuickSRNet as a LibTorch module for training. The architecture and its identity initialisation
// are defined once, by quicksr::QuickSRNet: this module copies its weights in and out.
#include <functional>
#include <optional>

#include "quicksr/model.hpp"
#include "quicksr/quant.hpp"
#include "train/oscillation.hpp"
#include "train/torch.hpp"

namespace quicksr::train {

// ReLU1: clamp(x, 0, 1).
torch::Tensor relu1(const torch::Tensor& x);
// The network's activation: ReLU1, or ReLU = max(x, 0).
torch::Tensor activate(const torch::Tensor& x, Activation activation);
// A copy of `values` as a float32 tensor of `shape`.
torch::Tensor to_tensor(const std::vector<float>& values, torch::IntArrayRef shape);
// The values of `tensor` (any layout) as float32 in row-major order.
std::vector<float> to_vector(const torch::Tensor& tensor);

// What the training loop trains: a QuickSRNet (TorchQuickSRNet) or a general graph
// (TorchGraphNet, train/graph_net.hpp).
class TrainableNet : public torch::nn::Module {
 public:
  // N x 3 x H x W RGB in [0,1] -> N x 3 x sH x sW.
  virtual torch::Tensor forward(torch::Tensor lr) = 0;
  // The current weights as the model inference runs (for export and validation).
  virtual Model to_model() const = 0;
  // Stores the 4-D weights channels-last (fast CPU convolutions) again: loading a checkpoint may
  // change their strides.
  void use_channels_last();
};

class TorchQuickSRNetImpl : public TrainableNet {
 public:
  // The weights of `net` (shapes checked), stored channels-last for fast CPU convolutions.
  explicit TorchQuickSRNetImpl(const QuickSRNet& net);
  // QAT from an INT8 model: the float weights and biases are `net`'s dequantized ones, and fake
  // quantization uses its activation encodings and fixed weight scales (buffers, so checkpoints
  // keep them), so forward() starts where the INT8 model is.
  explicit TorchQuickSRNetImpl(const QuantizedQuickSRNet& net);

  torch::Tensor forward(torch::Tensor lr) override;

  // Quantization-aware training: from now on forward() quantizes as QuantSim does (the input to
  // 8 bits, each conv + ReLU1 output and the clipped output with `encodings`, weights to s8 at
  // `weights` granularity, or used as they are when nullopt: weights already on the s8 grid),
  // with straight-through gradients. The encodings are a buffer of the module, so checkpoints
  // keep them. Calling it again replaces them.
  void enable_fake_quantization(const ActivationEncodings& encodings,
                                std::optional<WeightGranularity> weights);
  // Encodings by min/max ("tf") of every quantizer's input over `lr` (N x 3 x H x W), computed
  // with the float network.
  ActivationEncodings calibrate_encodings(const torch::Tensor& lr);
  // The encodings in use, or nullopt without fake quantization.
  std::optional<ActivationEncodings> fake_quantization() const;
  // LSQ: from now on the activation ranges (each quantizer's top, scale * (255 - zero point);
  // zero points fixed) are a parameter, returned for the optimizer, that forward() trains
  // (fake_quantize_learned). Needs fake quantization; checkpoints keep the parameter.
  torch::Tensor learn_activation_ranges();
  // Keeps the learned ranges where the runtime can represent them: ReLU1 and output ranges
  // within (0, 1], ReLU ranges positive. Call after each optimizer step.
  void clamp_activation_ranges();

  // QAT from an INT8 model: from now on freeze_oscillating_weights() tracks every s8 weight's
  // integer (train/oscillation.hpp; the state is a buffer, so checkpoints keep it). Needs the
  // fixed weight scales of an INT8 start: a frozen integer keeps its meaning only on them.
  void enable_oscillation_freezing(const OscillationFreezing& freezing);
  // After each optimizer step: tracks the integers, freezes the weights that oscillate too often
  // and puts every frozen weight back on its frozen value (the optimizer still moves it).
  void freeze_oscillating_weights();
  // Frozen s8 weights, and all of them.
  std::int64_t frozen_weights() const;
  std::int64_t quantized_weights() const;

  // The INT8 model the fake-quantized net stands for: its encodings, s32 biases and s8 weights on
  // the fixed scales of an INT8 start, else at `granularity` (scales max|w| / 127).
  QuantizedQuickSRNet to_quantized(WeightGranularity granularity) const;
  bool starts_from_int8() const { return grid_.has_value(); }

  // The current weights as the runtime's model (for export and validation).
  QuickSRNet to_quicksrnet() const;
  Model to_model() const override { return Model{to_quicksrnet(), {}}; }

 private:
  struct Layer {
    torch::nn::Conv2d conv{nullptr};
    Conv2d shape;                 // quicksr's description: padding and the layout of the weights
    bool symmetric_pad = true;    // else padded explicitly before the convolution
    torch::Tensor weight_scales;  // QAT from an INT8 model: its fixed s8 scales (1 or O values)
    std::optional<OscillationState> oscillation;  // enable_oscillation_freezing
  };

  Layer make_layer(const std::string& name, const Conv2d& conv);
  // What happens at each activation quantizer (index: features 0..m, then the output).
  using Quantizer = std::function<torch::Tensor(const torch::Tensor&, std::int64_t)>;
  torch::Tensor run(const torch::Tensor& lr, const Quantizer& quantizer);
  torch::Tensor apply(Layer& layer, const torch::Tensor& x) const;
  ActivationEncoding encoding(std::int64_t index) const;  // row of encodings_ (or ranges_)
  torch::Tensor range_tops() const;  // scale * (255 - zero point) of each row of encodings_
  static Conv2d export_layer(const Layer& layer);
  void fix_weight_scales(Layer& layer, const std::string& name, const QConv2d& conv);
  std::vector<std::pair<std::string, Layer*>> named_layers();
  std::vector<const Layer*> layers() const;
  static torch::Tensor weight_integers(const Layer& layer);  // on the fixed scales

  QuickSRNetConfig config_;
  Layer first_;
  std::vector<Layer> body_;
  Layer last_;
  std::vector<Layer> anchor_;
  torch::Tensor encodings_;  // (m + 2) x 2: scale, zero point (features, output); QAT only
  torch::Tensor ranges_;     // m + 2 learned range tops (learn_activation_ranges), or undefined
  std::optional<WeightGranularity> weights_;  // QAT weight quantization
  std::optional<QuantizedQuickSRNet> grid_;   // the INT8 start: its encodings and weight scales
  OscillationFreezing freezing_;              // enable_oscillation_freezing
};
TORCH_MODULE(TorchQuickSRNet);

}  // namespace quicksr::train
