#pragma once
// Writing outputs so that a crash or a kill never leaves a partial file behind, and an existing
// file is replaced only when asked.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>

#include "quicksr/output.hpp"

namespace quicksr {

// Calls `write(temp)` with a new empty temporary file in the folder of `path` (a short name,
// temp_file_name, whatever the length of `path`), then moves it to `path`: with kKeep by a
// rename that never replaces (so a file that appeared meanwhile, or a dangling symbolic link, is
// kept), with kReplace by rename(2) keeping the old file's permission bits. If anything throws, the
// temporary file is removed and the exception propagates. Temporary files of this pattern left in
// that folder by processes of this host that no longer run (killed writers) are removed first.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path& temp)>& write,
                      ExistingFile existing);

// ".quicksr-PID-HOST-N.tmp": the name of the n-th temporary file of process `pid` on this host
// (HOST: 8 hex digits from its host name, so that hosts sharing a folder never collide).
std::string temp_file_name(pid_t pid, unsigned n);

// Throws quicksr::Error naming `output` when writing it would destroy something or cannot work:
// it is a folder, the file `input` itself (links followed), or it exists (a dangling symbolic link
// too) and `existing` is kKeep. Commands call it before the work; write_atomically's no-replace
// rename closes the gap between this check and the end of the work.
void check_output_file(const std::filesystem::path& input, const std::filesystem::path& output,
                       ExistingFile existing);

// Puts the written file `path` and its name in its folder on disk (fsync of both), so that they
// survive a power cut: before removing what could make the file again (a video's parts, an
// AdaRound checkpoint). Throws quicksr::Error naming `path` when the system cannot.
void sync_to_disk(const std::filesystem::path& path);

// A new, empty, private folder in `parent` (by default the system's temporary folder), named like
// write_atomically's temporary files and removed with its content when this object goes: scratch
// space for data that only passes through a file (standard input and output). One that a killed
// process left behind is removed by the next quicksr that makes a scratch folder or writes there.
class ScratchFolder {
 public:
  ScratchFolder();
  explicit ScratchFolder(const std::filesystem::path& parent);
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  ~ScratchFolder();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// write_atomically for a file holding `bytes` (text or binary).
void write_bytes_atomically(const std::filesystem::path& path, const std::string& bytes,
                            ExistingFile existing);

}  // namespace quicksr
