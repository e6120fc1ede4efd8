#include "train/fake_quant.hpp"

namespace quicksr::train {
namespace {
namespace F = torch::nn::functional;
}  // namespace

torch::Tensor fake_quantize(const torch::Tensor& x, const ActivationEncoding& encoding) {
  return torch::fake_quantize_per_tensor_affine(x, encoding.scale, encoding.zero_point, 0, 255);
}

torch::Tensor fake_quantize_learned(const torch::Tensor& x, const torch::Tensor& range_top,
                                    int zero_point) {
  const torch::Tensor scale = range_top.reshape({1}) / static_cast<double>(255 - zero_point);
  const torch::Tensor zero = torch::full({1}, static_cast<float>(zero_point), torch::kFloat32);
  return torch::_fake_quantize_learnable_per_tensor_affine(x, scale, zero, 0, 255, 1.0);
}

torch::Tensor weight_scales(const torch::Tensor& weight, bool per_channel) {
  torch::NoGradGuard no_grad;
  const torch::Tensor max_abs = per_channel ? weight.abs().amax({1, 2, 3}) : weight.abs().max();
  const torch::Tensor scales = max_abs / 127.0;
  return torch::where(max_abs > 0, scales, torch::ones_like(scales)).reshape({-1});
}

torch::Tensor fake_quantize_weight(const torch::Tensor& weight, bool per_channel) {
  return fake_quantize_weight(weight, weight_scales(weight, per_channel));
}

torch::Tensor fake_quantize_weight(const torch::Tensor& weight, const torch::Tensor& scales) {
  if (scales.numel() == 1) {
    return torch::fake_quantize_per_tensor_affine(weight, scales.item<float>(), 0, -127, 127);
  }
  return torch::fake_quantize_per_channel_affine(weight, scales.to(torch::kFloat32),
                                                 torch::zeros({weight.size(0)}, torch::kInt32), 0,
                                                 -127, 127);
}

torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                   const Conv2d& shape) {
  const bool symmetric = shape.pad_top == shape.pad_bottom && shape.pad_left == shape.pad_right;
  const torch::Tensor input = symmetric
                                  ? x
                                  : F::pad(x, F::PadFuncOptions({shape.pad_left, shape.pad_right,
                                                                 shape.pad_top, shape.pad_bottom}));
  const std::vector<std::int64_t> padding =
      symmetric ? std::vector<std::int64_t>{shape.pad_top, shape.pad_left}
                : std::vector<std::int64_t>{0, 0};
  return torch::conv2d(input, weight, bias, {shape.stride, shape.stride}, padding, {1, 1},
                       shape.groups);
}

}  // namespace quicksr::train
