// Iterative weight freezing (train/oscillation.hpp) against frequencies and averages computed by
// hand, and on a TorchQuickSRNet started from the shipped Small x2 INT8 model.
#include "train/oscillation.hpp"

#include <gtest/gtest.h>

#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "support/data_paths.hpp"
#include "train/torch_net.hpp"

namespace quicksr::train {
namespace {

std::vector<float> values(const torch::Tensor& t) {
  const torch::Tensor flat = t.to(torch::kFloat32).contiguous();
  return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

// Three weights from 5: #0 climbs to 6, stays 3 more steps, drops back to 5 (an oscillation);
// #1 climbs 6, 7, 8, 8, 8 (changes that never reverse); #2 never moves. With momentum 0.25 and
// threshold 0.2 the drop freezes #0 (frequency 0.25) at its average, 5.75 - 0.75^5 = 5.5127,
// rounded: 6, although its integer is 5 now. Nothing else freezes.
TEST(TrackStep, FreezesAWeightThatReversesAtItsAverageInteger) {
  const OscillationFreezing freezing{0.2, 0.25};
  OscillationState state = start_tracking(torch::tensor({5.0f, 5.0f, 5.0f}));
  const float steps[][3] = {{6, 6, 5}, {6, 7, 5}, {6, 8, 5}, {6, 8, 5}, {5, 8, 5}};
  std::vector<std::int64_t> frozen_by_step;
  for (const auto& step : steps) {
    frozen_by_step.push_back(
        track_step(state, torch::tensor({step[0], step[1], step[2]}), freezing));
  }
  EXPECT_EQ(frozen_by_step, (std::vector<std::int64_t>{0, 0, 0, 0, 1}));
  EXPECT_EQ(values(state.frozen), (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(values(state.integer), (std::vector<float>{6, 8, 5}));
  EXPECT_EQ(values(state.direction), (std::vector<float>{-1, 1, 0}));
  EXPECT_FLOAT_EQ(values(state.frequency)[0], 0.25f);
  EXPECT_FLOAT_EQ(values(state.frequency)[1], 0.0f);
  EXPECT_NEAR(values(state.average)[0], 5.75 - std::pow(0.75, 5), 1e-6);

  // A frozen weight is handed back at its frozen value: no change, no new freezing.
  EXPECT_EQ(track_step(state, torch::tensor({6.0f, 8.0f, 5.0f}), freezing), 0);
  EXPECT_EQ(values(state.integer), (std::vector<float>{6, 8, 5}));
}

// A threshold above one event's weight needs a second reversal while the first still counts:
// momentum 0.25, threshold 0.3. Each weight goes up at step 1 and reverses at step 2 (frequency
// 0.25), then goes down once more (no reversal) and reverses again: #0 at step 4 (0.25 * 0.75^2
// + 0.25 = 0.390625 > 0.3: frozen), #1 at step 6 (0.25 * 0.75^4 + 0.25 = 0.3291: frozen), #2 at
// step 8 (0.25 * 0.75^6 + 0.25 = 0.2945: not frozen).
TEST(TrackStep, FrequencyIsAnAverageOfReversals) {
  const OscillationFreezing freezing{0.3, 0.25};
  OscillationState state = start_tracking(torch::tensor({0.0f, 0.0f, 0.0f}));
  // Integers after steps 1..8 of each weight.
  const float steps[][3] = {{1, 1, 1},  {0, 0, 0}, {-1, 0, 0}, {0, 0, 0},
                            {0, -1, 0}, {0, 0, 0}, {0, 0, -1}, {0, 0, 0}};
  std::vector<std::int64_t> frozen_by_step;
  for (const auto& step : steps) {
    // A frozen weight comes back at its frozen value, as the net hands it.
    torch::Tensor integers = torch::tensor({step[0], step[1], step[2]});
    integers = torch::where(state.frozen, state.integer, integers);
    frozen_by_step.push_back(track_step(state, integers, freezing));
  }
  EXPECT_EQ(frozen_by_step, (std::vector<std::int64_t>{0, 0, 0, 1, 0, 1, 0, 0}));
  EXPECT_NEAR(values(state.frequency)[2], 0.25 * std::pow(0.75, 6) + 0.25, 1e-6);
  EXPECT_EQ(values(state.frozen), (std::vector<float>{1, 1, 0}));
}

// The shipped Small x2 INT8 model in QAT: one s8 weight of body 0 moved up one step and back
// freezes (momentum 0.25, threshold 0.2) at its starting integer; moved 5 steps away after that, it
// is put back, and the exported INT8 model holds the starting integer. Nothing else moves.
TEST(TorchQuickSRNet, FreezesAnOscillatingWeightAndHoldsIt) {
  const QuantizedQuickSRNet q =
      std::get<QuantizedQuickSRNet>(load_model(test_support::kSmallX2Int8).net);
  TorchQuickSRNet net(q);
  net->enable_oscillation_freezing({0.2, 0.25});
  EXPECT_EQ(net->quantized_weights(), 3 * 32 * 9 + 2 * 32 * 32 * 9 + 32 * 12 * 9);

  // Weight [1][2][0][1] of body 0: its s8 integer and the scale of output channel 1.
  const std::size_t index = ((1 * 32 + 2) * 3 + 0) * 3 + 1;
  const int start = q.body[0].weight[index];
  ASSERT_LT(std::abs(start), 120);
  const float scale =
      q.body[0].weight_scale.size() == 1 ? q.body[0].weight_scale[0] : q.body[0].weight_scale[1];
  torch::Tensor weight = net->named_parameters()["body0.weight"];
  const auto move = [&](float steps) {
    torch::NoGradGuard no_grad;
    weight[1][2][0][1] += steps * scale;
    net->freeze_oscillating_weights();
  };
  move(1);
  EXPECT_EQ(net->frozen_weights(), 0);
  EXPECT_EQ(net->to_quantized(WeightGranularity::kPerChannel).body[0].weight[index], start + 1);
  move(-1);
  EXPECT_EQ(net->frozen_weights(), 1);
  move(5);
  EXPECT_EQ(net->frozen_weights(), 1);
  EXPECT_FLOAT_EQ(weight[1][2][0][1].item<float>(), static_cast<float>(start) * scale);
  const QuantizedQuickSRNet exported = net->to_quantized(WeightGranularity::kPerChannel);
  EXPECT_EQ(exported.body[0].weight, q.body[0].weight);
  EXPECT_EQ(exported.first.weight, q.first.weight);
  EXPECT_EQ(exported.last.weight, q.last.weight);
}

// Freezing needs the fixed scales of an INT8 start.
TEST(TorchQuickSRNet, FreezingNeedsAnInt8Start) {
  const QuickSRNet fp32 = std::get<QuickSRNet>(load_model(test_support::kSmallX2).net);
  TorchQuickSRNet net(fp32);
  EXPECT_THROW(net->enable_oscillation_freezing({0.2, 0.25}), Error);
}

}  // namespace
}  // namespace quicksr::train
