// The tests' scratch folder (tests/support/temp_dir.hpp): new, empty, its own, and gone with
// everything in it afterwards.
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;

TEST(TempDirTest, EachIsANewEmptyFolderRemovedWithItsContents) {
  fs::path first_path;
  {
    const TempDir first;
    const TempDir second;
    first_path = first.path();
    EXPECT_NE(first.path(), second.path());
    EXPECT_TRUE(fs::is_directory(first.path()));
    EXPECT_TRUE(first.entries().empty());
    EXPECT_NE(first.path().filename().string().find("TempDirTest.EachIsANewEmptyFolder"),
              std::string::npos)
        << first.path();
    fs::create_directories(first / "sub");
    std::ofstream(first / "sub" / "file") << "x";
    std::ofstream(first / "b") << "y";
    EXPECT_EQ(first.entries(), (std::vector<std::string>{"b", "sub"}));
  }
  EXPECT_FALSE(fs::exists(first_path));
}

class TempDirNamed : public testing::TestWithParam<int> {};

// A parameterised test's name holds slashes (Prefix/Suite.Test/0); the folder stays one folder
// directly in the system's temp folder, so removing it leaves nothing behind.
TEST_P(TempDirNamed, ParameterisedTestsGetOneFolder) {
  const TempDir dir;
  EXPECT_EQ(dir.path().parent_path(), fs::temp_directory_path());
  EXPECT_NE(
      dir.path().filename().string().find("Slashes_TempDirNamed.ParameterisedTestsGetOneFolder_0"),
      std::string::npos)
      << dir.path();
}

INSTANTIATE_TEST_SUITE_P(Slashes, TempDirNamed, testing::Values(0));

}  // namespace
}  // namespace quicksr
