#pragma once
// A scratch folder for one test: new and empty, removed with everything in it when the object goes
// away, also when an ASSERT ends the test early.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace quicksr::test_support {

class TempDir {
 public:
  TempDir() : path_(unique_path()) {
    std::filesystem::remove_all(path_);  // left by a killed run whose process id was this one's
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;  // a destructor must not throw; a leftover folder harms no one
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }

  // Names of the entries in the folder, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  // The process id keeps apart test programs that ctest runs at once, the counter the folders of
  // one program; the test's name says whose folder a leftover was.
  static std::filesystem::path unique_path() {
    static std::atomic<int> counter{0};
    std::string name =
        "quicksr-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    if (const auto* test = ::testing::UnitTest::GetInstance()->current_test_info()) {
      name += std::string("-") + test->test_suite_name() + "." + test->name();
      std::replace(name.begin(), name.end(), '/', '_');  // parameterised tests: Prefix/Suite.Test/0
    }
    return std::filesystem::temp_directory_path() / name;
  }

  std::filesystem::path path_;
};

}  // namespace quicksr::test_support
