#pragma once
// QuickSRNet as a chain of layers, each one conv followed by its activation (ReLU1 or ReLU; the
// last: the output clip),
// run in float on the reference runtime. Layer 0 is `first`, 1..m the body, m + 1 the last conv
// (plus the anchor conv of the image). This is the quantizer placement of docs/quantization.md:
// one activation encoding per layer (features[0..m], then output).
#include <vector>

#include "quicksr/quant.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr::quant {

// `conv` with every weight on its s8 grid (the bias stays float, or absent): what calibration
// observes (AIMET's order: weights quantized, activations in float).
Conv2d with_weights_on_grid(const Conv2d& conv, WeightGranularity granularity);

int layer_count(const QuickSRNet& net);
const Conv2d& layer_conv(const QuickSRNet& net, int layer);
Conv2d& layer_conv(QuickSRNet& net, int layer);
const ActivationEncoding& layer_encoding(const ActivationEncodings& encodings, int layer);

// The upper clamp after `layer`: the net's activation's (1 or +infinity), 1 for the output clip.
float layer_upper_bound(const QuickSRNet& net, int layer);
// The activation of `layer` in float: clamp(pre_activation, 0, layer_upper_bound).
Tensor activate(const QuickSRNet& net, int layer, Tensor pre_activation);

// The 8-bit image the integer runtime sees (rgb rounded to u8), edge-replicated to even sizes for
// x1.5. Layer 0 reads it; so does the anchor.
Tensor network_input(const QuickSRNet& net, const Tensor& rgb);
// The conv of `layer` on `input` (plus the anchor conv of `image` for the last layer), before the
// ReLU1 / clip.
Tensor pre_activation(const QuickSRNet& net, int layer, const Tensor& input, const Tensor& image);
// The input of layer + 1 from the activation of `layer` (space-to-depth before the x1.5 tail).
Tensor next_layer_input(const QuickSRNet& net, int layer, Tensor activation);
// The inputs of one layer in the float net and in QuantSim, per calibration image, for the
// layer-by-layer passes of PTQ (bias correction, optimised rounding).
struct SideBySideInputs {
  std::vector<Tensor> image;     // network_input of each image
  std::vector<Tensor> float_in;  // the float net's input of the current layer
  std::vector<Tensor> sim_in;    // QuantSim's (activations fake-quantized)
};
// Layer 0's inputs: the images themselves.
SideBySideInputs side_by_side_inputs(const QuickSRNet& net, const std::vector<Tensor>& images);
// From the inputs of `layer` to those of layer + 1: the float net (`reference`) clips, QuantSim
// (`simulated`, with `encodings`) clips and fake-quantizes.
void advance_side_by_side(const QuickSRNet& reference, const QuickSRNet& simulated,
                          const ActivationEncodings& encodings, int layer,
                          SideBySideInputs& inputs);
// The last activation to the image: depth-to-space, and the x1.5 crop to floor(1.5 * rgb size).
Tensor network_output(const QuickSRNet& net, const Tensor& rgb, const Tensor& last_activation);

}  // namespace quicksr::quant
