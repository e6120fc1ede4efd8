#pragma once
// What quantization chose and changed: an INT8 net's s8 weights, and the mean squared difference
// between its output (integer reference runtime) and its float net's (float reference runtime).
#include <cstdint>
#include <vector>

#include "quicksr/model.hpp"
#include "quicksr/quantsim.hpp"
#include "quicksr/reference.hpp"

namespace quicksr::test_support {

inline double int8_error(const QuantizedQuickSRNet& q, const QuickSRNet& net,
                         const std::vector<Tensor>& images) {
  double sum = 0.0, count = 0.0;
  for (const Tensor& lr : images) {
    const Tensor a = quant::forward(q, lr);
    const Tensor b = reference::forward(net, lr);
    for (std::size_t i = 0; i < a.data.size(); ++i) {
      const double e = static_cast<double>(a.data[i]) - b.data[i];
      sum += e * e;
      count += 1.0;
    }
  }
  return sum / count;
}

// Every s8 weight of the first, body and last convs, in that order.
inline std::vector<std::int8_t> s8_weights(const QuantizedQuickSRNet& q) {
  std::vector<std::int8_t> weights = q.first.weight;
  for (const QConv2d& conv : q.body) {
    weights.insert(weights.end(), conv.weight.begin(), conv.weight.end());
  }
  weights.insert(weights.end(), q.last.weight.begin(), q.last.weight.end());
  return weights;
}

// Every s32 bias of the first, body and last convs, in that order.
inline std::vector<std::int32_t> s32_biases(const QuantizedQuickSRNet& q) {
  std::vector<std::int32_t> biases = q.first.bias;
  for (const QConv2d& conv : q.body)
    biases.insert(biases.end(), conv.bias.begin(), conv.bias.end());
  biases.insert(biases.end(), q.last.bias.begin(), q.last.bias.end());
  return biases;
}

}  // namespace quicksr::test_support
