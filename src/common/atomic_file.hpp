#pragma once
// Writing outputs so that a crash or a kill never leaves a partial file behind.
#include <filesystem>
#include <functional>

namespace quicksr {

// Calls `write(temp)` with a temporary path in the same folder as `path`, then renames it onto
// `path`. If `write` throws, the temporary file is removed and the exception propagates.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path& temp)>& write);

}  // namespace quicksr
