#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>

#include "common/input_file.hpp"
#include "quicksr/error.hpp"

namespace quicksr {
namespace {

constexpr std::string_view kTempPrefix = ".quicksr-";
constexpr std::string_view kTempSuffix = ".tmp";

// 8 hex digits naming this host: writers on several hosts (a cluster's shared folder) or in
// containers (where process ids repeat) never share a temporary name, and the stale-file cleanup
// below only judges this host's processes.
const std::string& host_tag() {
  static const std::string tag = [] {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    std::uint32_t hash = 2166136261u;  // FNV-1a
    for (const char* c = name; *c; ++c) hash = (hash ^ static_cast<unsigned char>(*c)) * 16777619u;
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", hash);
    return std::string(hex);
  }();
  return tag;
}

// A new temporary name in `folder` that `create` (an exclusive create returning false with errno
// EEXIST when the name is taken) made here, so that no other writer has it. Throws quicksr::Error
// naming `output` (what it is for) when the folder cannot take it.
std::filesystem::path create_temp_entry(
    const std::filesystem::path& folder, const std::filesystem::path& output,
    const std::function<bool(const std::filesystem::path&)>& create) {
  static std::atomic<unsigned> counter{0};
  while (true) {
    const std::filesystem::path path = folder / temp_file_name(::getpid(), counter++);
    if (create(path)) return path;
    if (errno != EEXIST) throw Error(output.string() + ": cannot write: " + error_text(errno));
  }
}

std::filesystem::path create_temp_file(const std::filesystem::path& folder,
                                       const std::filesystem::path& output) {
  return create_temp_entry(folder, output, [](const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  });
}

// The writer's process id if `name` is one of this host's temporary files, else 0.
pid_t temp_file_owner(const std::string& name) {
  if (!name.starts_with(kTempPrefix) || !name.ends_with(kTempSuffix)) return 0;
  const char* first = name.data() + kTempPrefix.size();
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(first, name.data() + name.size(), pid);
  if (ec != std::errc() || end == first || *end != '-') return 0;
  const std::string_view rest(end + 1, name.data() + name.size() - (end + 1));
  return rest.starts_with(host_tag() + "-") ? pid : 0;
}

void remove_stale_temp_files(const std::filesystem::path& folder) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder.empty() ? "." : folder, ec), end;
       !ec && it != end; it.increment(ec)) {
    const pid_t owner = temp_file_owner(it->path().filename().string());
    if (owner <= 0 || ::kill(owner, 0) == 0 || errno != ESRCH) continue;
    // Links are not followed: a scratch folder's content goes with it, nothing outside.
    const std::filesystem::file_type type = it->symlink_status(ec).type();
    if (type == std::filesystem::file_type::regular) std::filesystem::remove(it->path(), ec);
    if (type == std::filesystem::file_type::directory) std::filesystem::remove_all(it->path(), ec);
  }
}

// Where kReplace writes: `path`, or the file a (chain of) symbolic link(s) at `path` points to,
// also when that file does not exist yet. Past 40 links (the kernel's limit) the path itself.
std::filesystem::path replacement_target(const std::filesystem::path& path) {
  std::filesystem::path target = path;
  for (int links = 0; links < 40; ++links) {
    std::error_code ec;
    if (!std::filesystem::is_symlink(target, ec)) return target;
    const std::filesystem::path next = std::filesystem::read_symlink(target, ec);
    if (ec) return path;
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
  return path;
}

[[noreturn]] void throw_exists(const std::filesystem::path& path) {
  throw Error(path.string() + ": already exists (use --overwrite to replace it)");
}

[[noreturn]] void fail(const std::filesystem::path& path, int error) {
  if (error == EEXIST) throw_exists(path);
  throw Error(path.string() + ": cannot write: " + error_text(error));
}

// rename(2) that fails with EEXIST instead of replacing; link + unlink where the file system has
// no RENAME_NOREPLACE.
void rename_no_replace(const std::filesystem::path& temp, const std::filesystem::path& path) {
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) fail(path, errno);
  if (::link(temp.c_str(), path.c_str()) != 0) fail(path, errno);
  ::unlink(temp.c_str());
}

// fsync of the file or folder `path`; failures are reported as writing `named`.
void sync_or_throw(const std::filesystem::path& path, int flags,
                   const std::filesystem::path& named) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail(named, errno);
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail(named, error);
  }
  ::close(fd);
}

void rename_replacing(const std::filesystem::path& temp, const std::filesystem::path& path) {
  struct stat old_file {};
  if (::stat(path.c_str(), &old_file) == 0) ::chmod(temp.c_str(), old_file.st_mode & 07777);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail(path, errno);
}

}  // namespace

std::string temp_file_name(pid_t pid, unsigned n) {
  std::string name(kTempPrefix);
  name += std::to_string(pid) + "-" + host_tag() + "-" + std::to_string(n);
  name += kTempSuffix;
  return name;
}

void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path& temp)>& write,
                      ExistingFile existing) {
  const std::filesystem::path target =
      existing == ExistingFile::kReplace ? replacement_target(path) : path;
  remove_stale_temp_files(target.parent_path());
  const std::filesystem::path temp = create_temp_file(target.parent_path(), path);
  try {
    write(temp);
    if (existing == ExistingFile::kKeep) {
      rename_no_replace(temp, target);
    } else {
      rename_replacing(temp, target);
    }
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

void check_output_file(const std::filesystem::path& input, const std::filesystem::path& output,
                       ExistingFile existing) {
  std::error_code ec;
  if (std::filesystem::is_directory(output, ec)) {
    throw Error(output.string() + ": is a folder; name the file to write");
  }
  if (std::filesystem::equivalent(input, output, ec)) {
    throw Error(output.string() + ": refusing to overwrite the input file");
  }
  if (existing == ExistingFile::kKeep &&
      std::filesystem::exists(std::filesystem::symlink_status(output, ec))) {
    throw_exists(output);
  }
}

void sync_to_disk(const std::filesystem::path& path) {
  sync_or_throw(path, O_RDONLY, path);
  const std::filesystem::path folder = path.parent_path();
  sync_or_throw(folder.empty() ? "." : folder, O_RDONLY | O_DIRECTORY, path);
}

ScratchFolder::ScratchFolder() : ScratchFolder(std::filesystem::temp_directory_path()) {}

ScratchFolder::ScratchFolder(const std::filesystem::path& parent) {
  remove_stale_temp_files(parent);
  path_ = create_temp_entry(parent, parent / "", [](const std::filesystem::path& path) {
    return ::mkdir(path.c_str(), 0700) == 0;
  });
}

ScratchFolder::~ScratchFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_bytes_atomically(const std::filesystem::path& path, const std::string& bytes,
                            ExistingFile existing) {
  write_atomically(
      path,
      [&](const std::filesystem::path& temp) {
        std::ofstream out(temp, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out.flush()) throw Error(path.string() + ": cannot write: " + std::strerror(errno));
      },
      existing);
}

}  // namespace quicksr
