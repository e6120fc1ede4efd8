// Post-training quantisation: cross-layer equalisation, calibration, empirical bias correction.
#include <algorithm>
#include <cmath>

#include "model/layout.hpp"
#include "quant/rounding.hpp"
#include "quant/stages.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::quant {

namespace {

// The input channels of `next` that carry feature channel c: c itself, or for the x1.5 tail (after
// space-to-depth(2)) the four sub-pixel channels of c.
std::vector<int> input_channels_of(const QuickSRNet& net, int next_layer, int c) {
  const bool tail = next_layer + 1 == layer_count(net) && !net.config.scale.is_integer();
  if (!tail) return {c};
  std::vector<int> channels;
  for (int dy = 0; dy < 2; ++dy) {
    for (int dx = 0; dx < 2; ++dx) {
      channels.push_back(block_channel(c, dy, dx, 2, net.config.features, net.config.order));
    }
  }
  return channels;
}

float output_channel_range(const Conv2d& conv, int o) {
  const std::size_t per_channel = weight_count(conv) / static_cast<std::size_t>(conv.out_channels);
  float range = 0.0f;
  for (std::size_t k = 0; k < per_channel; ++k) {
    range = std::max(range, std::abs(conv.weight[static_cast<std::size_t>(o) * per_channel + k]));
  }
  return range;
}

float input_channels_range(const Conv2d& conv, const std::vector<int>& channels) {
  float range = 0.0f;
  for (int o = 0; o < conv.out_channels; ++o) {
    for (const int i : channels) {
      for (int ky = 0; ky < conv.kernel_h; ++ky) {
        for (int kx = 0; kx < conv.kernel_w; ++kx) {
          range = std::max(range, std::abs(conv.w(o, i, ky, kx)));
        }
      }
    }
  }
  return range;
}

// One equalisation of the pair (layer, layer + 1); returns the largest |log s_c|.
double equalize_pair(QuickSRNet& net, int layer) {
  Conv2d& conv = layer_conv(net, layer);
  Conv2d& next = layer_conv(net, layer + 1);
  const std::size_t per_channel = weight_count(conv) / static_cast<std::size_t>(conv.out_channels);
  double largest_step = 0.0;
  for (int c = 0; c < conv.out_channels; ++c) {
    const std::vector<int> inputs = input_channels_of(net, layer + 1, c);
    const float r1 = output_channel_range(conv, c);
    const float r2 = input_channels_range(next, inputs);
    if (r1 <= 0.0f || r2 <= 0.0f) continue;
    const float s = std::sqrt(r1 / r2);
    largest_step = std::max(largest_step, std::abs(std::log(static_cast<double>(s))));
    for (std::size_t k = 0; k < per_channel; ++k) {
      conv.weight[static_cast<std::size_t>(c) * per_channel + k] /= s;
    }
    conv.bias[static_cast<std::size_t>(c)] /= s;
    for (int o = 0; o < next.out_channels; ++o) {
      for (const int i : inputs) {
        for (int ky = 0; ky < next.kernel_h; ++ky) {
          for (int kx = 0; kx < next.kernel_w; ++kx) next.w(o, i, ky, kx) *= s;
        }
      }
    }
  }
  return largest_step;
}

// The net with every weight on its s8 grid (biases stay float): what calibration observes.
QuickSRNet with_quantized_weights(const QuickSRNet& net, WeightGranularity granularity) {
  QuickSRNet result = net;
  for (int layer = 0; layer < layer_count(result); ++layer) {
    Conv2d& conv = layer_conv(result, layer);
    conv = with_weights_on_grid(conv, granularity);
  }
  for (Conv2d& anchor : result.anchor) anchor = with_weights_on_grid(anchor, granularity);
  return result;
}

ActivationEncodings calibrate(const QuickSRNet& net, const std::vector<Tensor>& images,
                              EncodingScheme scheme, const ProgressFn& progress, int& done,
                              int total) {
  Calibrator calibrator(net);
  for (const Tensor& image : images) {
    calibrator.add(image);
    if (progress) progress(++done, total);
  }
  return calibrator.encodings(scheme);
}

std::vector<double> channel_means(const Tensor& x) {
  std::vector<double> means(static_cast<std::size_t>(x.channels), 0.0);
  const std::size_t plane = static_cast<std::size_t>(x.height) * x.width;
  for (int c = 0; c < x.channels; ++c) {
    const float* values = x.plane(c);
    double sum = 0.0;
    for (std::size_t i = 0; i < plane; ++i) sum += values[i];
    means[static_cast<std::size_t>(c)] = sum / static_cast<double>(plane);
  }
  return means;
}

// Empirical bias correction, layer by layer: the float net and QuantSim (quantized weights, the
// encodings, the biases corrected so far) run side by side on every image; each conv's bias gets
// the mean (over images and pixels) of float pre-activation minus simulated pre-activation.
void correct_biases(const QuickSRNet& reference_net, QuickSRNet& quantized_weights,
                    const ActivationEncodings& encodings, const std::vector<Tensor>& images,
                    const ProgressFn& progress, int& done, int total) {
  SideBySideInputs inputs = side_by_side_inputs(reference_net, images);
  for (int layer = 0; layer < layer_count(reference_net); ++layer) {
    Conv2d& conv = layer_conv(quantized_weights, layer);
    std::vector<double> shift(static_cast<std::size_t>(conv.out_channels), 0.0);
    for (std::size_t n = 0; n < images.size(); ++n) {
      const std::vector<double> float_mean =
          channel_means(pre_activation(reference_net, layer, inputs.float_in[n], inputs.image[n]));
      const std::vector<double> sim_mean = channel_means(
          pre_activation(quantized_weights, layer, inputs.sim_in[n], inputs.image[n]));
      for (std::size_t c = 0; c < shift.size(); ++c) {
        shift[c] += (float_mean[c] - sim_mean[c]) / static_cast<double>(images.size());
      }
    }
    for (std::size_t c = 0; c < shift.size(); ++c) conv.bias[c] += static_cast<float>(shift[c]);
    if (layer + 1 == layer_count(reference_net)) break;
    // Advance both nets by one layer, the simulated one with its corrected bias.
    advance_side_by_side(reference_net, quantized_weights, encodings, layer, inputs);
    if (progress) progress(++done, total);
  }
}

}  // namespace

Conv2d with_weights_on_grid(const Conv2d& conv, WeightGranularity granularity) {
  Conv2d with_bias = conv;
  if (with_bias.bias.empty()) with_bias.bias.assign(static_cast<std::size_t>(conv.out_channels), 0);
  Conv2d result = dequantize_conv(quantize_conv(with_bias, 1.0f, granularity), 1.0f);
  result.bias = conv.bias;
  return result;
}

QuickSRNet equalize_cross_layer(const QuickSRNet& net) {
  net.check();
  QuickSRNet result = net;
  // Sweeps until the scales settle (each pair's equalisation changes its neighbours' ranges).
  constexpr int kMaxSweeps = 100;
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    double largest_step = 0.0;
    for (int layer = 0; layer + 1 < layer_count(result); ++layer) {
      largest_step = std::max(largest_step, equalize_pair(result, layer));
    }
    if (largest_step < 1e-4) break;
  }
  return result;
}

QuantizedQuickSRNet post_training_quantize(const QuickSRNet& net, const std::vector<Tensor>& images,
                                           const PtqOptions& options, const ProgressFn& progress) {
  net.check();
  if (images.empty()) throw Error("post-training quantisation needs at least one image");
  const QuickSRNet prepared = options.cross_layer_equalization ? equalize_cross_layer(net) : net;
  const int image_count = static_cast<int>(images.size());
  const int layers = layer_count(prepared);
  // Progress: one calibration pass, plus (with bias correction or optimised rounding) one step per
  // layer and a second calibration pass on the corrected net.
  const int total = options.optimize_rounding ? 2 * image_count + layers
                    : options.bias_correction ? 2 * image_count + layers - 1
                                              : image_count;
  int done = 0;
  QuickSRNet observed = with_quantized_weights(prepared, options.granularity);
  ActivationEncodings encodings =
      calibrate(observed, images, options.scheme, progress, done, total);
  QuickSRNet final_net = prepared;
  if (options.optimize_rounding) {
    // The weights stay on their s8 grid: quantize_weights below finds the same integers.
    optimize_rounding(prepared, observed, encodings, options.granularity, images, progress, done,
                      total);
    final_net = observed;
    encodings = calibrate(observed, images, options.scheme, progress, done, total);
  } else if (options.bias_correction) {
    correct_biases(prepared, observed, encodings, images, progress, done, total);
    for (int layer = 0; layer < layers; ++layer) {
      layer_conv(final_net, layer).bias = layer_conv(observed, layer).bias;
    }
    encodings = calibrate(observed, images, options.scheme, progress, done, total);
  }
  return quantize_weights(final_net, encodings, options.granularity);
}

QuantizedQuickSRNet correct_biases(const QuickSRNet& net, const QuantizedQuickSRNet& quantized,
                                   const std::vector<Tensor>& images, EncodingScheme scheme) {
  if (images.empty()) throw Error("bias correction needs at least one image");
  // The weights stay on their s8 grid: quantize_weights below finds the same integers.
  QuickSRNet corrected = dequantize_weights(quantized);
  int done = 0;
  correct_biases(net, corrected, encodings_of(quantized), images, {}, done, 0);
  const WeightGranularity granularity =
      quantized.per_channel() ? WeightGranularity::kPerChannel : WeightGranularity::kPerTensor;
  return quantize_weights(corrected, calibrate(corrected, images, scheme, {}, done, 0),
                          granularity);
}

}  // namespace quicksr::quant
