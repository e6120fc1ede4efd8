#pragma once
// The exception types quicksr throws for bad input: the message names the file or argument and
// the problem.
#include <stdexcept>
#include <string>

namespace quicksr {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A caller's argument that does not fit (a null buffer, a size, a stride, overlapping buffers),
// as opposed to a bad file or model: the C API reports it as QUICKSR_ERROR_ARGUMENT.
class ArgumentError : public Error {
 public:
  using Error::Error;
};

// `message` as one line about `file`: prefixed with "FILE: " unless it already starts so.
inline std::string about_file(const std::string& file, const std::string& message) {
  return message.starts_with(file + ":") ? message : file + ": " + message;
}

}  // namespace quicksr
