#pragma once
// Mean squared difference between an INT8 net's output (integer reference runtime) and its float
// net's output (float reference runtime): how much quantization changed the network.
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

}  // namespace quicksr::test_support
