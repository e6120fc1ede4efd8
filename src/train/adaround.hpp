#pragma once
// AdaRound (Nagel et al., ICML 2020): for each conv, in network order, the rounding of every s8
// weight (down or up) is optimised to reconstruct the conv's fp32 output (after its ReLU1 or
// clip) instead of being rounded to nearest. LibTorch stays behind this header: `quicksr
// quantize --adaround` calls it in builds with training (QUICKSR_WITH_TRAINING).
#include <cstdint>
#include <functional>
#include <vector>

#include "quicksr/model.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr::train {

struct AdaRoundOptions {
  int iterations = 2000;  // Adam steps per layer
  int batch = 8;          // patches per step
  int patch = 48;         // LR patch side in pixels
  int patches = 128;      // patches cut from the calibration images
  // Adam on the rounding variables; 0: the paper's lr 1e-3 times its 10 000 steps per layer,
  // spread over `iterations` (1e-2 at 1000), so that V can cross the whole range of h.
  double lr = 0;
  double reg_weight = 0.01;  // weight of the regulariser that pushes each rounding to 0 or 1
  double beta_start = 20;    // regulariser sharpness, annealed linearly from start to end...
  double beta_end = 2;
  double warm_start = 0.2;  // ...after this fraction of the steps (reconstruction only before)
  std::uint64_t seed = 1;   // patch positions and batch order
  // Fit each conv's bias to the reconstruction target on its quantized input, before its rounding
  // is optimised (the unrounded weights), during it (the soft weights) and after (the chosen
  // rounding), so that the next conv is optimised on the corrected output. Off: the biases of
  // `rounded` are kept.
  bool fit_bias = false;
  // Start from the rounding of `rounded` (each h on the side `rounded` chose, start_margin from 0
  // or 1) instead of from the unrounded weights (h the fractional part): AdaRound then refines a
  // given rounding, e.g. the optimised rounding of quant::post_training_quantize.
  bool start_from_rounded = false;
  double start_margin = 0.1;
  // Resuming: the convs before this one, in network order (0 the first, then the body), are
  // taken from `rounded` as they are, optimised by an interrupted run (see AdaRoundCheckpoint).
  int resume_at = 0;
};

// Called after each conv of the chain but the last (convs_done of them optimised, in `net`): an
// interrupted run resumes from the latest `net` with resume_at = convs_done and gives the same
// result as an uninterrupted one (each conv's steps draw from a seed of their own).
using AdaRoundCheckpoint = std::function<void(int convs_done, const QuantizedQuickSRNet& net)>;

// `rounded` is quantize_weights(net, encodings, granularity) (round to nearest; with
// start_from_rounded any floor-or-ceil rounding on those scales, e.g. PTQ's optimised one); its
// scales and encodings are kept and only the s8 weights (and with fit_bias the s32 biases) change.
// Each conv sees, as input, the outputs of the convs before it as already rounded and
// activation-quantized, and is fitted to the fp32 network's output of that conv (the last conv and
// the Large anchor together, after the clip). `calibration` holds LR images (3 x H x W RGB in [0,
// 1]); patches are cut from those at least `patch` pixels on each side. Throws quicksr::Error for
// unusable input.
QuantizedQuickSRNet adaround(const QuickSRNet& net, const QuantizedQuickSRNet& rounded,
                             const std::vector<Tensor>& calibration,
                             const AdaRoundOptions& options = {},
                             const AdaRoundCheckpoint& checkpoint = {});

}  // namespace quicksr::train
