#pragma once
// The library entry point: one load that returns a ready upscaler.
//
//   auto upscaler = quicksr::Upscaler::load("quicksrnet-small-x2.safetensors");
//   quicksr::Image hr = upscaler.upscale(quicksr::read_image("in.png"));
#include <filesystem>
#include <memory>
#include <string>

#include "quicksr/fsr1.hpp"
#include "quicksr/image.hpp"
#include "quicksr/model.hpp"
#include "quicksr/resize.hpp"
#include "quicksr/tensor.hpp"

namespace quicksr {

struct UpscalerOptions {
  int threads = 0;  // 0: all cores, else 1..kMaxThreads (engine.hpp)
};

class Upscaler {
 public:
  static Upscaler load(const std::filesystem::path& model_file,
                       const UpscalerOptions& options = {});
  static Upscaler from_model(Model model, const UpscalerOptions& options = {});
  // Bicubic interpolation (no network), MATLAB's (the default) or OpenCV's INTER_CUBIC. Bicubic
  // and FSR 1 take scales in (1, 16]; others throw quicksr::ArgumentError.
  static Upscaler bicubic(Scale scale, BicubicFlavour flavour = BicubicFlavour::matlab);
  // AMD FSR 1 (EASU + RCAS; no network).
  static Upscaler fsr1(Scale scale, const Fsr1Options& options = {});
  // The QuickSRNet-Small of `scale` built into quicksr (the models/ it ships; x2 is the
  // default). Throws quicksr::Error naming the built-in scales when none has `scale`.
  static Upscaler builtin(Scale scale = Scale{2, 1}, const UpscalerOptions& options = {});

  Scale scale() const;
  std::string name() const;
  // The width or height upscale() returns for an input `length` pixels long (1 to 2^24; other
  // lengths throw quicksr::ArgumentError, as do images with such sides).
  int output_length(int length) const;
  // Colour through the network, alpha by bicubic; gray, alpha and bit depth carried over. Throws
  // quicksr::ArgumentError when `rgb` (or a non-empty `alpha`) does not hold width x height pixels.
  Image upscale(const Image& input) const;
  // Planar 3xHxW RGB in [0,1] (ArgumentError unless `data` holds 3 x H x W values).
  Tensor upscale(const Tensor& rgb) const;
  // A frame buffer into another (output_length() of each side, the same format; bytes between
  // rows untouched; no overlap): the real-time call. The same pixels as upscale(Image), without
  // its copies: models on the engine run on 8-bit buffers in place, other cases (16-bit, bicubic,
  // FSR 1, graphs on the reference runtime) through float frames the upscaler keeps for the next
  // call. A constant alpha is copied, any other interpolated. Throws quicksr::ArgumentError (a
  // quicksr::Error) on sizes, strides or formats that do not fit and on overlapping buffers.
  void upscale(const PixelBuffer<const void>& input, const PixelBuffer<void>& output) const;
  // Rows [first_row, first_row + rows) of upscale(input), computed from the input rows they
  // depend on (plus a halo); first_row must be a multiple of the scale's numerator. The colour
  // equals upscale(input)'s for QuickSRNet models (bicubic and alpha: up to float rounding).
  Image upscale_rows(const Image& input, int first_row, int rows) const;
  // upscale(input) written to `path` in bands of rows (write_image_bands): memory is bounded by
  // the input and one band, not by the output (general graphs the engine cannot run, which fall
  // back to the reference runtime, run in one band).
  void upscale_to_file(const Image& input, const std::filesystem::path& path,
                       const WriteOptions& options = {}) const;

  struct Backend;

 private:
  explicit Upscaler(std::shared_ptr<const Backend> backend) : backend_(std::move(backend)) {}
  std::shared_ptr<const Backend> backend_;
};

}  // namespace quicksr
