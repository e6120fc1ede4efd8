#pragma once
// Bicubic resizing in two flavours:
// - MATLAB imresize(img, scale, 'bicubic') (the evaluation protocol's): cubic kernel a = -0.5,
//   widened by 1/scale when downscaling (antialiasing), mirrored (symmetric) indices at the
//   borders, output size ceil(scale * input). Used as the interim upscaler and as the LR
//   generator of train/eval.
// - OpenCV cv::resize(..., INTER_CUBIC): a = -0.75, four taps at any scale (no antialiasing),
//   pixel centres (x + 0.5) / scale - 0.5, replicated borders, output size round(scale * input).
#include "quicksr/image.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

enum class BicubicFlavour { matlab, opencv };

// The width or height resize_bicubic makes from `length` pixels.
int bicubic_output_length(int length, double scale,
                          BicubicFlavour flavour = BicubicFlavour::matlab);

// Every channel of `input` resized by `scale` (> 0) along both axes.
Tensor resize_bicubic(const Tensor& input, double scale,
                      BicubicFlavour flavour = BicubicFlavour::matlab);

// Downscaling by `factor` >= 1 as a renderer or a box filter does it, to floor(length / factor)
// pixels per axis:
// - point: the input pixel under each output pixel's centre (x + 0.5) * factor, the one before on
//   a tie (OpenCV's INTER_NEAREST_EXACT), no antialiasing: the aliased image a game renders at
//   the lower resolution;
// - area: the mean over the footprint [x factor, (x + 1) factor), pixels cut by its edges
//   weighted by their overlap (OpenCV's INTER_AREA).
Tensor downscale_point(const Tensor& input, double factor);
Tensor downscale_area(const Tensor& input, double factor);

// RGB and alpha resized (and clipped to [0,1]); bit depth and gray flag carried over.
Image resize_bicubic(const Image& input, double scale,
                     BicubicFlavour flavour = BicubicFlavour::matlab);

}  // namespace quicksr
