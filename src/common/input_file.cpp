#include "common/input_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "quicksr/error.hpp"

namespace quicksr {

namespace {

// strerror_r returns the text (GNU) or fills the buffer and returns a status (XSI): the overload
// of its result type picks the text.
struct StrerrorText {
  static const char* of(const char* gnu_result, const char*) { return gnu_result; }
  static const char* of(int, const char* buffer) { return buffer; }
};

}  // namespace

std::string error_text(int error) {
  char buffer[256] = "unknown error";
  return StrerrorText::of(strerror_r(error, buffer, sizeof buffer), buffer);
}

void check_regular_file(const std::filesystem::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    const int error = errno;
    throw Error(path.string() + ": cannot open: " + error_text(error));
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
    const int error = errno;
    throw Error(path.string() + ": cannot open: " + error_text(error));
  }
  const std::int64_t modified =
      static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1000000000 + status.st_mtim.tv_nsec;
  return std::filesystem::absolute(path).string() + ", " + std::to_string(status.st_size) +
         " bytes, modified " + std::to_string(modified);
}

}  // namespace quicksr
