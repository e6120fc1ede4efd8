#pragma once
// Names for parameterised GoogleTest cases.
#include <cctype>
#include <string>

namespace quicksr::test_support {

// `text` with every character GoogleTest does not allow in a test name replaced by '_'.
inline std::string test_name(std::string text) {
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return text;
}

}  // namespace quicksr::test_support
