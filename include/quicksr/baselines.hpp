#pragma once
// The paper's baselines (FSRCNN, ESPCN, XLSR, SESR, ABPN, ERFDN, EDSR-baseline) as general graphs,
// defined once here: the reference runtime, ONNX export and the model file all take them from
// these builders, and a trainer can run them node by node (docs/baselines.md has each definition,
// its MACs and the deviations from the original papers).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr {

struct BaselineOptions {
  Scale scale;             // 2, 3 or 4
  std::uint64_t seed = 0;  // weights: PyTorch's default init drawn from this seed
};

// fsrcnn, espcn, xlsr, sesr-m3, sesr-m5, sesr-m7, sesr-m11, sesr-xl (and each SESR with
// "-expanded"), abpn, abpn-noresidual, erfdn, edsr-baseline.
std::vector<std::string> baseline_names();

// The initialised graph of baseline `name`; throws quicksr::Error for an unknown name or a scale
// other than 2, 3 or 4.
//
// SESR: "sesr-m5" is the collapsed inference graph (each linear block one kxk conv with bias,
// its short residual folded into the centre tap). "sesr-m5-expanded" is the training-time form
// of the official files (AIMET model zoo): every linear block is a kxk conv expanding to 256
// channels without bias, a 1x1 conv squeezing back with bias, and (inside the body) an explicit
// residual add; collapse_linear_blocks() turns it into the collapsed graph exactly (up to fp32
// rounding), so a trainer trains the expanded graph and ships the collapsed one.
Graph build_baseline(std::string_view name, const BaselineOptions& options);

// How a conv of collapse_linear_blocks' result is made from the convs of its input: the convs of
// `chain` composed in order (the first one's geometry, the others 1x1), plus the identity (+1 on
// each channel's centre tap) when a residual add was folded in. A trainer computes the collapsed
// weights from the expanded ones by this recipe and runs only the collapsed convs.
struct CollapsedConv {
  std::vector<int> chain;
  bool plus_identity = false;
};

// Folds every "conv kxk without bias -> conv 1x1 (groups 1)" pair whose intermediate is read
// only by the 1x1 into one kxk conv, then every add(x, conv(x)) of a stride-1 conv with equal
// channels, odd square kernel and centred padding into that conv (+1 on the centre tap).
// `origins`, when given, receives the recipe of each conv of the result.
Graph collapse_linear_blocks(const Graph& graph, std::vector<CollapsedConv>* origins = nullptr);

// The graph a trainer trains for baseline `name`: SESR's "-expanded" training form, else `name`.
std::string training_form(std::string_view name);
// The graph a trainer starts baseline `name` from: build_baseline(training_form(name)), except
// that SESR's last linear block starts at zero (its 1x1 squeeze: weights and bias), so the
// untrained SESR outputs exactly its anchor (nearest upsampling). From the default init training
// killed every ReLU of the first block (half of them in 100 steps), and the net stayed at its
// anchor, below bicubic (docs/training.md, "SESR starts at its anchor").
Graph initial_training_graph(std::string_view name, const BaselineOptions& options);
// The graph inference runs: an "-expanded" graph collapsed (collapse_linear_blocks) and named
// without the suffix; any other graph unchanged (each conv its own origin).
Graph inference_form(Graph graph, std::vector<CollapsedConv>* origins = nullptr);
// Indices of the convs whose values the architecture fixes, which a trainer must not train:
// SESR's anchor (the s^2-fold repeat of the input, the long residual) and EDSR's two mean shifts
// (the data set's mean, subtracted and added back). Found by architecture and node name, so they
// are found again in a model file.
std::vector<int> fixed_convs(const Graph& graph);

}  // namespace quicksr
