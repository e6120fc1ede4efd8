#pragma once
// The --model, --method, --scale and --threads options shared by `upscale`, `video` and `eval`,
// and the image reading options of `upscale` and `eval`.
#include <optional>
#include <vector>

#include "cli/args.hpp"
#include "quicksr/upscaler.hpp"

namespace quicksr::cli {

// The four options upscaler_from_args reads, followed by `more` (for a CommandSpec).
std::vector<OptionSpec> upscaler_options(std::vector<OptionSpec> more);

// --method model (default): --model FILE, or the built-in model without it; --scale, when given,
// must be the model's. --method bicubic: at --scale, or at `bicubic_default_scale` without it
// (an error when that is nullopt). Throws quicksr::Error for contradictory or malformed options.
Upscaler upscaler_from_args(const ParsedArgs& args, std::optional<Scale> bicubic_default_scale);

// --max-pixels N (default: ReadOptions' own limit) and --lenient, for the commands that offer them.
ReadOptions read_options_from_args(const ParsedArgs& args);

}  // namespace quicksr::cli
