#pragma once
// AMD FidelityFX Super Resolution 1.0 (FSR 1), written from AMD's published algorithm (MIT):
// EASU, an edge-adaptive 12-tap Lanczos-like upscaler, then RCAS, a contrast-adaptive sharpener
// limited so that it cannot push a pixel outside [0, 1]. Input: planar RGB in [0, 1] (the
// perceptual, gamma-encoded values of an image file, which is what FSR expects).
#include "quicksr/tensor.hpp"

namespace quicksr {

struct Fsr1Options {
  // RCAS strength in stops, as in FSR: 0 is the strongest sharpening, each stop halves it.
  // 0.25 is the default of AMD's FSR sample.
  double sharpness = 0.25;
  bool sharpen = true;  // false: EASU alone
  int threads = 0;      // 0: all cores
};

// The width or height fsr1_upscale makes from `length` pixels at `scale` (ceil, as bicubic).
int fsr1_output_length(int length, double scale);

// EASU to out_width x out_height, then RCAS unless options.sharpen is false.
Tensor fsr1_upscale(const Tensor& rgb, double scale, const Fsr1Options& options = {});

// The two passes on their own. EASU maps output pixel centres onto input pixel centres
// ((x + 0.5) * in / out - 0.5) and reads clamped to the border, as a GPU sampler does.
Tensor fsr1_easu(const Tensor& rgb, int out_width, int out_height, int threads = 0);
Tensor fsr1_rcas(const Tensor& rgb, double sharpness, int threads = 0);

}  // namespace quicksr
