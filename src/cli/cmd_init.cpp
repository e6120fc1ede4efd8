// quicksr init ARCH OUT: an initialised baseline (untrained) as a quicksr model file, so that
// info, export, eval and (next) train work on every baseline of the paper.
#include <cstdint>
#include <iostream>
#include <limits>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_path.hpp"
#include "quicksr/baselines.hpp"
#include "quicksr/model_io.hpp"

namespace quicksr::cli {
namespace {

std::string baseline_list() {
  std::string list;
  for (const std::string& name : baseline_names()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

// Built on first use: the baseline list lives in another translation unit's statics.
const CommandSpec& spec() {
  static const CommandSpec kSpec{
      .name = "init",
      .usage = "ARCH OUT [options]",
      .summary =
          "Write baseline ARCH as a quicksr graph model file with PyTorch's default init "
          "drawn from --seed (untrained; docs/baselines.md defines each one). ARCH: " +
          baseline_list() + ".",
      .options = {{"--scale", "S", "upscaling factor 2, 3 or 4 (default 2)"},
                  {"--seed", "N", "seed of the initial weights (default 0)"},
                  {"--overwrite", "", "replace OUT if it exists"}},
      .min_positional = 2,
      .max_positional = 2,
  };
  return kSpec;
}

}  // namespace

int init_command(CommandArgs raw) {
  const std::optional<ParsedArgs> parsed = parse_command(spec(), raw);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  const std::string& architecture = args.positional()[0];
  const std::filesystem::path output = args.positional()[1];
  check_output_path({}, output, args.has("--overwrite"));
  const int scale = args.get_int("--scale", 2, 2, 4);
  const int seed = args.get_int("--seed", 0, 0, std::numeric_limits<int>::max());
  Model model;
  model.net =
      build_baseline(architecture, {.scale = {scale, 1}, .seed = static_cast<std::uint64_t>(seed)});
  model.provenance = {{"source", "quicksr init " + architecture},
                      {"init", "pytorch-default"},
                      {"seed", std::to_string(seed)}};
  save_model(model, output, existing_file(args));
  std::cout << "initialised " << model.name() << " -> " << output.string() << "\n";
  return 0;
}

}  // namespace quicksr::cli
