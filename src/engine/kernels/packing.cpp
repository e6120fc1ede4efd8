// Weight packing for the f32 and INT8 conv kernels; each config names the function its kernel
// reads.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "engine/kernels/kernels.hpp"
#include "engine/kernels/qu8_kernels.hpp"
#include "engine/kernels/winograd_f43.hpp"

namespace quicksr::engine {

namespace {

int padded_channels(const Conv2d& conv, int channel_group) {
  return (conv.out_channels + channel_group - 1) / channel_group * channel_group;
}

}  // namespace

std::vector<float> pack_conv_goi_blocks(const Conv2d& conv, int channel_group, int block) {
  const int padded = padded_channels(conv, channel_group);
  const int taps = conv.in_channels * conv.kernel_h * conv.kernel_w;
  std::vector<float> packed(static_cast<std::size_t>(padded) * taps, 0.0f);
  std::size_t index = 0;
  for (int first = 0; first < padded; first += block) {
    const int width = std::min(block, padded - first);
    for (int ci = 0; ci < conv.in_channels; ++ci) {
      for (int ky = 0; ky < conv.kernel_h; ++ky) {
        for (int kx = 0; kx < conv.kernel_w; ++kx) {
          for (int j = 0; j < width; ++j, ++index) {
            const int o = first + j;
            if (o < conv.out_channels) packed[index] = conv.w(o, ci, ky, kx);
          }
        }
      }
    }
  }
  return packed;
}

std::vector<float> pack_conv_goi(const Conv2d& conv, int channel_group) {
  return pack_conv_goi_blocks(conv, channel_group, channel_group);
}

// Weights are transformed in double and rounded once.
std::vector<float> pack_winograd_f43_goi(const Conv2d& conv, int channel_group) {
  const int groups = padded_channels(conv, channel_group) / channel_group;
  std::vector<float> packed(
      static_cast<std::size_t>(kWinogradPoints) * groups * channel_group * conv.in_channels * 3,
      0.0f);
  for (int o = 0; o < conv.out_channels; ++o) {
    for (int ci = 0; ci < conv.in_channels; ++ci) {
      for (int ky = 0; ky < 3; ++ky) {
        const double taps[3] = {conv.w(o, ci, ky, 0), conv.w(o, ci, ky, 1), conv.w(o, ci, ky, 2)};
        double points[kWinogradPoints];
        winograd_f43::transform_weights(taps, points);
        for (int k = 0; k < kWinogradPoints; ++k) {
          const std::size_t index =
              ((static_cast<std::size_t>(k * groups + o / channel_group) * conv.in_channels + ci) *
                   3 +
               ky) *
                  channel_group +
              o % channel_group;
          packed[index] = static_cast<float>(points[k]);
        }
      }
    }
  }
  return packed;
}

namespace {

int groups_of(int channels) { return (channels + kQu8Group - 1) / kQu8Group; }

// Calls put(word_index, o, i, ky, kx) for every real weight, in the packed order shared by both
// packings: per output group, input group, ky, kx, output channel of the group, then
// `words_per_output` words per output channel.
template <typename Put>
std::vector<std::int32_t> pack_qu8(const QConv2d& conv, int words_per_output, Put put) {
  const int out_groups = groups_of(conv.out_channels);
  const int in_groups = groups_of(conv.in_channels);
  const int kh = conv.kernel_h;
  const int kw = conv.kernel_w;
  std::vector<std::int32_t> packed(
      static_cast<std::size_t>(out_groups) * in_groups * kh * kw * kQu8Group * words_per_output, 0);
  std::size_t index = 0;
  for (int og = 0; og < out_groups; ++og) {
    for (int g = 0; g < in_groups; ++g) {
      for (int ky = 0; ky < kh; ++ky) {
        for (int kx = 0; kx < kw; ++kx) {
          for (int j = 0; j < kQu8Group; ++j, index += words_per_output) {
            const int o = og * kQu8Group + j;
            if (o >= conv.out_channels) continue;
            for (int c = 0; c < kQu8Group && g * kQu8Group + c < conv.in_channels; ++c) {
              const int i = g * kQu8Group + c;
              put(packed.data() + index, c,
                  conv.weight[((static_cast<std::size_t>(o) * conv.in_channels + i) * kh + ky) *
                                  kw +
                              kx]);
            }
          }
        }
      }
    }
  }
  return packed;
}

// Byte `c` of a word is channel c of the group (little endian, as in the grouped rows).
void set_s8(std::int32_t* word, int c, std::int8_t w) {
  auto bits = static_cast<std::uint32_t>(*word);
  bits |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(w)) << (8 * c);
  *word = static_cast<std::int32_t>(bits);
}

// Word c % 2 holds channels c % 2 (low half) and c % 2 + 2 (high half) as s16.
void set_s16(std::int32_t* words, int c, std::int8_t w) {
  auto bits = static_cast<std::uint32_t>(words[c % 2]);
  bits |= static_cast<std::uint32_t>(static_cast<std::uint16_t>(static_cast<std::int16_t>(w)))
          << (16 * (c / 2));
  words[c % 2] = static_cast<std::int32_t>(bits);
}

}  // namespace

std::vector<std::int32_t> pack_qu8_conv3x3_s8x4(const QConv2d& conv) {
  return pack_qu8(conv, 1, [](std::int32_t* words, int c, std::int8_t w) { set_s8(words, c, w); });
}

std::vector<std::int32_t> pack_qu8_conv3x3_s16x2(const QConv2d& conv) {
  return pack_qu8(conv, 2, [](std::int32_t* words, int c, std::int8_t w) { set_s16(words, c, w); });
}

namespace {

constexpr int kSplitWeightBound = kQu8ExactSumMagnitude / 2;

using WordBytes = std::array<std::int8_t, kQu8Group>;

WordBytes bytes_of(std::int32_t word) {
  WordBytes bytes;
  std::memcpy(bytes.data(), &word, sizeof bytes);
  return bytes;
}

std::int32_t word_of(const WordBytes& bytes) {
  std::int32_t word = 0;
  std::memcpy(&word, bytes.data(), sizeof bytes);
  return word;
}

// Leaves in `word` a part whose byte pairs (0,1) and (2,3) are exact for `vpmaddubsw`
// (qu8_exact_in_s16) and returns the rest, which is too: a pair that is not is clamped to +-64 per
// weight, the residual of each weight then lies in [-64, 63]. Exact pairs keep their weights.
std::int32_t split_off_residual(std::int32_t& word) {
  WordBytes main = bytes_of(word);
  WordBytes residual{};
  for (int pair = 0; pair < kQu8Group; pair += 2) {
    const int weights[] = {main[pair], main[pair + 1]};
    if (qu8_exact_in_s16(weights)) continue;
    for (int c = pair; c < pair + 2; ++c) {
      const int clamped = std::clamp<int>(main[c], -kSplitWeightBound, kSplitWeightBound);
      residual[c] = static_cast<std::int8_t>(main[c] - clamped);
      main[c] = static_cast<std::int8_t>(clamped);
    }
  }
  word = word_of(main);
  return word_of(residual);
}

// Moves weights of the quad (byte pair `pair` of words a and b) towards zero until the quad is
// exact (qu8_exact_in_s16): per sign, the excess comes off the word whose weights of that sign sum
// to more first, its larger weight first, so that the residual stays in as few words as possible.
void reduce_quad(WordBytes& a, WordBytes& b, int pair) {
  for (const int sign : {1, -1}) {
    const auto share = [&](const WordBytes& w, int c) { return std::max(0, sign * w[c]); };
    const auto pair_share = [&](const WordBytes& w) { return share(w, pair) + share(w, pair + 1); };
    int excess = pair_share(a) + pair_share(b) - kQu8ExactSumMagnitude;
    WordBytes* words[2] = {&a, &b};
    if (pair_share(b) > pair_share(a)) std::swap(words[0], words[1]);
    for (WordBytes* w : words) {
      const int larger = share(*w, pair) >= share(*w, pair + 1) ? pair : pair + 1;
      for (const int c : {larger, 2 * pair + 1 - larger}) {
        const int take = std::clamp(excess, 0, share(*w, c));
        (*w)[c] = static_cast<std::int8_t>((*w)[c] - sign * take);
        excess -= take;
      }
    }
  }
}

}  // namespace

std::vector<std::int32_t> pack_qu8_conv3x3_s8x4_split(const QConv2d& conv) {
  std::vector<std::int32_t> packed = pack_qu8_conv3x3_s8x4(conv);
  const std::vector<std::int32_t> original = packed;
  const int out_channels = groups_of(conv.out_channels) * kQu8Group;
  const int in_groups = groups_of(conv.in_channels);
  const int taps = conv.kernel_h * conv.kernel_w;
  const auto word = [&](int o, int g, int tap) {
    return ((static_cast<std::size_t>(o / kQu8Group) * in_groups + g) * taps + tap) * kQu8Group +
           o % kQu8Group;
  };
  // The main words: the quads of the kernel's group pairs, the byte pairs of a last odd group.
  for (int o = 0; o < out_channels; ++o) {
    for (int tap = 0; tap < taps; ++tap) {
      int g = 0;
      for (; g + 1 < in_groups; g += 2) {
        WordBytes a = bytes_of(packed[word(o, g, tap)]);
        WordBytes b = bytes_of(packed[word(o, g + 1, tap)]);
        for (int pair = 0; pair < kQu8Group; pair += 2) reduce_quad(a, b, pair);
        packed[word(o, g, tap)] = word_of(a);
        packed[word(o, g + 1, tap)] = word_of(b);
      }
      if (g < in_groups) split_off_residual(packed[word(o, g, tap)]);
    }
  }
  // The residual entries: what each word lost, in as many words with exact pairs as it takes.
  std::vector<std::int32_t> starts;
  std::vector<std::int32_t> entries;
  for (int o = 0; o < out_channels; ++o) {
    starts.push_back(static_cast<std::int32_t>(entries.size() / 2));
    for (int g = 0; g < in_groups; ++g) {
      for (int tap = 0; tap < taps; ++tap) {
        const WordBytes before = bytes_of(original[word(o, g, tap)]);
        const WordBytes after = bytes_of(packed[word(o, g, tap)]);
        WordBytes lost;
        for (int c = 0; c < kQu8Group; ++c) {
          lost[c] = static_cast<std::int8_t>(before[c] - after[c]);
        }
        for (std::int32_t rest = word_of(lost); rest != 0;) {
          std::int32_t part = rest;
          rest = split_off_residual(part);
          entries.push_back(qu8_residual_position(g, tap / conv.kernel_w, tap % conv.kernel_w));
          entries.push_back(part);
        }
      }
    }
  }
  starts.push_back(static_cast<std::int32_t>(entries.size() / 2));
  packed.insert(packed.end(), starts.begin(), starts.end());
  packed.insert(packed.end(), entries.begin(), entries.end());
  return packed;
}

}  // namespace quicksr::engine
