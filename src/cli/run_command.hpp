#pragma once
// How every quicksr executable runs a sub-command: one error line prefixed with the command, and
// the exit codes 1 (bad input, quicksr::Error) and 3 (internal error).
#include <string>

#include "cli/commands.hpp"

namespace quicksr::cli {

using CommandFunction = int (*)(CommandArgs);

int run_command(const std::string& name, CommandFunction command, CommandArgs args);

// Replaces this process with quicksr-<command> found beside the running executable (the helpers
// quicksr-train, quicksr-bench and quicksr-video, kept apart so that quicksr starts without
// LibTorch, oneDNN and FFmpeg).
// Returns an exit code only when that fails, after printing why, as `caller` (default: command).
int exec_helper(const std::string& command, CommandArgs args, const std::string& caller = "");

}  // namespace quicksr::cli
