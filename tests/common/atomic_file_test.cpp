// write_atomically: no file is replaced without being asked, also when it appears (or is a
// dangling link) while the output is written; replacing keeps the mode and follows links; the
// temporary name is short whatever the output's; killed writers' temporary files are cleaned up.
#include "common/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "quicksr/error.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  std::size_t file_count() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  // The error write_atomically(kKeep) throws for `path`, or "" when it succeeds.
  static std::string keep_error(const fs::path& path,
                                const std::function<void(const fs::path&)>& during = {}) {
    try {
      write_atomically(
          path,
          [&](const fs::path& temp) {
            write(temp, "new");
            if (during) during(temp);
          },
          ExistingFile::kKeep);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  test_support::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(AtomicFileTest, KeepWritesANewFile) {
  EXPECT_EQ(keep_error(dir_ / "out.txt"), "");
  EXPECT_EQ(read(dir_ / "out.txt"), "new");
  EXPECT_EQ(file_count(), 1u);
}

TEST_F(AtomicFileTest, KeepNeverReplacesAFileThatAppearsWhileWriting) {
  const fs::path out = dir_ / "out.txt";
  const std::string message = keep_error(out, [&](const fs::path&) { write(out, "theirs"); });
  EXPECT_NE(message.find(out.string() + ": already exists"), std::string::npos) << message;
  EXPECT_EQ(read(out), "theirs");
  EXPECT_EQ(file_count(), 1u) << "the temporary file must be removed";
}

TEST_F(AtomicFileTest, KeepNeverReplacesADanglingSymlink) {
  const fs::path out = dir_ / "out.txt";
  fs::create_symlink(dir_ / "nowhere.txt", out);
  EXPECT_NE(keep_error(out).find("already exists"), std::string::npos);
  EXPECT_TRUE(fs::is_symlink(out));
  EXPECT_FALSE(fs::exists(dir_ / "nowhere.txt"));
  EXPECT_EQ(file_count(), 1u);
}

TEST_F(AtomicFileTest, ReplaceKeepsThePermissionBits) {
  const fs::path out = dir_ / "secret.txt";
  write(out, "old");
  ASSERT_EQ(::chmod(out.c_str(), 0600), 0);
  write_atomically(
      out, [&](const fs::path& temp) { write(temp, "new"); }, ExistingFile::kReplace);
  EXPECT_EQ(read(out), "new");
  struct stat status {};
  ASSERT_EQ(::stat(out.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u);
}

TEST_F(AtomicFileTest, ReplaceWritesThroughASymlinkAndKeepsIt) {
  fs::create_directories(dir_ / "real");
  write(dir_ / "real" / "target.txt", "old");
  fs::create_symlink("real/target.txt", dir_ / "link.txt");
  write_atomically(
      dir_ / "link.txt", [&](const fs::path& temp) { write(temp, "new"); }, ExistingFile::kReplace);
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.txt"));
  EXPECT_EQ(read(dir_ / "real" / "target.txt"), "new");
  EXPECT_EQ(file_count(), 2u);
}

TEST_F(AtomicFileTest, TemporaryNameIsShortForAMaximalOutputName) {
  const fs::path out = dir_ / (std::string(251, 'n') + ".png");  // 255 characters, NAME_MAX
  std::size_t temp_length = 0;
  EXPECT_EQ(
      keep_error(out, [&](const fs::path& temp) { temp_length = temp.filename().string().size(); }),
      "");
  EXPECT_EQ(read(out), "new");
  EXPECT_LT(temp_length, 40u);
}

TEST_F(AtomicFileTest, TemporaryFilesOfProcessesThatNoLongerRunAreRemoved) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // `child` is now the id of a process that no longer runs
  const fs::path stale = dir_ / temp_file_name(child, 3);
  const fs::path live = dir_ / temp_file_name(::getpid(), 999);
  // The same process id on another host sharing the folder: its process is not ours to judge.
  const std::string other_host = ".quicksr-" + std::to_string(child) + "-zzzzzzzz-3.tmp";
  const fs::path users = dir_ / ".quicksr-notes.tmp";
  for (const fs::path& path : {stale, live, users, dir_ / other_host}) write(path, "x");
  EXPECT_EQ(keep_error(dir_ / "out.txt"), "");
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(users));
  EXPECT_TRUE(fs::exists(dir_ / other_host));
}

// A temporary name another writer holds (here: made first) is never reused: a writer with the
// same process id elsewhere (a container) cannot truncate it.
TEST_F(AtomicFileTest, TemporaryFileIsNewEvenWhenItsNameIsTaken) {
  fs::path first;
  EXPECT_EQ(keep_error(dir_ / "a.txt", [&](const fs::path& temp) { first = temp; }), "");
  std::vector<fs::path> taken;  // the next names this process would use
  for (unsigned n = 1; n <= 8; ++n) {
    std::string name = first.filename().string();
    const std::size_t counter = name.rfind('-') + 1;
    name.replace(counter, name.size() - counter,
                 std::to_string(std::stoul(name.substr(counter)) + n) + ".tmp");
    taken.push_back(dir_ / name);
    write(taken.back(), "theirs");
  }
  fs::path used;
  EXPECT_EQ(keep_error(dir_ / "b.txt", [&](const fs::path& temp) { used = temp; }), "");
  EXPECT_EQ(std::find(taken.begin(), taken.end(), used), taken.end()) << used;
  for (const fs::path& path : taken) EXPECT_EQ(read(path), "theirs") << path;
  EXPECT_EQ(read(dir_ / "b.txt"), "new");
}

}  // namespace
}  // namespace quicksr
