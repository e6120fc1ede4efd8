#pragma once
// Checks every command makes before it writes a user-named output file.
#include <filesystem>
#include <optional>
#include <span>

#include "cli/args.hpp"
#include "quicksr/output.hpp"

namespace quicksr::cli {

// Throws quicksr::Error when `output` is the input file itself, or exists and `overwrite` is false.
void check_output_path(const std::filesystem::path& input, const std::filesystem::path& output,
                       bool overwrite);

// kReplace with --overwrite, else kKeep: the rename at the end refuses to replace a file that
// appeared after the check above.
ExistingFile existing_file(const ParsedArgs& args);

// A command that reads the file IN and writes the file OUT (its two positionals).
struct FileCommand {
  ParsedArgs args;
  std::filesystem::path input;
  std::filesystem::path output;
};

// parse_command, then check_output_path(IN, OUT, --overwrite); nullopt after --help.
std::optional<FileCommand> parse_file_command(const CommandSpec& spec, std::span<char* const> args);

}  // namespace quicksr::cli
