// check_regular_file rejects what is not a regular file by its type, before opening it.
#include "common/input_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "quicksr/error.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

std::string error_of(const std::filesystem::path& path) {
  try {
    check_regular_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(InputFileTest, NamesTheFileAndItsType) {
  const test_support::TempDir temp;
  const std::filesystem::path& dir = temp.path();
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  std::ofstream(dir / "plain") << "x";
  EXPECT_EQ(error_of(dir / "pipe"),
            (dir / "pipe").string() + ": is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(error_of("/dev/null"), "/dev/null: is a character device, not a regular file");
  EXPECT_EQ(error_of(dir), dir.string() + ": is a directory, not a regular file");
  EXPECT_EQ(error_of(dir / "absent"),
            (dir / "absent").string() + ": cannot open: No such file or directory");
  EXPECT_EQ(error_of(dir / "plain"), "");
}

}  // namespace
}  // namespace quicksr
