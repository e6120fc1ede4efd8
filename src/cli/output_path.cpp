#include "cli/output_path.hpp"

#include <utility>

#include "quicksr/error.hpp"

namespace quicksr::cli {

void check_output_path(const std::filesystem::path& input, const std::filesystem::path& output,
                       bool overwrite) {
  std::error_code ec;
  if (std::filesystem::equivalent(input, output, ec)) {
    throw Error(output.string() + ": refusing to overwrite the input file");
  }
  // symlink_status: a dangling symbolic link is an existing output too.
  if (std::filesystem::exists(std::filesystem::symlink_status(output, ec)) && !overwrite) {
    throw Error(output.string() + ": already exists (use --overwrite to replace it)");
  }
  const std::filesystem::path folder = output.parent_path();
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
    throw Error(output.string() + ": folder " + folder.string() + " does not exist");
  }
}

ExistingFile existing_file(const ParsedArgs& args) {
  return args.has("--overwrite") ? ExistingFile::kReplace : ExistingFile::kKeep;
}

std::optional<FileCommand> parse_file_command(const CommandSpec& spec,
                                              std::span<char* const> args) {
  std::optional<ParsedArgs> parsed = parse_command(spec, args);
  if (!parsed) return std::nullopt;
  const std::filesystem::path input = parsed->positional().at(0);
  const std::filesystem::path output = parsed->positional().at(1);
  FileCommand command{std::move(*parsed), input, output};
  check_output_path(command.input, command.output, command.args.has("--overwrite"));
  return command;
}

}  // namespace quicksr::cli
