#pragma once
// The one exception type quicksr throws for bad input: its message names the file and the problem.
#include <stdexcept>
#include <string>

namespace quicksr {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace quicksr
