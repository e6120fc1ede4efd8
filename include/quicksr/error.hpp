#pragma once
// The one exception type quicksr throws for bad input: its message names the file and the problem.
#include <stdexcept>
#include <string>

namespace quicksr {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `message` as one line about `file`: prefixed with "FILE: " unless it already starts so.
inline std::string about_file(const std::string& file, const std::string& message) {
  return message.starts_with(file + ":") ? message : file + ": " + message;
}

}  // namespace quicksr
