#pragma once
// The float nets that fuzz_encodings quantizes with fuzzed encodings, and fuzz_seeds with valid
// ones: small, with and without an anchor, integer and x1.5 scale.
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr::fuzz {

inline const std::vector<QuickSRNet>& encodings_nets() {
  static const std::vector<QuickSRNet> nets = {
      QuickSRNet::initialized({.features = 4, .blocks = 1, .scale = {2, 1}, .anchor = false}, 1),
      QuickSRNet::initialized({.features = 3, .blocks = 0, .scale = {3, 2}, .anchor = true}, 2)};
  return nets;
}

}  // namespace quicksr::fuzz
