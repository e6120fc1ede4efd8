// One AdaRound optimisation (see adaround_layer.hpp).
#include "train/adaround_layer.hpp"

#include <algorithm>

#include "quicksr/quant.hpp"
#include "train/torch_net.hpp"

namespace quicksr::train {

constexpr double kZeta = 1.1;
constexpr double kGamma = -0.1;

torch::Tensor rectified_sigmoid(const torch::Tensor& v) {
  return (torch::sigmoid(v) * (kZeta - kGamma) + kGamma).clamp(0, 1);
}

torch::Tensor rectified_sigmoid_inverse(const torch::Tensor& h) {
  return -torch::log((kZeta - kGamma) / (h - kGamma) - 1);
}

torch::Tensor rounding_regulariser(const torch::Tensor& h, double beta) {
  return (1 - (2 * h - 1).abs().pow(beta)).sum();
}

std::optional<double> rounding_beta(const AdaRoundOptions& options, int step) {
  const int warm = static_cast<int>(options.warm_start * options.iterations);
  if (step < warm) return std::nullopt;
  const double t = static_cast<double>(step - warm) / std::max(1, options.iterations - 1 - warm);
  return options.beta_start + (options.beta_end - options.beta_start) * t;
}

double rounding_lr(const AdaRoundOptions& options) {
  constexpr double kPaperTravel = 1e-3 * 10000;  // lr times steps per layer in the paper
  return options.lr > 0 ? options.lr : kPaperTravel / options.iterations;
}

torch::Tensor conv_weight(const Conv2d& conv) {
  return to_tensor(conv.weight, {conv.out_channels, conv.in_channels / conv.groups, conv.kernel_h,
                                 conv.kernel_w});
}

torch::Tensor conv_bias(const Conv2d& conv) {
  return conv.bias.empty() ? torch::zeros({conv.out_channels})
                           : to_tensor(conv.bias, {conv.out_channels});
}

torch::Tensor reconstruction_error(const torch::Tensor& out, const torch::Tensor& target) {
  return (out - target).pow(2).sum(1).mean();
}

RoundedConv::RoundedConv(const Conv2d& fp32, QConv2d& q, float input_scale,
                         const AdaRoundOptions& options)
    : shape(&fp32), target(&q), input_scale(input_scale) {
  scale = to_tensor(q.weight_scale, {static_cast<std::int64_t>(q.weight_scale.size()), 1, 1, 1});
  const torch::Tensor ratio = conv_weight(fp32) / scale;
  floor = ratio.floor();
  start =
      torch::tensor(std::vector<float>(q.weight.begin(), q.weight.end())).reshape(floor.sizes());
  pinned = start.abs() >= 127;
  // Not on 0 or 1, where the clamp of h would stop the gradient.
  const double margin = options.start_margin;
  const torch::Tensor rest =
      options.start_from_rounded
          ? torch::where(start - floor >= 0.5, torch::full_like(floor, 1 - margin),
                         torch::full_like(floor, margin))
          : (ratio - floor).clamp(1e-4, 1 - 1e-4);
  v = rectified_sigmoid_inverse(rest).set_requires_grad(true);
  bias = conv_bias(quant::dequantize_conv(q, input_scale));
}

torch::Tensor RoundedConv::weight() const {
  if (mode == Mode::kSoft) return scale * torch::where(pinned, start, floor + h());
  return scale * (mode == Mode::kHard ? hard_levels() : start);
}

torch::Tensor RoundedConv::hard_levels() const {
  return torch::where(pinned, start, floor + (h() >= 0.5).to(torch::kFloat32));
}

void RoundedConv::store() const {
  const torch::Tensor levels = hard_levels().to(torch::kInt8).contiguous();
  target->weight.assign(levels.data_ptr<std::int8_t>(),
                        levels.data_ptr<std::int8_t>() + levels.numel());
}

void RoundedConv::keep_start() {
  torch::NoGradGuard no_grad;
  constexpr double kOutside = 3;  // h(+-3) is clamped to 1 or 0
  v.copy_(torch::where(start - floor >= 0.5, torch::full_like(v, kOutside),
                       torch::full_like(v, -kOutside)));
  store();
}

void RoundedConv::store_bias(const torch::Tensor& fitted) {
  const torch::Tensor values = fitted.contiguous();
  for (int o = 0; o < target->out_channels; ++o) {
    target->bias[static_cast<std::size_t>(o)] =
        quant::quantize_bias(values[o].item<float>(), input_scale, target->scale_of(o));
  }
  bias = conv_bias(quant::dequantize_conv(*target, input_scale));
}

namespace {

// The reconstruction error over the samples `index` with every layer's weights in `mode`.
double error_with(const std::vector<RoundedConv*>& layers, RoundedConv::Mode mode,
                  const RoundingForward& forward, const torch::Tensor& index) {
  torch::NoGradGuard no_grad;
  for (RoundedConv* layer : layers) layer->mode = mode;
  const auto [out, target] = forward(index);
  for (RoundedConv* layer : layers) layer->mode = RoundedConv::Mode::kSoft;
  return reconstruction_error(out, target).item<double>();
}

}  // namespace

RoundingReport optimise_rounding(const std::vector<RoundedConv*>& layers, std::int64_t samples,
                                 const AdaRoundOptions& options, std::uint64_t seed,
                                 const RoundingForward& forward,
                                 const std::function<void(int step)>& after_step) {
  const torch::Tensor all = torch::arange(samples);
  RoundingReport report;
  report.start_error = error_with(layers, RoundedConv::Mode::kStart, forward, all);
  // The paper's (and AIMET's) balance of reconstruction and regulariser, the whole loss divided
  // by the start's error only so that Adam (invariant to the loss scale) sees gradients far
  // above its epsilon: 8-bit errors of [0, 1] activations are 1e-4 or less.
  const double normaliser = 1 / std::max(report.start_error, 1e-20);
  std::vector<torch::Tensor> variables;
  for (RoundedConv* layer : layers) variables.push_back(layer->v);
  torch::optim::Adam adam(variables, torch::optim::AdamOptions(rounding_lr(options)));
  torch::Generator generator = at::detail::createCPUGenerator(seed);
  for (int step = 0; step < options.iterations; ++step) {
    const torch::Tensor index =
        torch::randperm(samples, generator, torch::kLong).slice(0, 0, options.batch);
    const auto [out, target] = forward(index);
    torch::Tensor loss = reconstruction_error(out, target);
    if (const std::optional<double> beta = rounding_beta(options, step)) {
      for (RoundedConv* layer : layers) {
        loss = loss + options.reg_weight * rounding_regulariser(layer->h(), *beta);
      }
    }
    loss = loss * normaliser;
    adam.zero_grad();
    loss.backward();
    adam.step();
    if (after_step) after_step(step);
  }
  // The start again, with the biases as they are now (fit_bias may have moved them).
  report.start_error = error_with(layers, RoundedConv::Mode::kStart, forward, all);
  report.soft_error = error_with(layers, RoundedConv::Mode::kSoft, forward, all);
  report.final_error = error_with(layers, RoundedConv::Mode::kHard, forward, all);
  torch::NoGradGuard no_grad;
  for (RoundedConv* layer : layers) {
    const torch::Tensor h = layer->h();
    report.undecided += h.gt(0)
                            .logical_and(h.lt(1))
                            .logical_and(layer->pinned.logical_not())
                            .sum()
                            .item<std::int64_t>();
    report.changed += layer->hard_levels().ne(layer->start).sum().item<std::int64_t>();
  }
  report.kept_start = report.final_error > report.start_error;
  for (RoundedConv* layer : layers) {
    if (report.kept_start) {
      layer->keep_start();
    } else {
      layer->store();
    }
  }
  return report;
}

}  // namespace quicksr::train
