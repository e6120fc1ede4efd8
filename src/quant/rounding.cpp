// Layer-wise rounding optimisation (AdaRound's local quadratic objective, Nagel et al. 2020, solved
// by coordinate descent). Why it matters for QuickSRNet: the identity-initialised channels carry
// the image through every layer, and round-to-nearest leaves each 27- or 288-tap kernel with a
// sum of rounding errors that acts as a gain error on that image (a shift of a few u8 levels on
// the output). Minimising the output error on real inputs removes it.
#include "quant/rounding.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "model/layout.hpp"
#include "quant/stages.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::quant {

namespace {

// Pixels sampled per layer (spread over all calibration images): enough for a stable 288 x 288
// second-moment matrix, few enough to stay a few seconds per layer.
constexpr double kTargetSamples = 32768.0;
constexpr int kMaxSweeps = 50;

// Sums over sampled output pixels of the conv's input patch x (the QuantSim input) and of the
// error d_o of its output with float weights against the float net's output.
struct LayerStatistics {
  int taps = 0;
  int outputs = 0;
  double count = 0.0;
  std::vector<double> sum_x;   // taps
  std::vector<double> sum_xx;  // taps x taps
  std::vector<double> sum_d;   // outputs
  std::vector<double> sum_xd;  // outputs x taps

  LayerStatistics(int taps_, int outputs_)
      : taps(taps_),
        outputs(outputs_),
        sum_x(static_cast<std::size_t>(taps_)),
        sum_xx(static_cast<std::size_t>(taps_) * taps_),
        sum_d(static_cast<std::size_t>(outputs_)),
        sum_xd(static_cast<std::size_t>(outputs_) * taps_) {}

  void add(const std::vector<float>& x, const std::vector<float>& d) {
    count += 1.0;
    for (int i = 0; i < taps; ++i) {
      const double xi = x[static_cast<std::size_t>(i)];
      if (xi == 0.0) continue;  // ReLU1 outputs: many exact zeros
      sum_x[static_cast<std::size_t>(i)] += xi;
      double* row = &sum_xx[static_cast<std::size_t>(i) * taps];
      for (int j = 0; j < taps; ++j) row[j] += xi * x[static_cast<std::size_t>(j)];
      for (int o = 0; o < outputs; ++o) {
        sum_xd[static_cast<std::size_t>(o) * taps + i] += xi * d[static_cast<std::size_t>(o)];
      }
    }
    for (int o = 0; o < outputs; ++o)
      sum_d[static_cast<std::size_t>(o)] += d[static_cast<std::size_t>(o)];
  }
};

// The conv's input patch for output pixel (y, x), OIHW tap order; taps in the padding are 0.
void gather_patch(const Tensor& input, const Conv2d& conv, int y, int x,
                  std::vector<float>& patch) {
  std::size_t k = 0;
  for (int i = 0; i < conv.in_channels; ++i) {
    for (int ky = 0; ky < conv.kernel_h; ++ky) {
      const int iy = y * conv.stride + ky - conv.pad_top;
      for (int kx = 0; kx < conv.kernel_w; ++kx) {
        const int ix = x * conv.stride + kx - conv.pad_left;
        const bool inside = iy >= 0 && iy < input.height && ix >= 0 && ix < input.width;
        patch[k++] = inside ? input.at(i, iy, ix) : 0.0f;
      }
    }
  }
}

// Chooses q[k] in {floor(v[k]), floor(v[k]) + 1} (within [-127, 127]; weights rounding to +-127
// stay), starting from round-to-nearest, to minimise s^2 u'Hu + 2 s u'g with u = q - v: a local
// minimum by coordinate descent. Returns q.
std::vector<int> optimize_channel(const std::vector<double>& v, double s,
                                  const std::vector<double>& h, const std::vector<double>& g) {
  const int n = static_cast<int>(v.size());
  std::vector<int> q(v.size());
  std::vector<double> u(v.size());
  for (int k = 0; k < n; ++k) {
    q[static_cast<std::size_t>(k)] =
        static_cast<int>(std::clamp(std::nearbyint(v[k]), -127.0, 127.0));
    u[static_cast<std::size_t>(k)] =
        q[static_cast<std::size_t>(k)] - v[static_cast<std::size_t>(k)];
  }
  std::vector<double> hu(v.size(), 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      hu[static_cast<std::size_t>(i)] +=
          h[static_cast<std::size_t>(i) * n + j] * u[static_cast<std::size_t>(j)];
    }
  }
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    bool changed = false;
    for (int k = 0; k < n; ++k) {
      const std::size_t kk = static_cast<std::size_t>(k);
      const int down = static_cast<int>(std::floor(v[kk]));
      const int other = q[kk] == down ? down + 1 : down;
      // A weight at +-127 defines the scale (max|w| / 127): moving it would change the grid.
      if (std::abs(q[kk]) == 127 || std::abs(other) > 127) continue;
      const double delta = other - q[kk];
      const double gain =
          s * s * (2.0 * delta * hu[kk] + delta * delta * h[kk * n + kk]) + 2.0 * s * delta * g[kk];
      if (gain >= -1e-12 * s * s) continue;
      q[kk] = other;
      u[kk] += delta;
      for (int i = 0; i < n; ++i) {
        hu[static_cast<std::size_t>(i)] += delta * h[static_cast<std::size_t>(i) * n + k];
      }
      changed = true;
    }
    if (!changed) break;
  }
  return q;
}

// Statistics of `layer` over every image: inputs of QuantSim against the float net.
LayerStatistics observe_layer(const QuickSRNet& reference_net, const QuickSRNet& probe, int layer,
                              const SideBySideInputs& inputs) {
  const Conv2d& conv = layer_conv(reference_net, layer);
  const int taps = conv.in_channels * conv.kernel_h * conv.kernel_w;
  LayerStatistics statistics(taps, conv.out_channels);
  std::vector<Tensor> float_pre, ideal_pre;
  double positions = 0.0;
  for (std::size_t n = 0; n < inputs.image.size(); ++n) {
    float_pre.push_back(pre_activation(reference_net, layer, inputs.float_in[n], inputs.image[n]));
    ideal_pre.push_back(pre_activation(probe, layer, inputs.sim_in[n], inputs.image[n]));
    positions += static_cast<double>(float_pre.back().height) * float_pre.back().width;
  }
  std::mt19937 rng(static_cast<unsigned>(layer) + 1u);
  std::bernoulli_distribution take(std::min(1.0, kTargetSamples / positions));
  std::vector<float> patch(static_cast<std::size_t>(taps));
  std::vector<float> d(static_cast<std::size_t>(conv.out_channels));
  for (std::size_t n = 0; n < inputs.image.size(); ++n) {
    for (int y = 0; y < float_pre[n].height; ++y) {
      for (int x = 0; x < float_pre[n].width; ++x) {
        if (!take(rng)) continue;
        gather_patch(inputs.sim_in[n], conv, y, x, patch);
        for (int o = 0; o < conv.out_channels; ++o) {
          d[static_cast<std::size_t>(o)] = ideal_pre[n].at(o, y, x) - float_pre[n].at(o, y, x);
        }
        statistics.add(patch, d);
      }
    }
  }
  return statistics;
}

// Rounds every output channel of `target` (float weights `conv`, scales `scales`) to minimise the
// output error described by `statistics`; the bias absorbs the remaining mean error.
void round_layer(const Conv2d& conv, const std::vector<float>& scales,
                 const LayerStatistics& statistics, Conv2d& target) {
  const int taps = statistics.taps;
  const double count = std::max(statistics.count, 1.0);
  std::vector<double> mean_x(static_cast<std::size_t>(taps));
  for (int i = 0; i < taps; ++i)
    mean_x[static_cast<std::size_t>(i)] = statistics.sum_x[static_cast<std::size_t>(i)] / count;
  // Centred second moments: the bias is re-fitted after rounding, so only the covariance counts.
  std::vector<double> h(statistics.sum_xx.size());
  for (int i = 0; i < taps; ++i) {
    for (int j = 0; j < taps; ++j) {
      const std::size_t ij = static_cast<std::size_t>(i) * taps + j;
      h[ij] = statistics.sum_xx[ij] / count -
              mean_x[static_cast<std::size_t>(i)] * mean_x[static_cast<std::size_t>(j)];
    }
  }
  const std::size_t per_channel = static_cast<std::size_t>(taps);
  for (int o = 0; o < conv.out_channels; ++o) {
    const std::size_t oo = static_cast<std::size_t>(o);
    const double s = scales.size() == 1 ? scales[0] : scales[oo];
    const double mean_d = statistics.sum_d[oo] / count;
    std::vector<double> v(per_channel), g(per_channel);
    for (std::size_t k = 0; k < per_channel; ++k) {
      v[k] = conv.weight[oo * per_channel + k] / s;
      g[k] = statistics.sum_xd[oo * per_channel + k] / count - mean_x[k] * mean_d;
    }
    const std::vector<int> q = optimize_channel(v, s, h, g);
    double mean_error = mean_d;
    for (std::size_t k = 0; k < per_channel; ++k) {
      target.weight[oo * per_channel + k] = static_cast<float>(q[k] * s);
      mean_error += (q[k] - v[k]) * s * mean_x[k];
    }
    target.bias[oo] = static_cast<float>(conv.bias[oo] - mean_error);
  }
}

}  // namespace

void optimize_rounding(const QuickSRNet& reference, QuickSRNet& simulated,
                       const ActivationEncodings& encodings, WeightGranularity granularity,
                       const std::vector<Tensor>& images, const ProgressFn& progress, int& done,
                       int total) {
  SideBySideInputs inputs = side_by_side_inputs(reference, images);
  for (int layer = 0; layer < layer_count(reference); ++layer) {
    const Conv2d& conv = layer_conv(reference, layer);
    // QuantSim with this layer's float weights: its output error is what upstream layers left.
    QuickSRNet probe = simulated;
    layer_conv(probe, layer) = conv;
    const LayerStatistics statistics = observe_layer(reference, probe, layer, inputs);
    // The scales of round-to-nearest (with_quantized_weights uses input scale 1 too).
    const std::vector<float> scales = quantize_conv(conv, 1.0f, granularity).weight_scale;
    round_layer(conv, scales, statistics, layer_conv(simulated, layer));
    if (progress) progress(++done, total);
    if (layer + 1 == layer_count(reference)) break;
    advance_side_by_side(reference, simulated, encodings, layer, inputs);
  }
}

}  // namespace quicksr::quant
