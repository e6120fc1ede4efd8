// FileLock: one holder at a time, released with its holder. (The retake when the holder removed
// the lock file between another's open and flock is a race of microseconds: not tested.)
#include "common/file_lock.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "quicksr/error.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;

// The message of the Error that locking `path` throws, or "" when it locks.
std::string lock_error(const fs::path& path) {
  try {
    const FileLock lock(path, "busy");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(FileLock, OneHolderAtATime) {
  const test_support::TempDir dir;
  const fs::path path = dir.path() / "lock";
  {
    const FileLock held(path, "busy");
    EXPECT_EQ(lock_error(path), "busy");  // another open file: flock refuses it in this process too
  }
  EXPECT_EQ(lock_error(path), "");
  EXPECT_NE(lock_error(dir.path() / "missing" / "lock").find("cannot write"), std::string::npos);
}

}  // namespace
}  // namespace quicksr
