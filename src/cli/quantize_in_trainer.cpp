// `quicksr quantize --adaround` inside quicksr-train: the quantize command with LibTorch's
// AdaRound (quicksr itself has no LibTorch and execs this).
#include "cli/quantize.hpp"
#include "train/adaround.hpp"

namespace quicksr::cli {

int quantize_in_trainer(CommandArgs args) { return quantize(args, train::adaround); }

}  // namespace quicksr::cli
