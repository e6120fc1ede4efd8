// The stages of QuickSRNet in float, for QuantSim, calibration and bias correction.
#include "quant/stages.hpp"

#include "model/reshuffle.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::quant {

int layer_count(const QuickSRNet& net) { return static_cast<int>(net.body.size()) + 2; }

const Conv2d& layer_conv(const QuickSRNet& net, int layer) {
  if (layer == 0) return net.first;
  if (layer == layer_count(net) - 1) return net.last;
  return net.body[static_cast<std::size_t>(layer - 1)];
}

Conv2d& layer_conv(QuickSRNet& net, int layer) {
  return const_cast<Conv2d&>(layer_conv(static_cast<const QuickSRNet&>(net), layer));
}

Tensor pre_activation(const QuickSRNet& net, int layer, const Tensor& input, const Tensor& image) {
  Tensor result = reference::conv2d(input, layer_conv(net, layer));
  if (layer == layer_count(net) - 1 && !net.anchor.empty()) {
    result = reference::add(result, reference::conv2d(image, net.anchor.front()));
  }
  return result;
}

Tensor next_layer_input(const QuickSRNet& net, int layer, Tensor activation) {
  if (layer + 2 == layer_count(net) && !net.config.scale.is_integer()) {
    return reference::space_to_depth(activation, 2, net.config.order);
  }
  return activation;
}

const ActivationEncoding& layer_encoding(const ActivationEncodings& encodings, int layer) {
  return static_cast<std::size_t>(layer) < encodings.features.size()
             ? encodings.features[static_cast<std::size_t>(layer)]
             : encodings.output;
}

float layer_upper_bound(const QuickSRNet& net, int layer) {
  return layer == layer_count(net) - 1 ? 1.0f : activation_upper_bound(net.config.activation);
}

Tensor activate(const QuickSRNet& net, int layer, Tensor pre_activation) {
  return reference::clip(std::move(pre_activation), 0.0f, layer_upper_bound(net, layer));
}

Tensor network_input(const QuickSRNet& net, const Tensor& rgb) {
  if (rgb.channels != 3 || rgb.height < 1 || rgb.width < 1) {
    throw Error("QuickSRNet expects a 3xHxW input");
  }
  const Tensor image = dequantize(to_u8(rgb), ActivationEncoding{});
  return net.config.scale.is_integer() ? image : replicate_to_even(image);
}

SideBySideInputs side_by_side_inputs(const QuickSRNet& net, const std::vector<Tensor>& images) {
  SideBySideInputs inputs;
  for (const Tensor& rgb : images) inputs.image.push_back(network_input(net, rgb));
  inputs.float_in = inputs.image;
  inputs.sim_in = inputs.image;
  return inputs;
}

void advance_side_by_side(const QuickSRNet& reference, const QuickSRNet& simulated,
                          const ActivationEncodings& encodings, int layer,
                          SideBySideInputs& inputs) {
  for (std::size_t n = 0; n < inputs.image.size(); ++n) {
    inputs.float_in[n] = next_layer_input(
        reference, layer,
        activate(reference, layer,
                 pre_activation(reference, layer, inputs.float_in[n], inputs.image[n])));
    inputs.sim_in[n] = next_layer_input(
        simulated, layer,
        fake_quantize_clamped(pre_activation(simulated, layer, inputs.sim_in[n], inputs.image[n]),
                              layer_encoding(encodings, layer),
                              layer_upper_bound(simulated, layer)));
  }
}

Tensor network_output(const QuickSRNet& net, const Tensor& rgb, const Tensor& last_activation) {
  const int block = net.config.scale.is_integer() ? net.config.scale.numerator : 3;
  const Tensor output = reference::depth_to_space(last_activation, block, net.config.order);
  if (net.config.scale.is_integer()) return output;
  return crop_top_left(output, rgb.height * 3 / 2, rgb.width * 3 / 2);
}

}  // namespace quicksr::quant
