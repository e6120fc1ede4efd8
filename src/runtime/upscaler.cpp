#include "quicksr/upscaler.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include "model/graph_check.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/reference.hpp"
#include "quicksr/resize.hpp"
#include "runtime/builtin_models.hpp"

namespace quicksr {

// One way to turn planar RGB into upscaled planar RGB; Upscaler adds the image plumbing around it.
struct Upscaler::Backend {
  virtual ~Backend() = default;
  virtual Scale scale() const = 0;
  virtual std::string name() const = 0;
  virtual int output_length(int length) const = 0;
  virtual Tensor run(const Tensor& rgb) const = 0;
};

namespace {

class BicubicBackend final : public Upscaler::Backend {
 public:
  BicubicBackend(Scale scale, BicubicFlavour flavour) : scale_(scale), flavour_(flavour) {}
  Scale scale() const override { return scale_; }
  std::string name() const override {
    return std::string(flavour_ == BicubicFlavour::matlab ? "bicubic-matlab" : "bicubic-opencv") +
           "-x" + scale_.to_string();
  }
  int output_length(int length) const override {
    return bicubic_output_length(length, scale_.value(), flavour_);
  }
  Tensor run(const Tensor& rgb) const override {
    return resize_bicubic(rgb, scale_.value(), flavour_);
  }

 private:
  Scale scale_;
  BicubicFlavour flavour_;
};

class Fsr1Backend final : public Upscaler::Backend {
 public:
  Fsr1Backend(Scale scale, const Fsr1Options& options) : scale_(scale), options_(options) {}
  Scale scale() const override { return scale_; }
  std::string name() const override { return "fsr1-x" + scale_.to_string(); }
  int output_length(int length) const override {
    return fsr1_output_length(length, scale_.value());
  }
  Tensor run(const Tensor& rgb) const override {
    return fsr1_upscale(rgb, scale_.value(), options_);
  }

 private:
  Scale scale_;
  Fsr1Options options_;
};

// QuickSRNet models, fp32 and INT8, run on the fast engine (INT8: bit-identical to
// quant::forward, the integer reference).
class EngineBackend final : public Upscaler::Backend {
 public:
  EngineBackend(const Model& model, const UpscalerOptions& options)
      : name_(model.name()), scale_(model.scale()), engine_(make_engine(model, options)) {}
  Scale scale() const override { return scale_; }
  std::string name() const override { return name_; }
  int output_length(int length) const override { return engine_.output_width(length); }
  Tensor run(const Tensor& rgb) const override { return engine_.run(rgb); }

 private:
  static Engine make_engine(const Model& model, const UpscalerOptions& options) {
    EngineOptions engine_options;
    engine_options.threads = options.threads;
    if (model.is_quantized()) {
      return Engine::create(std::get<QuantizedQuickSRNet>(model.net), engine_options);
    }
    return Engine::create(std::get<QuickSRNet>(model.net), engine_options);
  }
  std::string name_;
  Scale scale_;
  Engine engine_;
};

// General graphs (imported baselines) run on the reference runtime.
class ReferenceBackend final : public Upscaler::Backend {
 public:
  explicit ReferenceBackend(Model model) : model_(std::move(model)) {
    try {
      check_graph(std::get<Graph>(model_.net));
    } catch (const Error& error) {
      throw Error(model_.name() + ": " + error.what());
    }
  }
  Scale scale() const override { return model_.scale(); }
  std::string name() const override { return model_.name(); }
  int output_length(int length) const override {
    const Scale scale = model_.scale();
    return static_cast<int>(static_cast<long long>(length) * scale.numerator / scale.denominator);
  }
  Tensor run(const Tensor& rgb) const override { return reference::forward(model_, rgb); }

 private:
  Model model_;
};

// Alpha is interpolated, never sent through the colour network; cropped to the colour size
// (MATLAB bicubic rounds sizes up; x1.5 networks round odd sizes down, OpenCV's bicubic to even).
std::vector<float> upscale_alpha(const Image& input, Scale scale, int out_w, int out_h) {
  Tensor alpha(1, input.height, input.width);
  alpha.data = input.alpha;
  const Tensor big = resize_bicubic(alpha, scale.value());
  if (big.width < out_w || big.height < out_h) {
    throw Error("the model made a " + std::to_string(out_w) + "x" + std::to_string(out_h) +
                " image from " + std::to_string(input.width) + "x" + std::to_string(input.height) +
                ", more than x" + scale.to_string());
  }
  std::vector<float> out(static_cast<std::size_t>(out_w) * out_h);
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      out[static_cast<std::size_t>(y) * out_w + x] = std::clamp(big.at(0, y, x), 0.0f, 1.0f);
    }
  }
  return out;
}

// A gray source stays gray: the three network outputs are averaged so that R = G = B.
void make_gray(Image& image) {
  for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
    const float mean = (image.rgb[i] + image.rgb[i + 1] + image.rgb[i + 2]) / 3.0f;
    image.rgb[i] = image.rgb[i + 1] = image.rgb[i + 2] = mean;
  }
}

}  // namespace

Upscaler Upscaler::load(const std::filesystem::path& model_file, const UpscalerOptions& options) {
  return from_model(load_model(model_file), options);
}

Upscaler Upscaler::from_model(Model model, const UpscalerOptions& options) {
  if (model.is_quicksrnet() || model.is_quantized()) {
    return Upscaler(std::make_shared<EngineBackend>(model, options));
  }
  return Upscaler(std::make_shared<ReferenceBackend>(std::move(model)));
}

Upscaler Upscaler::bicubic(Scale scale, BicubicFlavour flavour) {
  return Upscaler(std::make_shared<BicubicBackend>(scale, flavour));
}

Upscaler Upscaler::fsr1(Scale scale, const Fsr1Options& options) {
  return Upscaler(std::make_shared<Fsr1Backend>(scale, options));
}

Upscaler Upscaler::builtin(Scale scale, const UpscalerOptions& options) {
  std::string scales;
  for (const EmbeddedFile& file : builtin_model_files()) {
    Model model = load_model_from_memory(file.bytes.data(), file.bytes.size(),
                                         std::string("built-in ") + file.name);
    if (model.scale() == scale) return from_model(std::move(model), options);
    scales += (scales.empty() ? "x" : ", x") + model.scale().to_string();
  }
  throw Error("no built-in model upscales by " + scale.to_string() + " (built in: " + scales + ")");
}

Scale Upscaler::scale() const { return backend_->scale(); }

std::string Upscaler::name() const { return backend_->name(); }

int Upscaler::output_length(int length) const { return backend_->output_length(length); }

Tensor Upscaler::upscale(const Tensor& rgb) const {
  if (rgb.channels != 3) throw Error("upscale: expected 3 colour channels");
  if (rgb.width < 1 || rgb.height < 1) throw Error("upscale: empty image");
  return backend_->run(rgb);
}

Image Upscaler::upscale(const Image& input) const {
  Image output = from_tensor(upscale(to_tensor(input)));
  output.bit_depth = input.bit_depth;
  output.gray = input.gray;
  output.icc_profile = input.icc_profile;
  output.exif = input.exif;
  if (input.gray) make_gray(output);
  if (input.has_alpha()) {
    output.alpha = upscale_alpha(input, scale(), output.width, output.height);
  }
  return output;
}

}  // namespace quicksr
