#include "common/input_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "quicksr/error.hpp"

namespace quicksr {

void check_regular_file(const std::filesystem::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  }
  const auto mode = status.st_mode;
  if (S_ISREG(mode)) return;
  const char* type = S_ISDIR(mode)    ? "a directory"
                     : S_ISFIFO(mode) ? "a FIFO (named pipe)"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISSOCK(mode) ? "a socket"
                                      : "not a regular file";
  throw Error(path.string() + ": is " + type + ", not a regular file");
}

std::string file_identity(const std::filesystem::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  }
  const std::int64_t modified =
      static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1000000000 + status.st_mtim.tv_nsec;
  return std::filesystem::absolute(path).string() + ", " + std::to_string(status.st_size) +
         " bytes, modified " + std::to_string(modified);
}

}  // namespace quicksr
