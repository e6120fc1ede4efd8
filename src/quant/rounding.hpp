#pragma once
// Layer-wise rounding optimisation for post-training quantisation: chooses floor or ceil for every
// s8 weight to minimise the squared error of the conv's output (docs/quantization.md, "Optimised
// rounding").
#include <vector>

#include "quicksr/quantsim.hpp"

namespace quicksr::quant {

// `reference` is the float net, `simulated` the same net with every weight on its s8 grid
// (round-to-nearest) and float biases; `encodings` are its activation encodings. Layer by layer,
// in network order, each conv of `simulated` gets the rounding (floor or ceil of w / scale, same
// scales) and bias that minimise the mean squared difference between its output in QuantSim (the
// layers before it already optimised) and the float net's, on pixels of `images` (LR inputs).
// The anchor conv (Large) stays round-to-nearest. Reports one progress step per layer.
void optimize_rounding(const QuickSRNet& reference, QuickSRNet& simulated,
                       const ActivationEncodings& encodings, WeightGranularity granularity,
                       const std::vector<Tensor>& images, const ProgressFn& progress, int& done,
                       int total);

}  // namespace quicksr::quant
