#pragma once
// Every `quicksr` sub-command: parses its own arguments and returns the process exit code.
#include <span>

namespace quicksr::cli {

using CommandArgs = std::span<char* const>;

int upscale_command(CommandArgs args);
int info_command(CommandArgs args);
int models_command(CommandArgs args);
int eval_command(CommandArgs args);
int bench_command(CommandArgs args);
int train_command(CommandArgs args);
int convert_command(CommandArgs args);
int init_command(CommandArgs args);
int export_command(CommandArgs args);
int video_command(CommandArgs args);
int quantize_command(CommandArgs args);
int average_command(CommandArgs args);

}  // namespace quicksr::cli
