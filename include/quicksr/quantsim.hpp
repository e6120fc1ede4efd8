#pragma once
// QuantSim and post-training quantisation (PTQ) of QuickSRNet: fake quantisation in float with the
// quantizer placement of the integer runtime (docs/quantization.md), calibration of activation
// encodings ("tf": min/max; "tf-enhanced": SQNR search on a histogram), cross-layer equalisation
// and empirical bias correction.
//
//   quant::PtqOptions options;  // per-channel, tf-enhanced
//   QuantizedQuickSRNet q = quant::post_training_quantize(net, calibration_lr_images, options);
#include <functional>
#include <string_view>
#include <vector>

#include "quicksr/quant.hpp"

namespace quicksr::quant {

enum class EncodingScheme { kTf, kTfEnhanced };
// "tf" / "tf-enhanced"; throws quicksr::Error otherwise.
EncodingScheme parse_scheme(std::string_view text);

// ---- QuantSim

// x -> dequantize(quantize(clamp(x, 0, upper))) per value: a ReLU1 or clip (upper 1) or a ReLU
// (upper +infinity: the quantizer's u8 range is then the only upper clamp) followed by a quantizer.
Tensor fake_quantize_clamped(Tensor x, const ActivationEncoding& encoding, float upper);

// The float forward of `net` with a quantizer after the input (rounding to 8 bits), after each
// conv + activation and on the final output (last conv + anchor, clipped): the integer runtime's
// placement. With `net` = dequantize_weights(q) and the encodings of q it computes what
// forward(q, ...) computes, up to float rounding.
Tensor simulate(const QuickSRNet& net, const ActivationEncodings& encodings, const Tensor& rgb);
Tensor simulate(const QuantizedQuickSRNet& net, const Tensor& rgb);

// ---- Calibration

// Statistics of every activation quantizer over calibration images: range and a histogram on
// [0, range] (every quantized activation is a ReLU1, ReLU or clip output, so never negative).
// Images are LR inputs.
class Calibrator {
 public:
  static constexpr int kBins = 2048;
  // `net`: the float net to observe (usually with quantized weights, as in AIMET).
  explicit Calibrator(QuickSRNet net);
  // Runs one image through `net` in float (no activation quantizers) and records the statistics.
  void add(const Tensor& rgb);
  int images() const { return images_; }
  ActivationEncodings encodings(EncodingScheme scheme) const;

  struct Statistics {
    float min = 0.0f;
    float max = 0.0f;
    // The histogram covers [0, range): 1 for ReLU1 and clip outputs; a ReLU output above it
    // doubles the range (merging bin pairs) until it fits, so the bins stay exact unions.
    float range = 1.0f;
    std::vector<double> histogram = std::vector<double>(kBins, 0.0);
    void add(const Tensor& values);
  };

 private:
  QuickSRNet net_;
  std::vector<Statistics> features_;
  Statistics output_;
  int images_ = 0;
};

// The encoding of one quantizer from its statistics. tf: [min, max]. tf-enhanced: the [0, max']
// (max' <= max) that minimises the expected quantisation noise: in-range values contribute the
// rounding noise scale^2 / 12, clipped values gamma * (x - max')^2 (gamma = 3, as AIMET).
ActivationEncoding encoding_of(const Calibrator::Statistics& statistics, EncodingScheme scheme);

// ---- Post-training quantisation

struct PtqOptions {
  WeightGranularity granularity = WeightGranularity::kPerChannel;
  EncodingScheme scheme = EncodingScheme::kTfEnhanced;
  bool cross_layer_equalization = false;
  bool bias_correction = false;
  // Floor or ceil per weight, layer by layer, minimising the output error on the calibration
  // images (bias correction included); docs/quantization.md "Optimised rounding".
  bool optimize_rounding = false;
};

// Cross-layer equalisation (Nagel et al. 2019) of each consecutive conv pair: output channel c of
// the first conv is divided by s_c and input channel c of the second multiplied by it, with
// s_c = sqrt(r1_c / r2_c) from the weight ranges. Exact for ReLU, NOT for ReLU1 (clamp at 1 is
// not scale-equivariant): the equalised net computes a different function (docs/quantization.md).
QuickSRNet equalize_cross_layer(const QuickSRNet& net);

// Called after each calibration image with (done, total).
using ProgressFn = std::function<void(int done, int total)>;

// Calibrates on `images` (LR RGB in [0, 1]) and quantizes: optional CLE, weights at the given
// granularity, activation encodings by `scheme` (observed on the net with quantized weights), then
// optional empirical bias correction (each conv's bias absorbs the mean difference between its
// float output and its output with quantized weights and inputs, in layer order).
// Empirical bias correction (as above) of an INT8 net whose s8 weights were chosen already (e.g.
// by AdaRound), against the fp32 `net`, then a new calibration of the encodings; the s8 weights
// are kept.
QuantizedQuickSRNet correct_biases(const QuickSRNet& net, const QuantizedQuickSRNet& quantized,
                                   const std::vector<Tensor>& images, EncodingScheme scheme);

QuantizedQuickSRNet post_training_quantize(const QuickSRNet& net, const std::vector<Tensor>& images,
                                           const PtqOptions& options,
                                           const ProgressFn& progress = {});

// ---- Searched activation encodings (docs/quantization.md "Searched activation encodings")

// A loss of a whole INT8 net to minimise, e.g. its output error against the fp32 net's on
// calibration images.
using Int8Loss = std::function<double(const QuantizedQuickSRNet&)>;

struct EncodingSearchOptions {
  double step = 0.005;  // candidate maxima: the current one times 1 + k * step, k = +-1..steps
  int steps = 4;
  int max_sweeps = 4;
};

// `real` (float weights and biases) quantized on the weight scales of `grid` with `encodings`
// (the input encoding stays grid's): biases re-rounded in the new input scales.
QuantizedQuickSRNet with_encodings(const QuickSRNet& real, const QuantizedQuickSRNet& grid,
                                   const ActivationEncodings& encodings);

// Called after each sweep (0: the start) with the loss reached.
using SearchProgressFn = std::function<void(int sweep, double loss)>;

// Coordinate descent on the activation encodings of `start`: for each feature quantizer in order,
// then the output, the upper end of its range moves to the candidate (EncodingSearchOptions) that
// lowers `loss` most, its lower end kept, capped at what the activation reaches (1 for ReLU1 and
// the clip); sweeps until none moves. The s8 weights and the real biases of `start` are kept (the
// biases re-rounded to the new input scales).
QuantizedQuickSRNet search_encodings(const QuantizedQuickSRNet& start, const Int8Loss& loss,
                                     const EncodingSearchOptions& options = {},
                                     const SearchProgressFn& progress = {});

// ---- INT8 general graphs (docs/quantization.md "General graphs")

// The graph the INT8 path runs: linear blocks collapsed (collapse_linear_blocks,
// inference_form), and every ReLU /
// Clip that is the only reader of a depth-to-space output moved before it (elementwise ops commute
// with the permutation), so that it fuses into the conv or add before. Throws quicksr::Error for
// ops the INT8 path does not run (naming the op and node).
Graph int8_form(const Graph& graph);

// The float forward of `graph` on the 8-bit image of `rgb` with a fake quantizer on every u8 tensor
// of its INT8 placement (int8_layout), `encodings` in that order. With the dequantized weights of
// an INT8 graph and its encodings it computes what forward(QuantizedGraph) computes, up to float
// rounding.
Tensor simulate(const Graph& graph, const std::vector<ActivationEncoding>& encodings,
                const Tensor& rgb);
Tensor simulate(const QuantizedGraph& net, const Tensor& rgb);

// Statistics of every u8 tensor of a graph's INT8 placement over calibration images (LR inputs).
class GraphCalibrator {
 public:
  // `graph`: an INT8 form (int8_form) to observe in float, usually with weights on their s8 grid.
  explicit GraphCalibrator(Graph graph);
  void add(const Tensor& rgb);
  // One per u8 tensor: the input's fixed encoding, the input's for shuffles, max pools and
  // bilinear resizes (keeps_input_encoding), the others by `scheme` (a tensor with negative values
  // always by min/max: tf-enhanced searches ranges that start at 0).
  std::vector<ActivationEncoding> encodings(EncodingScheme scheme) const;

 private:
  Graph graph_;
  Int8GraphLayout layout_;
  std::vector<Calibrator::Statistics> statistics_;
  int images_ = 0;
};

// int8_form(graph), weights rounded to nearest at options.granularity, encodings calibrated by
// options.scheme on `images`. CLE, bias correction and optimised rounding are QuickSRNet-only for
// now (throws quicksr::Error).
QuantizedGraph post_training_quantize(const Graph& graph, const std::vector<Tensor>& images,
                                      const PtqOptions& options, const ProgressFn& progress = {});

}  // namespace quicksr::quant
