#include "train/oscillation.hpp"

namespace quicksr::train {

OscillationState start_tracking(const torch::Tensor& integers) {
  const torch::Tensor start = integers.detach().to(torch::kFloat32).contiguous();
  return {start.clone(), torch::zeros_like(start), torch::zeros_like(start), start.clone(),
          torch::zeros_like(start, torch::kBool)};
}

std::int64_t track_step(OscillationState& state, const torch::Tensor& integers,
                        const OscillationFreezing& freezing) {
  torch::NoGradGuard no_grad;
  const torch::Tensor now = integers.detach().to(torch::kFloat32).reshape(state.integer.sizes());
  const torch::Tensor direction = torch::sign(now - state.integer);
  const torch::Tensor changed = direction != 0;
  const torch::Tensor oscillated = changed & (direction == -state.direction);
  const double m = freezing.momentum;
  state.frequency.mul_(1 - m).add_(oscillated.to(torch::kFloat32), m);
  state.average.mul_(1 - m).add_(now, m);
  state.direction.copy_(torch::where(changed, direction, state.direction));
  const torch::Tensor freeze = (state.frequency > freezing.threshold) & state.frozen.logical_not();
  state.integer.copy_(torch::where(freeze, torch::round(state.average), now));
  state.frozen.logical_or_(freeze);
  return freeze.sum().item<std::int64_t>();
}

}  // namespace quicksr::train
