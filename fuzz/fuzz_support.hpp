#pragma once
// Shared by the libFuzzer harnesses: the readers under test take paths, so each input goes through
// one scratch file per process (in /dev/shm when present, to keep the disk out of the loop).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace quicksr::fuzz {

inline std::filesystem::path scratch_path(const std::string& suffix) {
  const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm")
                                        ? "/dev/shm"
                                        : std::filesystem::temp_directory_path();
  return dir / ("quicksr-fuzz-" + std::to_string(::getpid()) + suffix);
}

inline const std::filesystem::path& write_scratch(const std::uint8_t* data, std::size_t size,
                                                  const std::string& suffix) {
  static const std::filesystem::path path = scratch_path(suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace quicksr::fuzz
