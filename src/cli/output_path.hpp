#pragma once
// Checks every command makes before it writes a user-named output file.
#include <filesystem>

namespace quicksr::cli {

// Throws quicksr::Error when `output` is the input file itself, or exists and `overwrite` is false.
void check_output_path(const std::filesystem::path& input, const std::filesystem::path& output,
                       bool overwrite);

}  // namespace quicksr::cli
