#pragma once
// MATLAB-compatible imresize(img, scale, 'bicubic'): cubic kernel a = -0.5, widened by 1/scale
// when downscaling (antialiasing), mirrored (symmetric) indices at the borders, output size
// ceil(scale * input). Used as the interim upscaler and as the LR generator of train/eval.
#include "quicksr/image.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

// Every channel of `input` resized by `scale` (> 0) along both axes.
Tensor resize_bicubic(const Tensor& input, double scale);

// RGB and alpha resized; bit depth and gray flag carried over.
Image resize_bicubic(const Image& input, double scale);

}  // namespace quicksr
