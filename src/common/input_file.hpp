#pragma once
// Checks made on an input file before it is opened.
#include <filesystem>
#include <string>

namespace quicksr {

// Throws quicksr::Error naming `path` unless it is a regular file (links followed). Directories,
// FIFOs, devices and sockets are rejected by their type without being opened: opening a FIFO
// blocks until a writer appears, and reading a device may never end.
void check_regular_file(const std::filesystem::path& path);

// strerror(error) without strerror's shared buffer: for messages made on any thread (the C API's).
std::string error_text(int error);

// "ABSOLUTE_PATH, N bytes, modified T" (T in ns): what tells a file from its later versions when
// resumed work must be done on the same one. Throws quicksr::Error naming `path` if it cannot stat.
std::string file_identity(const std::filesystem::path& path);

}  // namespace quicksr
