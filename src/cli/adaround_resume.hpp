#pragma once
// The checkpoint of `quicksr quantize --adaround`: OUT.quicksr-adaround, a quantized model file
// holding the convs an interrupted run optimised, so that the same command resumes after them.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "quicksr/model.hpp"

namespace quicksr::cli {

class AdaRoundResume {
 public:
  // `key` tells the runs that may share the file: the same command on the same model.
  AdaRoundResume(const std::filesystem::path& out, std::string key);

  const std::filesystem::path& path() const { return path_; }
  // The convs done and the net holding them, from the file of an interrupted run of this command
  // (none without a file). Throws quicksr::Error naming the file when it was written for another
  // command or model, or does not fit `ptq` (the calibration it was made on differs).
  std::optional<std::pair<int, QuantizedQuickSRNet>> load(const QuantizedQuickSRNet& ptq) const;
  // Replaces the file atomically.
  void save(int convs_done, const QuantizedQuickSRNet& net) const;
  void remove() const;

 private:
  std::filesystem::path path_;
  std::string key_;
};

}  // namespace quicksr::cli
