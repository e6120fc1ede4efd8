#pragma once
// JSON for model headers. Parsing untrusted headers: a nesting limit keeps a hostile header (e.g.
// 100 MB of '[') from allocating gigabytes of nested values. Model headers nest four levels at
// most.
//
// The depth is measured by one scan over the text before parsing, not with nlohmann's parser
// callback: with a callback, nlohmann rescans the enclosing object after every member (to drop
// discarded values), which made a 300k-entry header quadratic (minutes instead of a second).
#include <nlohmann/json.hpp>
#include <string>

#include "quicksr/error.hpp"

namespace quicksr {

inline constexpr int kMaxJsonDepth = 16;

// Throws quicksr::Error when brackets outside strings nest deeper than kMaxJsonDepth.
template <typename Iterator>
void check_json_depth(Iterator begin, Iterator end) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (Iterator it = begin; it != end; ++it) {
    const char c = *it;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) throw Error("JSON nested too deeply");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// The parsed value, or a discarded value (is_discarded()) for invalid JSON; throws quicksr::Error
// "JSON nested too deeply" past kMaxJsonDepth.
template <typename Iterator>
nlohmann::json parse_bounded_json(Iterator begin, Iterator end) {
  check_json_depth(begin, end);
  return nlohmann::json::parse(begin, end, nullptr, false);
}

// JSON text of `json`; names and metadata that are not valid UTF-8 (possible in an imported ONNX
// file) become a quicksr::Error instead of nlohmann's type_error.
inline std::string dump_json(const nlohmann::json& json) {
  try {
    return json.dump();
  } catch (const nlohmann::json::type_error&) {
    throw Error("a name or metadata value is not valid UTF-8");
  }
}

}  // namespace quicksr
