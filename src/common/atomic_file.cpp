#include "common/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <string>
#include <system_error>

#include "quicksr/error.hpp"

namespace quicksr {
namespace {

std::filesystem::path temp_path_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  // Built with += : GCC 12 reports a false -Wrestrict on the chained operator+ form.
  std::string name = ".";
  name += path.filename().string();
  name += ".tmp-";
  name += std::to_string(::getpid());
  name += "-";
  name += std::to_string(counter++);
  return path.parent_path() / name;
}

}  // namespace

void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path& temp)>& write) {
  const std::filesystem::path temp = temp_path_for(path);
  try {
    write(temp);
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) throw Error(path.string() + ": cannot write: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

}  // namespace quicksr
