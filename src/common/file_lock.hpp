#pragma once
// An exclusive lock that keeps two processes from working in one folder at once (a video's parts,
// a training run).
#include <filesystem>
#include <string>

namespace quicksr {

class FileLock {
 public:
  // Locks the file `path` (created if missing; flock, released when the process ends, killed or
  // not). Throws quicksr::Error(`busy`) when another process holds it, or one naming `path` when
  // it cannot be created. A lock taken on a file that its holder removed meanwhile (as a finishing
  // run removes its folder) is no lock: then the new file is locked.
  FileLock(const std::filesystem::path& path, const std::string& busy);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace quicksr
