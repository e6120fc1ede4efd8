#include "cli/output_path.hpp"

#include "quicksr/error.hpp"

namespace quicksr::cli {

void check_output_path(const std::filesystem::path& input, const std::filesystem::path& output,
                       bool overwrite) {
  std::error_code ec;
  if (std::filesystem::equivalent(input, output, ec)) {
    throw Error(output.string() + ": refusing to overwrite the input file");
  }
  if (std::filesystem::exists(output, ec) && !overwrite) {
    throw Error(output.string() + ": already exists (use --overwrite to replace it)");
  }
  const std::filesystem::path folder = output.parent_path();
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
    throw Error(output.string() + ": folder " + folder.string() + " does not exist");
  }
}

}  // namespace quicksr::cli
