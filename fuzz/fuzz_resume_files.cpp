// The files resumed work reads back: bytes as a training config (`quicksr train --config`, a
// run's config.json: read_config_file, apply_json, validate), as a run's log.csv (read_log, on
// resume) and as a finished part of a video (the packet log of `quicksr video`). Only
// quicksr::Error may come out; the rows read keep the iteration bound.
#include <cstdint>

#include "fuzz_support.hpp"
#include "quicksr/error.hpp"
#include "train/run_log.hpp"
#include "train/trainer.hpp"
#include "video/packet_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& path = quicksr::fuzz::write_scratch(data, size, ".train");
  try {
    quicksr::train::TrainConfig config;
    quicksr::train::apply_json(config, quicksr::train::read_config_file(path), path.string());
    quicksr::train::validate(config);
  } catch (const quicksr::Error&) {
  }
  try {
    constexpr std::int64_t kLastIteration = 1000;
    for (const quicksr::train::LogRow& row : quicksr::train::read_log(path, kLastIteration)) {
      if (row.iteration > kLastIteration) __builtin_trap();
    }
  } catch (const quicksr::Error&) {
  }
  try {
    quicksr::video::count_logged_packets(path);
  } catch (const quicksr::Error&) {
  }
  return 0;
}
