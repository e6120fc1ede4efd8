#include "common/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/input_file.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

FileLock::FileLock(const std::filesystem::path& path, const std::string& busy) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(path.string() + ": cannot write: " + error_text(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      throw Error(busy);
    }
    struct stat locked {};
    struct stat named {};
    if (::fstat(fd, &locked) == 0 && ::stat(path.c_str(), &named) == 0 &&
        locked.st_ino == named.st_ino && locked.st_dev == named.st_dev) {
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw Error(busy);
}

FileLock::~FileLock() { ::close(fd_); }

}  // namespace quicksr
