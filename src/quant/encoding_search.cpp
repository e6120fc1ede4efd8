// Searched activation encodings: coordinate descent on each quantizer's range against a loss of
// the whole INT8 net (docs/quantization.md "Searched activation encodings").
#include <algorithm>
#include <cmath>
#include <vector>

#include "quicksr/error.hpp"
#include "quicksr/quantsim.hpp"

namespace quicksr::quant {

namespace {

// Quantizer i of the search: feature encoding i, or the output after the last feature.
ActivationEncoding& quantizer(ActivationEncodings& encodings, std::size_t i) {
  return i < encodings.features.size() ? encodings.features[i] : encodings.output;
}

float range_min(const ActivationEncoding& encoding) {
  return -static_cast<float>(encoding.zero_point) * encoding.scale;
}

float range_max(const ActivationEncoding& encoding) {
  return static_cast<float>(255 - encoding.zero_point) * encoding.scale;
}

// What a ReLU1 or the output clip can reach; a ReLU feature is unbounded.
float range_cap(const QuantizedQuickSRNet& net, std::size_t i) {
  return i < net.features.size() ? activation_upper_bound(net.config.activation) : 1.0f;
}

// The maxima tried around `start`: start * (1 + k * step), k = +-1..steps, those above `cap`
// replaced by `cap` (once), never `start` itself.
std::vector<float> candidate_maxima(float start, float cap, const EncodingSearchOptions& options) {
  std::vector<float> maxima;
  for (int k = -options.steps; k <= options.steps; ++k) {
    const float candidate = std::min(cap, static_cast<float>(start * (1.0 + k * options.step)));
    if (candidate > 0 && candidate != start &&
        std::find(maxima.begin(), maxima.end(), candidate) == maxima.end()) {
      maxima.push_back(candidate);
    }
  }
  return maxima;
}

// Tries the candidate maxima of quantizer i around its current one; keeps the best if it lowers
// `best_loss`. Returns whether it moved.
bool improve_quantizer(const QuickSRNet& real, QuantizedQuickSRNet& current, std::size_t i,
                       const Int8Loss& loss, const EncodingSearchOptions& options,
                       double& best_loss) {
  ActivationEncodings encodings = encodings_of(current);
  const ActivationEncoding start = quantizer(encodings, i);
  bool moved = false;
  for (const float candidate : candidate_maxima(range_max(start), range_cap(current, i), options)) {
    quantizer(encodings, i) = encoding_from_range(range_min(start), candidate);
    const QuantizedQuickSRNet trial = with_encodings(real, current, encodings);
    const double value = loss(trial);
    if (value < best_loss) {
      best_loss = value;
      current = trial;
      moved = true;
    }
  }
  return moved;
}

}  // namespace

QuantizedQuickSRNet with_encodings(const QuickSRNet& real, const QuantizedQuickSRNet& grid,
                                   const ActivationEncodings& encodings) {
  QuantizedQuickSRNet target = grid;
  target.features = encodings.features;
  target.output = encodings.output;
  return quantize_weights(real, target);
}

QuantizedQuickSRNet search_encodings(const QuantizedQuickSRNet& start, const Int8Loss& loss,
                                     const EncodingSearchOptions& options,
                                     const SearchProgressFn& progress) {
  if (options.step <= 0 || options.steps < 1 || options.max_sweeps < 1) {
    throw Error("encoding search: step, steps and sweeps must be positive");
  }
  // The real weights and biases of `start`: every trial re-rounds its biases from these, so
  // rounding errors do not accumulate over the search.
  const QuickSRNet real = dequantize_weights(start);
  QuantizedQuickSRNet current = start;
  double best_loss = loss(current);
  if (progress) progress(0, best_loss);
  const std::size_t quantizers = start.features.size() + 1;
  for (int sweep = 1; sweep <= options.max_sweeps; ++sweep) {
    bool moved = false;
    for (std::size_t i = 0; i < quantizers; ++i) {
      moved = improve_quantizer(real, current, i, loss, options, best_loss) || moved;
    }
    if (progress) progress(sweep, best_loss);
    if (!moved) break;
  }
  return current;
}

}  // namespace quicksr::quant
