// AdaRound, layer by layer, on LibTorch (see adaround.hpp).
#include "train/adaround.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "common/progress.hpp"
#include "quicksr/error.hpp"
#include "train/adaround_layer.hpp"
#include "train/fake_quant.hpp"
#include "train/torch.hpp"
#include "train/torch_net.hpp"

namespace quicksr::train {
namespace {

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
    if (options.resume_at < 0 || options.resume_at > net.config.blocks + 1) {
      throw Error("AdaRound: resume_at " + std::to_string(options.resume_at) + " is past the " +
                  std::to_string(net.config.blocks + 1) + " convs before the last");
    }
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

  QuantizedQuickSRNet run(const AdaRoundCheckpoint& checkpoint) {
    const int blocks = net_.config.blocks;
    ProgressBar bar("adaround " + net_.config.name(),
                    static_cast<std::int64_t>(blocks + 2) * options_.iterations);
    torch::Tensor fp32 = input_, quantized = input_;
    std::vector<std::pair<const Conv2d*, QConv2d*>> chain{{&net_.first, &result_.first}};
    for (int i = 0; i < blocks; ++i) chain.emplace_back(&net_.body[i], &result_.body[i]);
    for (std::size_t k = 0; k < chain.size(); ++k) {
      const ActivationEncoding& in = k == 0 ? result_.input : result_.features[k - 1];
      RoundedConv layer(*chain[k].first, *chain[k].second, in.scale, options_);
      const torch::Tensor target = relu1(
          conv(fp32, conv_weight(*chain[k].first), conv_bias(*chain[k].first), *chain[k].first));
      const bool done_before = static_cast<int>(k) < options_.resume_at;
      if (done_before) {  // optimised by an interrupted run: its stored levels and bias
        layer.mode = RoundedConv::Mode::kStart;
        step_offset_ += options_.iterations;
      } else {
        optimise_conv(k == 0 ? "first" : "body." + std::to_string(k - 1), layer, quantized, target,
                      bar);
      }
      torch::NoGradGuard no_grad;
      quantized = fake_quantize(relu1(conv(quantized, layer.weight(), layer.bias, *layer.shape)),
                                result_.features[k]);
      fp32 = target;
      if (checkpoint && !done_before) checkpoint(static_cast<int>(k) + 1, result_);
    }
    optimise_last(fp32, quantized, bar);
    bar.finish("");
    return result_;
  }

 private:
  // One conv of the chain on its quantized input, fitted to `target`; ends on the hard rounding.
  void optimise_conv(const std::string& name, RoundedConv& layer, const torch::Tensor& quantized,
                     const torch::Tensor& target, ProgressBar& bar) {
    const auto fit_bias = [&](bool report) {
      fit_bias_of(layer, conv_without_bias(quantized, layer), target, bar, report);
    };
    if (options_.fit_bias) fit_bias(true);
    optimise(name, {&layer}, bar, options_.fit_bias ? fit_bias : BiasFit{},
             [&](const torch::Tensor& index) {
               return std::pair{relu1(conv(quantized.index_select(0, index), layer.weight(),
                                           layer.bias, *layer.shape)),
                                target.index_select(0, index)};
             });
    torch::NoGradGuard no_grad;
    layer.mode = RoundedConv::Mode::kHard;
    if (options_.fit_bias) fit_bias(true);
  }

  // The last conv (after space-to-depth for x1.5) and the anchor of the input, clipped.
  void optimise_last(torch::Tensor fp32, torch::Tensor quantized, ProgressBar& bar) {
    if (!net_.config.scale.is_integer()) {
      fp32 = torch::pixel_unshuffle(fp32, 2);
      quantized = torch::pixel_unshuffle(quantized, 2);
    }
    std::vector<RoundedConv> layers{
        RoundedConv(net_.last, result_.last, result_.features.back().scale, options_)};
    torch::Tensor target = conv(fp32, conv_weight(net_.last), conv_bias(net_.last), net_.last);
    if (net_.config.anchor) {
      layers.emplace_back(net_.anchor[0], result_.anchor[0], result_.input.scale, options_);
      target = target +
               conv(input_, conv_weight(net_.anchor[0]), conv_bias(net_.anchor[0]), net_.anchor[0]);
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

  // optimise_rounding with the progress bar, `fit_bias` (when set) kBiasFits times during the
  // steps, so that the bias follows the mean shift of the rounding as it hardens, and a report.
  void optimise(const std::string& name, const std::vector<RoundedConv*>& layers, ProgressBar& bar,
                const BiasFit& fit_bias, const RoundingForward& forward) {
    constexpr int kBiasFits = 20;
    const int fit_every = std::max(1, options_.iterations / kBiasFits);
    const RoundingReport report = optimise_rounding(
        layers, input_.size(0), options_, options_.seed + step_offset_, forward, [&](int step) {
          if (fit_bias && (step + 1) % fit_every == 0) fit_bias(false);
          bar.update(step_offset_ + step + 1, "");
        });
    step_offset_ += options_.iterations;
    char line[300];
    std::snprintf(line, sizeof line,
                  "adaround %s: output error %.4g (start) -> %.4g (soft %.4g), %lld weights "
                  "re-rounded, %lld undecided%s",
                  name.c_str(), report.start_error, report.final_error, report.soft_error,
                  static_cast<long long>(report.changed), static_cast<long long>(report.undecided),
                  report.kept_start ? "; worse than the start, which is kept" : "");
    bar.print(line);
  }

  const QuickSRNet& net_;
  QuantizedQuickSRNet result_;
  AdaRoundOptions options_;
  torch::Tensor input_;  // the LR patches (u8 values)
  std::int64_t step_offset_ = 0;
};

}  // namespace

QuantizedQuickSRNet adaround(const QuickSRNet& net, const QuantizedQuickSRNet& rounded,
                             const std::vector<Tensor>& calibration, const AdaRoundOptions& options,
                             const AdaRoundCheckpoint& checkpoint) {
  return AdaRound(net, rounded, calibration, options).run(checkpoint);
}

}  // namespace quicksr::train
