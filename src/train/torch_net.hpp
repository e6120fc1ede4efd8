#pragma once
// QuickSRNet as a LibTorch module for training. The architecture and its identity initialisation
// are defined once, by quicksr::QuickSRNet: this module copies its weights in and out.
#include <torch/torch.h>

#include "quicksr/model.hpp"

namespace quicksr::train {

// ReLU1: clamp(x, 0, 1).
torch::Tensor relu1(const torch::Tensor& x);
// A copy of `values` as a float32 tensor of `shape`.
torch::Tensor to_tensor(const std::vector<float>& values, torch::IntArrayRef shape);

class TorchQuickSRNetImpl : public torch::nn::Module {
 public:
  // The weights of `net` (shapes checked), stored channels-last for fast CPU convolutions.
  explicit TorchQuickSRNetImpl(const QuickSRNet& net);

  // N x 3 x H x W RGB in [0,1] -> N x 3 x sH x sW.
  torch::Tensor forward(torch::Tensor lr);

  // Stores the conv weights channels-last again (loading a checkpoint may change their strides).
  void use_channels_last();

  // The current weights as the runtime's model (for export and validation).
  QuickSRNet to_quicksrnet() const;

 private:
  struct Layer {
    torch::nn::Conv2d conv{nullptr};
    Conv2d shape;               // quicksr's description: padding and the layout of the weights
    bool symmetric_pad = true;  // else padded explicitly before the convolution
  };

  Layer make_layer(const std::string& name, const Conv2d& conv);
  static torch::Tensor apply(Layer& layer, const torch::Tensor& x);
  static Conv2d export_layer(const Layer& layer);

  QuickSRNetConfig config_;
  Layer first_;
  std::vector<Layer> body_;
  Layer last_;
  std::vector<Layer> anchor_;
};
TORCH_MODULE(TorchQuickSRNet);

}  // namespace quicksr::train
