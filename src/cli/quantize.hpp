#pragma once
// `quicksr quantize`, one code path for two executables: quicksr runs it without AdaRound and, for
// --adaround, execs quicksr-train (which has LibTorch) with the same arguments behind
// kQuantizeInTrainer; quicksr-train runs it again with its AdaRound.
#include <functional>
#include <vector>

#include "cli/commands.hpp"
#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"
#include "train/adaround.hpp"  // AdaRoundOptions only: the header is free of LibTorch

namespace quicksr::cli {

// quicksr-train's first argument that makes it run `quantize` (with AdaRound) instead of train.
inline constexpr char kQuantizeInTrainer[] = "quantize";

// train::adaround: re-chooses the s8 weights of `rounded` (round to nearest, calibrated) to
// reconstruct `net` on the LR `calibration` images.
using AdaRoundStep = std::function<QuantizedQuickSRNet(
    const QuickSRNet& net, const QuantizedQuickSRNet& rounded,
    const std::vector<Tensor>& calibration, const train::AdaRoundOptions& options,
    const train::AdaRoundCheckpoint& checkpoint)>;

// `adaround` empty: --adaround execs quicksr-train.
int quantize(CommandArgs args, const AdaRoundStep& adaround);

// quantize with train::adaround (in quicksr-train only).
int quantize_in_trainer(CommandArgs args);

}  // namespace quicksr::cli
