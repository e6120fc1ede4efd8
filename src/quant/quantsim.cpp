// QuantSim: the float forward of QuickSRNet with fake quantizers where the integer runtime has
// its requantisations, and the calibration statistics observed at the same places.
#include "quicksr/quantsim.hpp"

#include <algorithm>
#include <cmath>

#include "quant/stages.hpp"
#include "quicksr/error.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::quant {

EncodingScheme parse_scheme(std::string_view text) {
  if (text == "tf") return EncodingScheme::kTf;
  if (text == "tf-enhanced") return EncodingScheme::kTfEnhanced;
  throw Error("encoding scheme must be 'tf' or 'tf-enhanced', not '" + std::string(text) + "'");
}

// ---- QuantSim

Tensor fake_quantize_clamped(Tensor x, const ActivationEncoding& encoding, float upper) {
  for (float& value : x.data) {
    const float clipped = value > 0.0f ? std::min(value, upper) : 0.0f;
    value = dequantize(quantize(clipped, encoding), encoding);
  }
  return x;
}

Tensor simulate(const QuickSRNet& net, const ActivationEncodings& encodings, const Tensor& rgb) {
  net.check();
  if (encodings.features.size() != net.body.size() + 1) {
    throw Error("QuantSim: " + std::to_string(encodings.features.size()) +
                " feature encodings for a net with " + std::to_string(net.body.size() + 1));
  }
  const Tensor image = network_input(net, rgb);
  Tensor x = image;
  for (int layer = 0; layer < layer_count(net); ++layer) {
    Tensor activation =
        fake_quantize_clamped(pre_activation(net, layer, x, image),
                              layer_encoding(encodings, layer), layer_upper_bound(net, layer));
    if (layer + 1 == layer_count(net)) return network_output(net, rgb, activation);
    x = next_layer_input(net, layer, std::move(activation));
  }
  return x;  // unreachable: the loop returns at the last layer
}

Tensor simulate(const QuantizedQuickSRNet& net, const Tensor& rgb) {
  return simulate(dequantize_weights(net), encodings_of(net), rgb);
}

// ---- calibration

namespace {

// Doubles the histogram's range: bins 2k and 2k + 1 become bin k.
void double_range(Calibrator::Statistics& statistics) {
  std::vector<double>& bins = statistics.histogram;
  for (std::size_t k = 0; k < bins.size(); ++k) {
    bins[k] = 2 * k < bins.size() ? bins[2 * k] + bins[2 * k + 1] : 0.0;
  }
  statistics.range *= 2.0f;
}

}  // namespace

void Calibrator::Statistics::add(const Tensor& values) {
  for (const float value : values.data) {
    if (!std::isfinite(value)) throw Error("calibration: the network computed a non-finite value");
    min = std::min(min, value);
    max = std::max(max, value);
    while (value >= range && value > 1.0f) double_range(*this);  // ReLU outputs only
    const int bin = std::clamp(static_cast<int>(value / range * kBins), 0, kBins - 1);
    histogram[static_cast<std::size_t>(bin)] += 1.0;
  }
}

Calibrator::Calibrator(QuickSRNet net) : net_(std::move(net)), features_(net_.body.size() + 1) {
  net_.check();
}

void Calibrator::add(const Tensor& rgb) {
  const Tensor image = network_input(net_, rgb);
  Tensor x = image;
  for (int layer = 0; layer < layer_count(net_); ++layer) {
    Tensor activation = activate(net_, layer, pre_activation(net_, layer, x, image));
    if (layer + 1 == layer_count(net_)) {
      output_.add(activation);
    } else {
      features_[static_cast<std::size_t>(layer)].add(activation);
      x = next_layer_input(net_, layer, std::move(activation));
    }
  }
  ++images_;
}

ActivationEncodings Calibrator::encodings(EncodingScheme scheme) const {
  if (images_ == 0) throw Error("calibration needs at least one image");
  ActivationEncodings result;
  for (const Statistics& statistics : features_) {
    result.features.push_back(encoding_of(statistics, scheme));
  }
  result.output = encoding_of(output_, scheme);
  return result;
}

namespace {

// Expected squared quantisation error of the histogram (on [0, range)) under the encoding [0, max]:
// rounding noise scale^2 / 12 for every value inside, gamma * (x - max)^2 for every clipped value
// (bin centres).
double expected_noise(const std::vector<double>& histogram, double range, double max) {
  constexpr double kClippingWeight = 3.0;
  const double scale = max / 255.0;
  const double rounding = scale * scale / 12.0;
  const int bins = static_cast<int>(histogram.size());
  double noise = 0.0;
  for (int bin = 0; bin < bins; ++bin) {
    const double count = histogram[static_cast<std::size_t>(bin)];
    if (count == 0.0) continue;
    const double centre = (bin + 0.5) / bins * range;
    const double clipped = centre - max;
    noise += count * (clipped > 0.0 ? kClippingWeight * clipped * clipped : rounding);
  }
  return noise;
}

}  // namespace

ActivationEncoding encoding_of(const Calibrator::Statistics& statistics, EncodingScheme scheme) {
  if (scheme == EncodingScheme::kTf || statistics.max <= 0.0f) {
    return encoding_from_range(statistics.min, statistics.max);
  }
  // Candidates max * k / 200: the search AIMET calls tf-enhanced, for ranges starting at 0.
  constexpr int kCandidates = 200;
  double best_max = statistics.max;
  double best_noise = expected_noise(statistics.histogram, statistics.range, best_max);
  for (int k = 1; k < kCandidates; ++k) {
    const double candidate = static_cast<double>(statistics.max) * k / kCandidates;
    const double noise = expected_noise(statistics.histogram, statistics.range, candidate);
    if (noise < best_noise) {
      best_noise = noise;
      best_max = candidate;
    }
  }
  return encoding_from_range(statistics.min, static_cast<float>(best_max));
}

}  // namespace quicksr::quant
