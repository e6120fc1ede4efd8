#pragma once
// JSON parsing for untrusted model headers: a nesting limit keeps a hostile header (e.g. 100 MB
// of '[') from allocating gigabytes of nested values. Model headers nest four levels at most.
#include <nlohmann/json.hpp>

#include "quicksr/error.hpp"

namespace quicksr {

inline constexpr int kMaxJsonDepth = 16;

// The parsed value, or a discarded value (is_discarded()) for invalid JSON; throws quicksr::Error
// "JSON nested too deeply" past kMaxJsonDepth.
template <typename Iterator>
nlohmann::json parse_bounded_json(Iterator begin, Iterator end) {
  const auto limit_depth = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) throw Error("JSON nested too deeply");
    return true;
  };
  return nlohmann::json::parse(begin, end, limit_depth, false);
}

}  // namespace quicksr
