#include "quicksr/upscaler.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <span>
#include <variant>

#include "image/codecs.hpp"
#include "model/graph_check.hpp"
#include "quicksr/engine.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"
#include "quicksr/reference.hpp"
#include "quicksr/resize.hpp"
#include "runtime/builtin_models.hpp"
#include "runtime/upscaler_backend.hpp"

namespace quicksr {

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
  // The cubic kernel reaches 2 input rows; 4 keeps a margin (and is even, as x1.5 needs). The
  // OpenCV flavour rounds sample positions to float as OpenCV does, so a band's positions (small
  // row numbers) round differently from the whole image's: it runs whole.
  int halo_rows() const override { return flavour_ == BicubicFlavour::matlab ? 4 : 0; }

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
  // EASU samples at the ratio of input to output size, which a band's ceil-rounded size changes
  // (x1.5 of an odd height): only the whole image gives the whole image's pixels.
  int halo_rows() const override { return 0; }

 private:
  Scale scale_;
  Fsr1Options options_;
};

// QuickSRNet models, fp32 and INT8, run on the fast engine (INT8: bit-identical to
// quant::forward, the integer reference), and so do the general graphs it supports.
class EngineBackend final : public Upscaler::Backend {
 public:
  EngineBackend(const Model& model, const UpscalerOptions& options)
      : name_(model.name()),
        scale_(model.scale()),
        engine_(make_engine(model, options)),
        halo_(halo_of(engine_, scale_)),
        pixel_of_output_(pixel_of_output(model)) {}
  Scale scale() const override { return scale_; }
  std::string name() const override { return name_; }
  int output_length(int length) const override { return engine_.output_width(length); }
  Tensor run(const Tensor& rgb) const override { return engine_.run(rgb); }
  int halo_rows() const override { return halo_; }
  void run_view(const RgbView<const float>& input, const RgbView<float>& output) const override {
    engine_.run(input, output);
  }
  bool run_u8_view(const RgbView<const std::uint8_t>& input,
                   const RgbView<std::uint8_t>& output) const override {
    engine_.run(input, output);
    if (!pixel_of_output_.empty()) {
      for (int y = 0; y < output.height; ++y) {
        for (int x = 0; x < output.width; ++x) {
          for (int c = 0; c < 3; ++c) output.at(y, x, c) = pixel_of_output_[output.at(y, x, c)];
        }
      }
    }
    return true;
  }

 private:
  // The rows a band needs around it: the network's reach (the engine's, derived from its plan)
  // and the bicubic alpha's (2 input rows), both computed from the same crop. Rounded up to a
  // multiple of the scale's denominator so that x1.5 bands (which start on even rows) are cut
  // from even rows too. An engine halo of 0 (ERFDN) means that no crop gives the whole image's
  // rows: the image runs whole.
  static int halo_of(const Engine& engine, Scale scale) {
    constexpr int kAlphaReach = 2;
    if (engine.halo_rows() == 0) return 0;
    const int reach = std::max(engine.halo_rows(), kAlphaReach);
    return (reach + scale.denominator - 1) / scale.denominator * scale.denominator;
  }
  static Engine make_engine(const Model& model, const UpscalerOptions& options) {
    EngineOptions engine_options;
    engine_options.threads = options.threads;
    if (model.is_quantized()) {
      return Engine::create(std::get<QuantizedQuickSRNet>(model.net), engine_options);
    }
    if (const Graph* graph = std::get_if<Graph>(&model.net)) {
      return Engine::create(*graph, engine_options);
    }
    if (const QuantizedGraph* net = std::get_if<QuantizedGraph>(&model.net)) {
      return Engine::create(*net, engine_options);
    }
    return Engine::create(std::get<QuickSRNet>(model.net), engine_options);
  }
  // An INT8 model's u8 output (in its output encoding) as the 8-bit pixel that its float output
  // rounds to; empty when that is the u8 itself (the usual encoding: scale 1/255, zero point 0).
  static std::vector<std::uint8_t> pixel_of_output(const Model& model) {
    const ActivationEncoding* encoding = nullptr;
    if (const auto* net = std::get_if<QuantizedQuickSRNet>(&model.net)) {
      encoding = &net->output;
    } else if (const auto* graph = std::get_if<QuantizedGraph>(&model.net)) {
      encoding = &quant::output_encoding(*graph);
    }
    if (encoding == nullptr) return {};
    std::vector<std::uint8_t> pixel(256);
    bool identity = true;
    for (int q = 0; q < 256; ++q) {
      pixel[q] = static_cast<std::uint8_t>(
          unit_to_sample(quant::dequantize(static_cast<std::uint8_t>(q), *encoding), 255));
      identity = identity && pixel[q] == q;
    }
    return identity ? std::vector<std::uint8_t>{} : pixel;
  }
  std::string name_;
  Scale scale_;
  Engine engine_;
  int halo_;
  std::vector<std::uint8_t> pixel_of_output_;
};

// General graphs the engine cannot run (graph_unsupported_reason, int8_graph_unsupported_reason)
// run on the reference runtime (INT8 graphs on the integer one).
class ReferenceBackend final : public Upscaler::Backend {
 public:
  ReferenceBackend(Model model, int threads) : model_(std::move(model)), threads_(threads) {}
  Scale scale() const override { return model_.scale(); }
  std::string name() const override { return model_.name(); }
  int output_length(int length) const override {
    const Scale scale = model_.scale();
    return static_cast<int>(static_cast<long long>(length) * scale.numerator / scale.denominator);
  }
  Tensor run(const Tensor& rgb) const override {
    const reference::ThreadLimit limit(threads_);
    return reference::forward(model_, rgb);
  }
  int halo_rows() const override { return 0; }  // the reference runtime runs whole images

 private:
  Model model_;
  int threads_;
};

// True for QuickSRNet models and the general graphs the engine supports; a broken graph throws,
// naming the model.
bool runs_on_engine(const Model& model) {
  if (const QuantizedGraph* net = std::get_if<QuantizedGraph>(&model.net)) {
    return !int8_graph_unsupported_reason(*net).has_value();  // else the integer reference
  }
  const Graph* graph = std::get_if<Graph>(&model.net);
  if (graph == nullptr) return true;
  try {
    check_graph(*graph);
  } catch (const Error& error) {
    throw Error(model.name() + ": " + error.what());
  }
  return !graph_unsupported_reason(*graph).has_value();
}

// A gray source stays gray: the three network outputs are averaged so that R = G = B.
void make_gray(Image& image) {
  for (std::size_t i = 0; i < image.rgb.size(); i += 3) {
    const float mean = (image.rgb[i] + image.rgb[i + 1] + image.rgb[i + 2]) / 3.0f;
    image.rgb[i] = image.rgb[i + 1] = image.rgb[i + 2] = mean;
  }
}

// Longer sides are refused: every backend's output size (x4 at most) then fits an int, and no real
// image comes near (a frame 16.7 million pixels wide).
constexpr int kMaxSide = 1 << 24;

void check_side(int length) {
  if (length < 1 || length > kMaxSide) {
    throw ArgumentError("upscale: a side of " + std::to_string(length) + " pixels is outside 1.." +
                        std::to_string(kMaxSide));
  }
}

// The buffers must hold what the size says: the backends read them as such.
void check_buffers(const Image& image) {
  check_side(image.width);
  check_side(image.height);
  const std::size_t pixels = static_cast<std::size_t>(image.width) * image.height;
  const std::string size = std::to_string(image.width) + "x" + std::to_string(image.height);
  if (image.rgb.size() != 3 * pixels) {
    throw ArgumentError("upscale: a " + size + " image needs " + std::to_string(3 * pixels) +
                        " colour samples, this one holds " + std::to_string(image.rgb.size()));
  }
  if (!image.alpha.empty() && image.alpha.size() != pixels) {
    throw ArgumentError("upscale: a " + size + " image needs " + std::to_string(pixels) +
                        " alpha samples or none, this one holds " +
                        std::to_string(image.alpha.size()));
  }
}

void check_buffers(const Tensor& rgb) {
  if (rgb.channels != 3) throw ArgumentError("upscale: expected 3 colour channels");
  check_side(rgb.width);
  check_side(rgb.height);
  const std::size_t values = static_cast<std::size_t>(rgb.width) * rgb.height * 3;
  if (rgb.data.size() != values) {
    throw ArgumentError("upscale: a 3x" + std::to_string(rgb.height) + "x" +
                        std::to_string(rgb.width) + " tensor needs " + std::to_string(values) +
                        " values, this one holds " + std::to_string(rgb.data.size()));
  }
}

// Bicubic and FSR 1 take any scale above 1 that names a ratio of positive integers.
Scale checked_scale(Scale scale) {
  if (scale.numerator < 1 || scale.denominator < 1 || scale.numerator <= scale.denominator ||
      scale.value() > 16) {
    throw ArgumentError("upscale: scale " + std::to_string(scale.numerator) + "/" +
                        std::to_string(scale.denominator) + " is not in (1, 16]");
  }
  return scale;
}

// Rows [begin, begin + count) of `image` (not a copy of `image`: that would hold the whole image
// once more per band).
Image crop_rows(const Image& image, int begin, int count) {
  Image rows;
  rows.width = image.width;
  rows.height = count;
  rows.bit_depth = image.bit_depth;
  rows.gray = image.gray;
  const std::size_t first = static_cast<std::size_t>(begin) * image.width;
  const std::size_t pixels = static_cast<std::size_t>(count) * image.width;
  rows.rgb.assign(image.rgb.begin() + first * 3, image.rgb.begin() + (first + pixels) * 3);
  if (image.has_alpha()) {
    rows.alpha.assign(image.alpha.begin() + first, image.alpha.begin() + first + pixels);
  }
  return rows;
}

}  // namespace

// Alpha is interpolated, never sent through the colour network; cropped to the colour size
// (MATLAB bicubic rounds sizes up; x1.5 networks round odd sizes down, OpenCV's bicubic to even).
std::vector<float> upscale_alpha(const Tensor& alpha, Scale scale, int out_w, int out_h) {
  const Tensor big = resize_bicubic(alpha, scale.value());
  if (big.width < out_w || big.height < out_h) {
    throw Error("the model made a " + std::to_string(out_w) + "x" + std::to_string(out_h) +
                " image from " + std::to_string(alpha.width) + "x" + std::to_string(alpha.height) +
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

Upscaler Upscaler::load(const std::filesystem::path& model_file, const UpscalerOptions& options) {
  return from_model(load_model(model_file), options);
}

Upscaler Upscaler::from_model(Model model, const UpscalerOptions& options) {
  check_thread_count(options.threads);
  if (runs_on_engine(model)) return Upscaler(std::make_shared<EngineBackend>(model, options));
  return Upscaler(std::make_shared<ReferenceBackend>(std::move(model), options.threads));
}

Upscaler Upscaler::bicubic(Scale scale, BicubicFlavour flavour) {
  return Upscaler(std::make_shared<BicubicBackend>(checked_scale(scale), flavour));
}

Upscaler Upscaler::fsr1(Scale scale, const Fsr1Options& options) {
  return Upscaler(std::make_shared<Fsr1Backend>(checked_scale(scale), options));
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

int Upscaler::output_length(int length) const {
  check_side(length);
  return backend_->output_length(length);
}

Tensor Upscaler::upscale(const Tensor& rgb) const {
  check_buffers(rgb);
  return backend_->run(rgb);
}

Image Upscaler::upscale(const Image& input) const {
  check_buffers(input);
  // Interleaved in, interleaved out: the engine reads and writes the images themselves.
  Image output;
  output.width = output_length(input.width);
  output.height = output_length(input.height);
  output.rgb.resize(static_cast<std::size_t>(output.width) * output.height * 3);
  backend_->run_view({input.rgb.data(), 3LL * input.width, 3, 1, input.width, input.height},
                     {output.rgb.data(), 3LL * output.width, 3, 1, output.width, output.height});
  output.bit_depth = input.bit_depth;
  output.gray = input.gray;
  output.icc_profile = input.icc_profile;
  output.exif = input.exif;
  if (input.gray) make_gray(output);
  if (input.has_alpha()) {
    Tensor alpha(1, input.height, input.width);
    alpha.data = input.alpha;
    output.alpha = upscale_alpha(alpha, scale(), output.width, output.height);
  }
  return output;
}

Image Upscaler::upscale_rows(const Image& input, int first_row, int rows) const {
  check_buffers(input);
  const Scale s = scale();
  const int out_height = output_length(input.height);
  if (first_row % s.numerator != 0 || rows < 1 || first_row < 0 || rows > out_height - first_row) {
    throw Error("upscale_rows: rows " + std::to_string(first_row) + ".." +
                std::to_string(static_cast<long long>(first_row) + rows) + " of " +
                std::to_string(out_height));
  }
  const int halo = backend_->halo_rows();
  if (halo == 0) return crop_rows(upscale(input), first_row, rows);
  // Input rows [begin, end) produce the band; the halo around them feeds the receptive field.
  const int begin = first_row / s.numerator * s.denominator;
  const int end =
      std::min(input.height, (first_row + rows + s.numerator - 1) / s.numerator * s.denominator);
  const int crop_begin = std::max(0, begin - halo);
  const int crop_end = std::min(input.height, end + halo);
  const Image band = upscale(crop_rows(input, crop_begin, crop_end - crop_begin));
  const int offset = (begin - crop_begin) / s.denominator * s.numerator;
  if (offset + rows > band.height) {
    throw Error("upscale_rows: band of " + std::to_string(band.height) + " rows is too short");
  }
  return crop_rows(band, offset, rows);
}

void Upscaler::upscale_to_file(const Image& input, const std::filesystem::path& path,
                               const WriteOptions& options) const {
  check_buffers(input);
  ImageLayout layout = layout_of(input);
  layout.width = output_length(input.width);
  layout.height = output_length(input.height);
  const Scale s = scale();
  // About half a megapixel of input per band: the halo costs a few percent, memory stays small.
  constexpr int kBandInputPixels = 1 << 19;
  const int input_rows = std::max(32, kBandInputPixels / std::max(1, input.width));
  const int band_rows = backend_->halo_rows() == 0
                            ? layout.height
                            : std::max(1, input_rows / s.denominator) * s.numerator;
  Image band;
  write_image_bands(
      layout, path,
      [&](int first_row) -> const Image& {
        const int rows = std::min(band_rows, layout.height - first_row);
        band = Image{};  // the previous band is written: free it before computing the next
        try {
          band = upscale_rows(input, first_row, rows);
        } catch (const Error& e) {
          throw Error(about_file(name(), e.what()));
        } catch (const std::bad_alloc&) {
          throw Error(path.string() + ": out of memory upscaling rows " +
                      std::to_string(first_row) + ".." + std::to_string(first_row + rows));
        }
        return band;
      },
      options);
}

}  // namespace quicksr
