#pragma once
// One AdaRound optimisation (Nagel et al., ICML 2020) of the convs that make one output: the
// pieces of the paper one by one, so that tests can check each rule and solve tiny layers against
// an exhaustive search. adaround.cpp runs it conv by conv through a whole network.
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "quicksr/model.hpp"
#include "train/adaround.hpp"
#include "train/torch.hpp"

namespace quicksr::train {

// h(V) = clamp(sigmoid(V) * (zeta - gamma) + gamma, 0, 1), zeta = 1.1, gamma = -0.1.
torch::Tensor rectified_sigmoid(const torch::Tensor& v);
// V with rectified_sigmoid(V) = h, for h strictly inside (0, 1).
torch::Tensor rectified_sigmoid_inverse(const torch::Tensor& h);
// sum(1 - |2h - 1|^beta): 0 once every h is 0 or 1.
torch::Tensor rounding_regulariser(const torch::Tensor& h, double beta);
// The regulariser's beta at `step`: none during the warm start, then linear from beta_start to
// beta_end at the last step.
std::optional<double> rounding_beta(const AdaRoundOptions& options, int step);
// The learning rate of Adam: options.lr, or with 0 the paper's total travel of V (lr 1e-3 over
// 10 000 steps) spread over options.iterations.
double rounding_lr(const AdaRoundOptions& options);
// A conv's float weight (OIHW) and bias (zeros without one) as tensors.
torch::Tensor conv_weight(const Conv2d& conv);
torch::Tensor conv_bias(const Conv2d& conv);
// Squared error summed over channels, mean over samples and pixels.
torch::Tensor reconstruction_error(const torch::Tensor& out, const torch::Tensor& target);

// One conv under optimisation: W_soft = s * (floor(W / s) + h(V)), weights at +-127 pinned.
struct RoundedConv {
  const Conv2d* shape;  // geometry
  QConv2d* target;      // receives the chosen s8 weights
  torch::Tensor scale;  // O x 1 x 1 x 1 (or 1 x 1 x 1 x 1 per tensor)
  torch::Tensor floor;  // floor(W / s)
  torch::Tensor start;  // the s8 weights of the given rounding, as float
  // Weights at +-127 keep their level: each channel's (or tensor's) largest weight stays the
  // largest, so the weights requantize to the same scale (e.g. after bias correction).
  torch::Tensor pinned;
  torch::Tensor v;     // the rounding variables (trained)
  torch::Tensor bias;  // dequantized s32 bias (not trained; fit_bias refits it)
  float input_scale;   // of the conv's input, the unit of the s32 bias with `scale`

  // V starts where h is the fractional part of W / s (the paper) or, with
  // options.start_from_rounded, start_margin inside the side `q` chose.
  RoundedConv(const Conv2d& fp32, QConv2d& q, float input_scale, const AdaRoundOptions& options);

  enum class Mode { kSoft, kHard, kStart };
  Mode mode = Mode::kSoft;
  torch::Tensor h() const { return rectified_sigmoid(v); }
  // The weight the forward pass uses: soft while optimising, else hard or the starting rounding.
  torch::Tensor weight() const;
  torch::Tensor hard_levels() const;  // floor + (h >= 0.5)
  void store() const;                 // hard_levels into target
  void keep_start();                  // V back on the starting rounding, stored
  // The s32 rounding of `fitted` becomes the bias, here and in the target.
  void store_bias(const torch::Tensor& fitted);
};

struct RoundingReport {
  double start_error = 0;      // the starting rounding, on all samples
  double soft_error = 0;       // the soft weights at the last step
  double final_error = 0;      // the chosen rounding
  std::int64_t changed = 0;    // weights whose level differs from the start
  std::int64_t undecided = 0;  // h strictly between 0 and 1 at the last step
  bool kept_start = false;     // the chosen rounding was worse than the start, which is kept
};

// The layers' output (after the activation) and its target on the samples `index`.
using RoundingForward =
    std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor& index)>;

// Adam on the layers' V: the reconstruction error relative to the starting rounding's, plus,
// after the warm start, reg_weight times the annealed regulariser; `after_step` (may be empty)
// runs after each step. The hard rounding h >= 0.5 is stored in each layer's target unless it
// reconstructs the samples worse than the starting rounding, which is then kept.
RoundingReport optimise_rounding(const std::vector<RoundedConv*>& layers, std::int64_t samples,
                                 const AdaRoundOptions& options, std::uint64_t seed,
                                 const RoundingForward& forward,
                                 const std::function<void(int step)>& after_step);

}  // namespace quicksr::train
