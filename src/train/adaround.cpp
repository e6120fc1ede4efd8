// AdaRound, layer by layer, on LibTorch (see adaround.hpp).
#include "train/adaround.hpp"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "common/progress.hpp"
#include "quicksr/error.hpp"
#include "train/fake_quant.hpp"
#include "train/torch_net.hpp"

namespace quicksr::train {
namespace {

// The rectified sigmoid h(V) = clamp(sigmoid(V) * (zeta - gamma) + gamma, 0, 1) of the paper.
constexpr double kZeta = 1.1;
constexpr double kGamma = -0.1;

torch::Tensor weight_of(const Conv2d& conv) {
  return to_tensor(conv.weight,
                   {conv.out_channels, conv.in_channels, conv.kernel_h, conv.kernel_w});
}

torch::Tensor bias_of(const Conv2d& conv) {
  return conv.bias.empty() ? torch::zeros({conv.out_channels})
                           : to_tensor(conv.bias, {conv.out_channels});
}

// One conv under optimisation: W_soft = s * clamp(floor(W / s) + h(V), -127, 127).
struct RoundedConv {
  const Conv2d* shape;  // geometry
  QConv2d* target;      // receives the chosen s8 weights
  torch::Tensor scale;  // O x 1 x 1 x 1 (or 1 x 1 x 1 x 1 per tensor)
  torch::Tensor floor;  // floor(W / s)
  torch::Tensor v;      // the rounding variables (trained)
  torch::Tensor bias;   // dequantized s32 bias (not trained; fit_bias refits it)
  float input_scale;    // of the conv's input, the unit of the s32 bias with `scale`

  RoundedConv(const Conv2d& fp32, QConv2d& q, float input_scale, const AdaRoundOptions& options)
      : shape(&fp32), target(&q), input_scale(input_scale) {
    const std::vector<float> scales = q.weight_scale;
    scale = to_tensor(scales, {static_cast<std::int64_t>(scales.size()), 1, 1, 1});
    const torch::Tensor ratio = weight_of(fp32) / scale;
    floor = ratio.floor();
    start =
        torch::tensor(std::vector<float>(q.weight.begin(), q.weight.end())).reshape(floor.sizes());
    pinned = start.abs() >= 127;
    // V such that h(V) is the fractional part (the unrounded weights) or, warm-started, lies
    // start_margin inside the side `q` chose (not on it: the clamp would stop the gradient).
    const double margin = options.start_margin;
    const torch::Tensor rest =
        options.start_from_rounded
            ? torch::where(start - floor >= 0.5, torch::full_like(floor, 1 - margin),
                           torch::full_like(floor, margin))
            : (ratio - floor).clamp(1e-4, 1 - 1e-4);
    v = (-torch::log((kZeta - kGamma) / (rest - kGamma) - 1)).set_requires_grad(true);
    bias = bias_of(quant::dequantize_conv(q, input_scale));
  }

  torch::Tensor h() const { return (torch::sigmoid(v) * (kZeta - kGamma) + kGamma).clamp(0, 1); }
  // The weight the forward pass uses: soft while optimising, else hard or the starting rounding.
  enum class Mode { kSoft, kHard, kStart };
  Mode mode = Mode::kSoft;
  torch::Tensor weight() const {
    if (mode == Mode::kSoft) return scale * torch::where(pinned, start, floor + h());
    return scale * (mode == Mode::kHard ? hard_levels() : start);
  }
  torch::Tensor hard_levels() const {
    return torch::where(pinned, start, floor + (h() >= 0.5).to(torch::kFloat32));
  }
  torch::Tensor start;  // the s8 weights of `rounded` (usually round to nearest), as float
  // Weights at +-127 keep their level: each channel's (or tensor's) largest weight stays the
  // largest, so the weights requantize to the same scale (e.g. after bias correction).
  torch::Tensor pinned;

  // 1 - |2h - 1|^beta summed: 0 once every h is 0 or 1.
  torch::Tensor regulariser(double beta) const { return (1 - (2 * h() - 1).abs().pow(beta)).sum(); }

  void store() const {
    const torch::Tensor levels = hard_levels().to(torch::kInt8).contiguous();
    target->weight.assign(levels.data_ptr<std::int8_t>(),
                          levels.data_ptr<std::int8_t>() + levels.numel());
  }

  // The s32 rounding of `fitted` becomes the bias, here and in the target.
  void store_bias(const torch::Tensor& fitted) {
    const torch::Tensor values = fitted.contiguous();
    for (int o = 0; o < target->out_channels; ++o) {
      target->bias[static_cast<std::size_t>(o)] =
          quant::quantize_bias(values[o].item<float>(), input_scale, target->scale_of(o));
    }
    bias = bias_of(quant::dequantize_conv(*target, input_scale));
  }
};

// Per channel, the bias b minimising |clamp(pre + b, 0, 1) - target|^2 (pre: the conv output
// without its bias), by Gauss-Newton steps from `bias`: the clamp's slope is 1 inside (0, 1) and
// 0 outside. A step is kept only for channels whose error it lowers.
torch::Tensor fitted_bias(const torch::Tensor& pre, const torch::Tensor& bias,
                          const torch::Tensor& target) {
  constexpr int kSteps = 8;
  const auto with = [&](const torch::Tensor& b) { return pre + b.view({1, -1, 1, 1}); };
  const auto error = [&](const torch::Tensor& b) {
    return (with(b).clamp(0, 1) - target).pow(2).sum({0, 2, 3});
  };
  torch::Tensor best = bias.clone(), best_error = error(bias);
  for (int step = 0; step < kSteps; ++step) {
    const torch::Tensor z = with(best);
    const torch::Tensor inside = z.gt(0).logical_and(z.lt(1)).to(torch::kFloat32);
    const torch::Tensor shift =
        ((target - z.clamp(0, 1)) * inside).sum({0, 2, 3}) / inside.sum({0, 2, 3}).clamp_min(1);
    const torch::Tensor candidate = best + shift, candidate_error = error(candidate);
    const torch::Tensor better = candidate_error.lt(best_error);
    best = torch::where(better, candidate, best);
    best_error = torch::where(better, candidate_error, best_error);
  }
  return best;
}

// LR patches cut at random positions from the calibration images large enough for them.
torch::Tensor calibration_patches(const std::vector<Tensor>& images,
                                  const AdaRoundOptions& options) {
  std::vector<const Tensor*> usable;
  for (const Tensor& image : images) {
    if (image.channels == 3 && image.height >= options.patch && image.width >= options.patch) {
      usable.push_back(&image);
    }
  }
  if (usable.empty()) {
    throw Error("AdaRound: no calibration image is at least " + std::to_string(options.patch) +
                " pixels on each side");
  }
  std::mt19937_64 random(options.seed);
  const int p = options.patch;
  torch::Tensor patches = torch::empty({options.patches, 3, p, p});
  for (int i = 0; i < options.patches; ++i) {
    const Tensor& image = *usable[i % usable.size()];
    const int y = std::uniform_int_distribution<int>(0, image.height - p)(random);
    const int x = std::uniform_int_distribution<int>(0, image.width - p)(random);
    float* out = patches[i].data_ptr<float>();
    for (int c = 0; c < 3; ++c) {
      for (int row = 0; row < p; ++row) {
        const float* in = image.plane(c) + static_cast<std::size_t>(y + row) * image.width + x;
        std::copy_n(in, p, out + (static_cast<std::size_t>(c) * p + row) * p);
      }
    }
  }
  return patches;
}

// fit_bias: refits a layer's bias (reporting the error before and after when asked).
using BiasFit = std::function<void(bool report)>;

class AdaRound {
 public:
  AdaRound(const QuickSRNet& net, const QuantizedQuickSRNet& rounded,
           const std::vector<Tensor>& calibration, const AdaRoundOptions& options)
      : net_(net), result_(rounded), options_(options) {
    if (net.config.order != ChannelOrder::kCRD) {
      throw Error("AdaRound supports CRD depth-to-space models only");
    }
    if (net.config.activation != Activation::kReLU1) {  // it reconstructs ReLU1 outputs
      throw Error("AdaRound supports ReLU1 models only (this one uses " +
                  activation_name(net.config.activation) + ")");
    }
    if (options.iterations < 1 || options.batch < 1 || options.patches < options.batch ||
        options.patch < 8 || !(options.start_margin > 0 && options.start_margin < 0.5)) {
      throw Error(
          "AdaRound: iterations, batch, patch (>= 8), patches (>= batch) and start_margin (in (0, "
          "0.5)) must be set");
    }
    input_ = fake_quantize(calibration_patches(calibration, options), result_.input);
  }

  QuantizedQuickSRNet run() {
    const int blocks = net_.config.blocks;
    ProgressBar bar("adaround " + net_.config.name(),
                    static_cast<std::int64_t>(blocks + 2) * options_.iterations);
    torch::Tensor fp32 = input_, quantized = input_;
    std::vector<std::pair<const Conv2d*, QConv2d*>> chain{{&net_.first, &result_.first}};
    for (int i = 0; i < blocks; ++i) chain.emplace_back(&net_.body[i], &result_.body[i]);
    for (std::size_t k = 0; k < chain.size(); ++k) {
      const ActivationEncoding& in = k == 0 ? result_.input : result_.features[k - 1];
      RoundedConv layer(*chain[k].first, *chain[k].second, in.scale, options_);
      const torch::Tensor target =
          relu1(conv(fp32, weight_of(*chain[k].first), bias_of(*chain[k].first), *chain[k].first));
      const auto fit_bias = [&](bool report) {
        fit_bias_of(layer, conv_without_bias(quantized, layer), target, bar, report);
      };
      if (options_.fit_bias) fit_bias(true);
      optimise(k == 0 ? "first" : "body." + std::to_string(k - 1), {&layer}, bar,
               options_.fit_bias ? fit_bias : BiasFit{}, [&](const torch::Tensor& index) {
                 return std::pair{relu1(conv(quantized.index_select(0, index), layer.weight(),
                                             layer.bias, *layer.shape)),
                                  target.index_select(0, index)};
               });
      torch::NoGradGuard no_grad;
      layer.mode = RoundedConv::Mode::kHard;
      if (options_.fit_bias) fit_bias(true);
      quantized = fake_quantize(relu1(conv(quantized, layer.weight(), layer.bias, *layer.shape)),
                                result_.features[k]);
      fp32 = target;
    }
    optimise_last(fp32, quantized, bar);
    bar.finish("");
    return result_;
  }

 private:
  // The last conv (after space-to-depth for x1.5) and the anchor of the input, clipped.
  void optimise_last(torch::Tensor fp32, torch::Tensor quantized, ProgressBar& bar) {
    if (!net_.config.scale.is_integer()) {
      fp32 = torch::pixel_unshuffle(fp32, 2);
      quantized = torch::pixel_unshuffle(quantized, 2);
    }
    std::vector<RoundedConv> layers{
        RoundedConv(net_.last, result_.last, result_.features.back().scale, options_)};
    torch::Tensor target = conv(fp32, weight_of(net_.last), bias_of(net_.last), net_.last);
    if (net_.config.anchor) {
      layers.emplace_back(net_.anchor[0], result_.anchor[0], result_.input.scale, options_);
      target =
          target + conv(input_, weight_of(net_.anchor[0]), bias_of(net_.anchor[0]), net_.anchor[0]);
    }
    target = relu1(target);
    std::vector<RoundedConv*> pointers;
    for (RoundedConv& layer : layers) pointers.push_back(&layer);
    // The last conv's bias absorbs the anchor's share of the shift too (they are summed).
    const auto fit_bias = [&](bool report) {
      torch::NoGradGuard no_grad;
      torch::Tensor pre = conv_without_bias(quantized, layers[0]);
      if (layers.size() > 1) {
        pre = pre + conv(input_, layers[1].weight(), layers[1].bias, *layers[1].shape);
      }
      fit_bias_of(layers[0], pre, target, bar, report);
    };
    if (options_.fit_bias) fit_bias(true);
    optimise(net_.config.anchor ? "last+anchor" : "last", pointers, bar,
             options_.fit_bias ? fit_bias : BiasFit{}, [&](const torch::Tensor& index) {
               torch::Tensor out = conv(quantized.index_select(0, index), layers[0].weight(),
                                        layers[0].bias, *layers[0].shape);
               if (layers.size() > 1) {
                 out = out + conv(input_.index_select(0, index), layers[1].weight(), layers[1].bias,
                                  *layers[1].shape);
               }
               return std::pair{relu1(out), target.index_select(0, index)};
             });
    if (!options_.fit_bias) return;
    for (RoundedConv& layer : layers) layer.mode = RoundedConv::Mode::kHard;
    fit_bias(true);
  }

  // The conv's output on `x` with its current weights (soft or hard) and no bias.
  static torch::Tensor conv_without_bias(const torch::Tensor& x, const RoundedConv& layer) {
    torch::NoGradGuard no_grad;
    return conv(x, layer.weight(), torch::zeros_like(layer.bias), *layer.shape);
  }

  // fit_bias: the layer's bias refitted to `target` (see fitted_bias), with its error reported.
  static void fit_bias_of(RoundedConv& layer, const torch::Tensor& pre, const torch::Tensor& target,
                          ProgressBar& bar, bool report) {
    torch::NoGradGuard no_grad;
    const auto error = [&] {
      return reconstruction_error(relu1(pre + layer.bias.view({1, -1, 1, 1})), target)
          .item<double>();
    };
    const double before = report ? error() : 0;
    layer.store_bias(fitted_bias(pre, layer.bias, target));
    if (!report) return;
    char line[200];
    std::snprintf(line, sizeof line, "adaround bias fit: output error %.4g -> %.4g", before,
                  error());
    bar.print(line);
  }

  // Adam on the rounding variables: the reconstruction error relative to that of the starting
  // rounding, plus, after the warm start, the annealed rounding regulariser. Relative, because
  // the regulariser's weight is meant against a reconstruction error of order one (the paper's
  // 4-bit ImageNet layers), while 8-bit errors of [0, 1] activations are 1e-4 or less: in
  // absolute terms the regulariser would freeze every weight at its start after the warm start.
  // `fit_bias` (when set) also runs kBiasFits times during the steps, so the bias follows the
  // mean shift of the rounding as it hardens.
  template <typename Forward>
  void optimise(const std::string& name, const std::vector<RoundedConv*>& layers, ProgressBar& bar,
                const BiasFit& fit_bias, Forward forward) {
    constexpr int kBiasFits = 20;
    const int fit_every = std::max(1, options_.iterations / kBiasFits);
    const torch::Tensor all = torch::arange(input_.size(0));
    const double start_error = error_with(layers, RoundedConv::Mode::kStart, forward, all);
    const double normaliser = 1 / std::max(start_error, 1e-20);
    std::vector<torch::Tensor> variables;
    for (RoundedConv* layer : layers) variables.push_back(layer->v);
    torch::optim::Adam adam(variables, torch::optim::AdamOptions(options_.lr));
    torch::Generator generator = at::detail::createCPUGenerator(options_.seed + step_offset_);
    const int warm = static_cast<int>(options_.warm_start * options_.iterations);
    for (int step = 0; step < options_.iterations; ++step) {
      const torch::Tensor index =
          torch::randperm(input_.size(0), generator, torch::kLong).slice(0, 0, options_.batch);
      const auto [out, target] = forward(index);
      torch::Tensor loss = reconstruction_error(out, target) * normaliser;
      if (step >= warm) {
        const double t = static_cast<double>(step - warm) / std::max(1, options_.iterations - warm);
        const double beta = options_.beta_start + (options_.beta_end - options_.beta_start) * t;
        for (RoundedConv* layer : layers)
          loss = loss + options_.reg_weight * layer->regulariser(beta);
      }
      adam.zero_grad();
      loss.backward();
      adam.step();
      if (fit_bias && (step + 1) % fit_every == 0) fit_bias(false);
      bar.update(step_offset_ + step + 1, "");
    }
    step_offset_ += options_.iterations;
    const double final_error = error_with(layers, RoundedConv::Mode::kHard, forward, all);
    std::int64_t changed = 0;
    for (RoundedConv* layer : layers) {
      torch::NoGradGuard no_grad;
      changed += layer->hard_levels().ne(layer->start).sum().item<std::int64_t>();
      layer->store();
    }
    char line[200];
    std::snprintf(line, sizeof line,
                  "adaround %s: output error %.4g (start) -> %.4g, %lld weights re-rounded",
                  name.c_str(), start_error, final_error, static_cast<long long>(changed));
    bar.print(line);
  }

  // Squared error summed over channels, mean over patches and pixels.
  static torch::Tensor reconstruction_error(const torch::Tensor& out, const torch::Tensor& target) {
    return (out - target).pow(2).sum(1).mean();
  }

  // The reconstruction error over the patches `index` with every layer's weights in `mode`.
  template <typename Forward>
  static double error_with(const std::vector<RoundedConv*>& layers, RoundedConv::Mode mode,
                           Forward& forward, const torch::Tensor& index) {
    torch::NoGradGuard no_grad;
    for (RoundedConv* layer : layers) layer->mode = mode;
    const auto [out, target] = forward(index);
    for (RoundedConv* layer : layers) layer->mode = RoundedConv::Mode::kSoft;
    const torch::Tensor error = reconstruction_error(out, target);
    return error.item<double>();
  }

  const QuickSRNet& net_;
  QuantizedQuickSRNet result_;
  AdaRoundOptions options_;
  torch::Tensor input_;  // the LR patches (u8 values)
  std::int64_t step_offset_ = 0;
};

}  // namespace

QuantizedQuickSRNet adaround(const QuickSRNet& net, const QuantizedQuickSRNet& rounded,
                             const std::vector<Tensor>& calibration,
                             const AdaRoundOptions& options) {
  return AdaRound(net, rounded, calibration, options).run();
}

}  // namespace quicksr::train
