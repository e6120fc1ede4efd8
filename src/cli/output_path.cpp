#include "cli/output_path.hpp"

#include <utility>

#include "common/atomic_file.hpp"
#include "quicksr/error.hpp"

namespace quicksr::cli {

void check_output_path(const std::filesystem::path& input, const std::filesystem::path& output,
                       bool overwrite) {
  check_output_file(input, output, overwrite ? ExistingFile::kReplace : ExistingFile::kKeep);
  std::error_code ec;
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
