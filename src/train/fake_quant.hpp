#pragma once
// Fake quantization in LibTorch with the quantizer rules of docs/quantization.md, for AdaRound and
// QAT. Gradients pass straight through inside the quantization range (straight-through estimator)
// and are zero outside it.
#include "quicksr/model.hpp"
#include "train/torch.hpp"

namespace quicksr::train {

// u8 activation quantizer: clamp(round(x / scale) + zero_point, 0, 255), dequantized.
torch::Tensor fake_quantize(const torch::Tensor& x, const ActivationEncoding& encoding);

// The u8 quantizer with a trained range (LSQ, Esser et al. 2020): scale = range_top / (255 -
// zero_point) for a 1-element `range_top`, the zero point fixed. x's gradient is the
// straight-through one; range_top's is LSQ's scale gradient (per value: round(x/s) - x/s inside
// the range, -zero_point below it, 255 - zero_point above it) divided by 255 - zero_point.
// Without LSQ's gradient scale 1/sqrt(N * 255): Adam's steps do not depend on it.
torch::Tensor fake_quantize_learned(const torch::Tensor& x, const torch::Tensor& range_top,
                                    int zero_point);

// s8 symmetric weight quantizer of an OIHW tensor: scale max|w| / 127 (1 when all are 0) per
// output channel or per tensor, round to nearest, [-127, 127]. The scale carries no gradient.
torch::Tensor fake_quantize_weight(const torch::Tensor& weight, bool per_channel);
// The same quantizer with given scales (1 value: per tensor; O values: per output channel), e.g.
// the fixed scales of an INT8 model that QAT starts from.
torch::Tensor fake_quantize_weight(const torch::Tensor& weight, const torch::Tensor& scales);

// The symmetric s8 scales of `weight` (O values, or 1 value per tensor), as weight_scale_of.
torch::Tensor weight_scales(const torch::Tensor& weight, bool per_channel);

// A conv with quicksr's geometry (asymmetric padding, stride and groups of `shape`) and given
// tensors (`bias` may be undefined: no bias).
torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                   const Conv2d& shape);

}  // namespace quicksr::train
