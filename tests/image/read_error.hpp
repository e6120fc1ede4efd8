#pragma once
// The message of the quicksr::Error that reading an image throws, checked to name the file; a
// test failure when the file reads without error.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "quicksr/error.hpp"
#include "quicksr/image.hpp"

namespace quicksr::test {

inline std::string read_error(const std::filesystem::path& path, const ReadOptions& options = {}) {
  try {
    read_image(path, options);
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << path << " was read without error";
  return "";
}

}  // namespace quicksr::test
