#pragma once
// The order of the channels between two INT8 convs that the AVX2 split kernel likes: it sums the
// weights of a few input channels in s16 at once (qu8_exact_in_s16), and every (output channel,
// tap) whose sum is not exact costs it a residual word. Any order gives the same sums.
#include <cstdint>
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr::engine {

// The input channel positions whose weights the AVX2 split kernel sums in s16 at once (for each
// output channel and tap): byte pair j of input groups 2m and 2m + 1 (a quad), and byte pair j of
// a last, odd group (4x16-avx2-split.cpp).
std::vector<std::vector<int>> s16_sum_slots(int channels);

// How many (output channel, tap) of `consumer` give some slot weights whose sum is not exact in
// s16 when its input channel at position k is order[k].
int inexact_s16_sums(const QConv2d& consumer, const std::vector<int>& order);

struct S16ChannelOrder {
  std::vector<int> order;       // input channel at each position
  int inexact_sums = 0;         // inexact_s16_sums of the order, as the search counted them
  int passes = 0;               // over all candidate swaps
  std::int64_t sums_tried = 0;  // (output channel, tap) sums costed: the search's work
};

// From the identity, swap two input channels of different slots while that lowers
// inexact_s16_sums (a local search, kS16OrderMaxPasses passes at most). Channel counts that are
// not a multiple of kQu8Group keep the identity.
inline constexpr int kS16OrderMaxPasses = 8;
S16ChannelOrder s16_friendly_order(const QConv2d& consumer);

}  // namespace quicksr::engine
