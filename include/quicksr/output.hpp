#pragma once
// What writing an output file does when its path already exists.

namespace quicksr {

enum class ExistingFile {
  // Replace it atomically. The new file keeps the old one's permission bits; a symbolic link is
  // followed (the file it points to is replaced, the link stays); other hard links to the old file
  // keep the old content (the path gets a new inode).
  kReplace,
  // Fail with quicksr::Error, also when the file appears while the output is being written.
  kKeep,
};

}  // namespace quicksr
