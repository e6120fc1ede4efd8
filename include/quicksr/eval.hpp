#pragma once
// The evaluation protocol. Default = the QuickSRNet authors' code: HR centre-cropped to a multiple
// of the scale (of 3 for x1.5), LR = MATLAB bicubic downscale of the float HR truncated to uint8,
// network output kept in float, PSNR/SSIM on BT.601 Y (16 + 65.481 R + 128.553 G + 24.966 B),
// peak 255, no border crop, mean of per-image scores.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "quicksr/image.hpp"
#include "quicksr/model.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

// How the LR is made from the HR: MATLAB bicubic (the protocol's), point sampling without
// antialiasing (aliased, as games render) or a box average (downscale_point / downscale_area).
enum class Degradation { bicubic, point, area };

// "bicubic", "point" or "area"; parse throws quicksr::Error naming the accepted values.
Degradation parse_degradation(const std::string& name);
std::string to_string(Degradation degradation);

struct EvalProtocol {
  Degradation degradation = Degradation::bicubic;
  int border = 0;            // pixels cropped from each side before scoring
  bool round_lr = false;     // round (BasicSR style) instead of truncating the LR to uint8
  bool rgb = false;          // score on RGB instead of Y
  bool quantize_sr = false;  // evaluate() rounds the output to 8 bits before scoring
};

// The common alternative used by BasicSR-style papers: border = ceil(scale), rounded LR, output
// rounded to 8 bits, Y channel.
EvalProtocol basicsr_protocol(Scale scale);

struct ImageScore {
  std::string name;
  double psnr = 0;
  double ssim = 0;
};

struct EvalResult {
  Scale scale;
  std::vector<ImageScore> images;  // sorted by name
  double mean_psnr = 0;
  double mean_ssim = 0;
};

using UpscaleFn = std::function<Tensor(const Tensor& lr_rgb)>;
// Receives each image's name (as in ImageScore) and the output as it was scored, in order; for
// callers that keep the outputs (`quicksr eval --save`).
using OutputFn = std::function<void(const std::string& name, const Tensor& sr)>;

// HR centre-cropped so that LR and SR sizes are exact for `scale`.
Tensor crop_to_multiple(const Tensor& hr, Scale scale);
// LR input for `hr` (already cropped) under `protocol`: downscaled by protocol.degradation,
// quantised to 8 bits.
Tensor make_lr(const Tensor& hr, Scale scale, const EvalProtocol& protocol = {});
// Scores of `sr` against `hr` (same size, RGB in [0,1]).
double psnr(const Tensor& sr, const Tensor& hr, const EvalProtocol& protocol = {});
double ssim(const Tensor& sr, const Tensor& hr, const EvalProtocol& protocol = {});

// The png/jpg/jpeg/bmp files of `dir`, sorted by name; throws quicksr::Error naming the folder
// when it is missing or holds no image.
std::vector<std::filesystem::path> image_files(const std::filesystem::path& dir);

// Every image in `hr_dir` (png/jpg/bmp); gray images are evaluated as RGB with equal channels.
// Images beyond read.max_pixels are refused before decoding.
EvalResult evaluate(const UpscaleFn& upscale, const std::filesystem::path& hr_dir, Scale scale,
                    const EvalProtocol& protocol = {}, const ReadOptions& read = {},
                    const OutputFn& on_output = {});

// A given LR image and its HR counterpart.
struct ImagePair {
  std::string name;  // the shared key
  std::filesystem::path lr;
  std::filesystem::path hr;
};

// Images of `lr_dir` and `hr_dir` matched by name, once the LR/HR markers are dropped: the stem's
// words (split at '_', '-', '.', ' ') "LR", "HR", "LR4", "x4", "270p"... ("0801x4" -> "0801",
// "LR_270p" -> ""). When both are one folder, LR images are those whose name has an LR word and
// HR images those with an HR word. Every LR image needs exactly one HR match (extra HR images are
// left out); throws quicksr::Error naming the LR file otherwise, or when nothing matches.
std::vector<ImagePair> match_image_pairs(const std::filesystem::path& lr_dir,
                                         const std::filesystem::path& hr_dir);

// Scores upscale(LR) against its HR for each pair (no LR is synthesised, nothing is cropped: the
// output must have the HR's size); protocol.round_lr has no effect.
EvalResult evaluate_pairs(const UpscaleFn& upscale, const std::vector<ImagePair>& pairs,
                          Scale scale, const EvalProtocol& protocol = {},
                          const ReadOptions& read = {}, const OutputFn& on_output = {});

}  // namespace quicksr
