#pragma once
// Iterative weight freezing against weight oscillation in QAT (Nagel et al. 2022, "Overcoming
// Oscillations in Quantization-Aware Training", Sec. 4.2). With straight-through gradients a latent
// weight near a rounding boundary can flip its integer up and down from step to step; each flip
// changes the quantized net's output although the loss landscape did not move. The tracker counts,
// per weight, the flips that reverse the previous change (an oscillation), as an exponential moving
// average (EMA) of 0/1 events, and freezes a weight whose frequency exceeds a threshold at its
// EMA-averaged integer (rounded half to even) for the rest of the run.
#include <cstdint>

#include "train/torch.hpp"

namespace quicksr::train {

struct OscillationFreezing {
  double threshold = 0;    // freeze when the oscillation frequency exceeds it (0: off)
  double momentum = 0.01;  // EMA weight of the newest step, for the frequency and the integer
};

// The per-weight state of one weight tensor (each tensor has the weight's shape). A module
// registers the tensors as buffers, so checkpoints keep them.
struct OscillationState {
  torch::Tensor integer;    // the integer after the last step (a frozen weight's frozen value)
  torch::Tensor direction;  // sign of the last change of the integer (0: none yet)
  torch::Tensor frequency;  // EMA of oscillation events
  torch::Tensor average;    // EMA of the integer
  torch::Tensor frozen;     // bool
};

// The state of weights whose integers are `integers` now: no change, no oscillation, nothing
// frozen.
OscillationState start_tracking(const torch::Tensor& integers);

// One optimizer step: `integers` are the weights' integers after it (a frozen weight's must equal
// its frozen value). Updates the state and freezes the weights whose frequency now exceeds the
// threshold; returns how many were frozen by this step.
std::int64_t track_step(OscillationState& state, const torch::Tensor& integers,
                        const OscillationFreezing& freezing);

}  // namespace quicksr::train
