#pragma once
// The --model, --method, --sharpness, --scale and --threads options shared by `upscale`, `video`
// and `eval`, and the image reading options of `upscale` and `eval`.
#include <optional>
#include <vector>

#include "cli/args.hpp"
#include "quicksr/upscaler.hpp"

namespace quicksr::cli {

// Help lines of --method and --sharpness, for commands that list their options themselves.
extern const char* const kMethodHelp;
extern const char* const kSharpnessHelp;

// The five options upscaler_from_args reads, followed by `more` (for a CommandSpec).
std::vector<OptionSpec> upscaler_options(std::vector<OptionSpec> more);

// --method model (default): --model FILE, or the built-in model without it; --scale, when given,
// must be the model's. --method bicubic | bicubic-matlab | bicubic-opencv | fsr1 (with
// --sharpness): at --scale, or at `classic_default_scale` without it (an error when that is
// nullopt). Throws quicksr::Error for contradictory or malformed options.
Upscaler upscaler_from_args(const ParsedArgs& args, std::optional<Scale> classic_default_scale);

// --threads N (0, the default: all cores).
int threads_from_args(const ParsedArgs& args);

// --max-pixels N (default: ReadOptions' own limit) and --lenient, for the commands that offer them.
ReadOptions read_options_from_args(const ParsedArgs& args);

}  // namespace quicksr::cli
