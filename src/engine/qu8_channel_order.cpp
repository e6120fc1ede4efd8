#include "engine/qu8_channel_order.hpp"

#include <algorithm>
#include <cstddef>

#include "engine/kernels/qu8_kernels.hpp"

namespace quicksr::engine {

namespace {

// qu8_exact_in_s16 bounds the positive and the negative weights of a sum apart, so the search
// keeps both parts (the negative one as a magnitude) per channel or slot and per (output channel,
// tap) "sum", in 16-bit lanes 4 to a 64-bit word: costing a swap is then a few integer operations
// per 4 sums, also where the compiler does not vectorise (the sanitizer build's -O1). A slot's
// lane holds at most 4 x 128, so no lane carries into the next.
constexpr int kLanes = 4;
constexpr std::uint64_t kEveryLane = 0x0001'0001'0001'0001;
constexpr std::uint64_t kLaneTops = 0x8000 * kEveryLane;
// Added to the lanes, sets the top bit of those past the bound.
constexpr std::uint64_t kPastBound = (0x8000 - kQu8ExactSumMagnitude - 1) * kEveryLane;

struct SignedParts {
  SignedParts(int rows, int sums)
      : words((sums + kLanes - 1) / kLanes),
        positive(static_cast<std::size_t>(rows) * words),
        negative(static_cast<std::size_t>(rows) * words) {}
  void add(int row, int sum, int weight) {
    const std::size_t word = row * words + sum / kLanes;
    const int shift = sum % kLanes * 16;
    positive[word] += static_cast<std::uint64_t>(std::max(weight, 0)) << shift;
    negative[word] += static_cast<std::uint64_t>(std::max(-weight, 0)) << shift;
  }
  const std::uint64_t* positive_row(int row) const { return positive.data() + row * words; }
  const std::uint64_t* negative_row(int row) const { return negative.data() + row * words; }

  std::ptrdiff_t words;
  std::vector<std::uint64_t> positive;
  std::vector<std::uint64_t> negative;
};

SignedParts channel_parts(const QConv2d& conv) {
  const int taps = conv.kernel_h * conv.kernel_w;
  SignedParts parts(conv.in_channels, conv.out_channels * taps);
  for (int i = 0; i < conv.in_channels; ++i) {
    for (int o = 0; o < conv.out_channels; ++o) {
      for (int tap = 0; tap < taps; ++tap) {
        parts.add(i, o * taps + tap,
                  conv.weight[(static_cast<std::size_t>(o) * conv.in_channels + i) * taps + tap]);
      }
    }
  }
  return parts;
}

// Row `slot` of `slots` += row `in` of `channels` - row `out` (the lanes stay in range, so the
// words may be added whole).
void swap_in_slot(SignedParts& slots, int slot, const SignedParts& channels, int out, int in) {
  for (std::ptrdiff_t w = 0; w < slots.words; ++w) {
    slots.positive[slot * slots.words + w] +=
        channels.positive_row(in)[w] - channels.positive_row(out)[w];
    slots.negative[slot * slots.words + w] +=
        channels.negative_row(in)[w] - channels.negative_row(out)[w];
  }
}

// The slots' parts for `order`.
SignedParts slot_parts(const SignedParts& channels, const std::vector<std::vector<int>>& slots,
                       const std::vector<int>& order, int sums) {
  SignedParts parts(static_cast<int>(slots.size()), sums);
  for (std::size_t s = 0; s < slots.size(); ++s) {
    for (const int position : slots[s]) {
      for (std::ptrdiff_t w = 0; w < parts.words; ++w) {
        parts.positive[s * parts.words + w] += channels.positive_row(order[position])[w];
        parts.negative[s * parts.words + w] += channels.negative_row(order[position])[w];
      }
    }
  }
  return parts;
}

// How many sums of `slot` are inexact once its channel `out` is replaced by `in` (pass out == in
// for the slot as it is).
int inexact_after_swap(const SignedParts& slots, int slot, const SignedParts& channels, int out,
                       int in) {
  const std::uint64_t* slot_positive = slots.positive_row(slot);
  const std::uint64_t* slot_negative = slots.negative_row(slot);
  const std::uint64_t* out_positive = channels.positive_row(out);
  const std::uint64_t* out_negative = channels.negative_row(out);
  const std::uint64_t* in_positive = channels.positive_row(in);
  const std::uint64_t* in_negative = channels.negative_row(in);
  std::uint64_t lane_counts = 0;  // each < 2^16 for any conv with under 29127 output channels
  for (std::ptrdiff_t w = 0; w < slots.words; ++w) {
    const std::uint64_t positive = slot_positive[w] - out_positive[w] + in_positive[w];
    const std::uint64_t negative = slot_negative[w] - out_negative[w] + in_negative[w];
    lane_counts += (((positive + kPastBound) | (negative + kPastBound)) & kLaneTops) >> 15;
  }
  int count = 0;
  for (int lane = 0; lane < kLanes; ++lane) count += (lane_counts >> (16 * lane)) & 0xffff;
  return count;
}

}  // namespace

std::vector<std::vector<int>> s16_sum_slots(int channels) {
  std::vector<std::vector<int>> slots;
  const int groups = channels / kQu8Group;
  int g = 0;
  for (; g + 1 < groups; g += 2) {
    for (int pair = g * kQu8Group; pair < (g + 1) * kQu8Group; pair += 2) {
      slots.push_back({pair, pair + 1, pair + kQu8Group, pair + kQu8Group + 1});
    }
  }
  for (int pair = g * kQu8Group; pair < groups * kQu8Group; pair += 2) {
    slots.push_back({pair, pair + 1});
  }
  return slots;
}

int inexact_s16_sums(const QConv2d& consumer, const std::vector<int>& order) {
  const int taps = consumer.kernel_h * consumer.kernel_w;
  int count = 0;
  for (const std::vector<int>& slot : s16_sum_slots(consumer.in_channels)) {
    std::vector<int> weights(slot.size());
    for (int o = 0; o < consumer.out_channels; ++o) {
      for (int tap = 0; tap < taps; ++tap) {
        for (std::size_t k = 0; k < slot.size(); ++k) {
          weights[k] =
              consumer
                  .weight[(static_cast<std::size_t>(o) * consumer.in_channels + order[slot[k]]) *
                              taps +
                          tap];
        }
        count += !qu8_exact_in_s16(weights);
      }
    }
  }
  return count;
}

S16ChannelOrder s16_friendly_order(const QConv2d& consumer) {
  const int channels = consumer.in_channels;
  S16ChannelOrder result;
  std::vector<int>& order = result.order;
  order.resize(channels);
  for (int i = 0; i < channels; ++i) order[i] = i;
  if (channels % kQu8Group != 0) {
    result.inexact_sums = inexact_s16_sums(consumer, order);
    return result;
  }
  const int sums = consumer.out_channels * consumer.kernel_h * consumer.kernel_w;
  const std::vector<std::vector<int>> slots = s16_sum_slots(channels);
  const SignedParts channel = channel_parts(consumer);
  SignedParts slot = slot_parts(channel, slots, order, sums);
  std::vector<int> slot_of(channels);
  std::vector<int> cost(slots.size());
  for (std::size_t s = 0; s < slots.size(); ++s) {
    for (const int position : slots[s]) slot_of[position] = static_cast<int>(s);
    cost[s] = inexact_after_swap(slot, static_cast<int>(s), channel, 0, 0);
  }
  // A pair is tried again only once a swap has changed one of its slots: until then it still
  // cannot lower the count (the result is that of trying every pair in every pass).
  int swaps = 0;
  std::vector<int> slot_changed_at(slots.size(), 0);
  std::vector<int> pair_tried_at(static_cast<std::size_t>(channels) * channels, -1);
  for (bool improved = true; improved && result.passes < kS16OrderMaxPasses; ++result.passes) {
    improved = false;
    for (int a = 0; a < channels; ++a) {
      for (int b = a + 1; b < channels; ++b) {
        const int sa = slot_of[a];
        const int sb = slot_of[b];
        int& tried_at = pair_tried_at[a * channels + b];
        // A swap between two exact slots cannot lower the count either.
        if (sa == sb || cost[sa] + cost[sb] == 0 ||
            tried_at >= std::max(slot_changed_at[sa], slot_changed_at[sb])) {
          continue;
        }
        const int cost_a = inexact_after_swap(slot, sa, channel, order[a], order[b]);
        const int cost_b = inexact_after_swap(slot, sb, channel, order[b], order[a]);
        result.sums_tried += 2 * sums;
        if (cost_a + cost_b < cost[sa] + cost[sb]) {
          swap_in_slot(slot, sa, channel, order[a], order[b]);
          swap_in_slot(slot, sb, channel, order[b], order[a]);
          cost[sa] = cost_a;
          cost[sb] = cost_b;
          std::swap(order[a], order[b]);
          slot_changed_at[sa] = slot_changed_at[sb] = ++swaps;
          improved = true;
        }
        tried_at = swaps;
      }
    }
  }
  for (const int slot_cost : cost) result.inexact_sums += slot_cost;
  return result;
}

}  // namespace quicksr::engine
