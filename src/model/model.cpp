#include "quicksr/model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "model/layout.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

// ---------------------------------------------------------------------------------------------
// Scale

std::string Scale::to_string() const {
  if (denominator == 1) return std::to_string(numerator);
  if (numerator == 3 && denominator == 2) return "1.5";
  return std::to_string(numerator) + "/" + std::to_string(denominator);
}

Scale Scale::parse(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == 'x' || digits.front() == 'X')) digits.remove_prefix(1);
  if (digits == "1.5" || digits == "1_5") return Scale{3, 2};
  int value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value < 2 ||
      value > 4) {
    throw Error("invalid scale '" + std::string(text) + "' (expected 2, 3, 4 or 1.5)");
  }
  return Scale{value, 1};
}

// ---------------------------------------------------------------------------------------------
// Conv2d

Conv2d Conv2d::zeros(int in_channels, int out_channels, int kernel, int groups) {
  Conv2d conv = conv_geometry(in_channels, out_channels, kernel, groups);
  allocate_zero_weights(conv);
  return conv;
}

// ---------------------------------------------------------------------------------------------
// Activation

std::string activation_name(Activation activation) {
  return activation == Activation::kReLU ? "relu" : "relu1";
}

Activation parse_activation(std::string_view name) {
  if (name == "relu1") return Activation::kReLU1;
  if (name == "relu") return Activation::kReLU;
  throw Error("unknown activation '" + std::string(name) + "' (expected relu1 or relu)");
}

float activation_upper_bound(Activation activation) {
  return activation == Activation::kReLU ? std::numeric_limits<float>::infinity() : 1.0f;
}

// ---------------------------------------------------------------------------------------------
// QuickSRNetConfig

QuickSRNetConfig QuickSRNetConfig::small(Scale scale) {
  return {.features = 32, .blocks = 2, .scale = scale, .anchor = false};
}

QuickSRNetConfig QuickSRNetConfig::medium(Scale scale) {
  return {.features = 32, .blocks = 5, .scale = scale, .anchor = false};
}

QuickSRNetConfig QuickSRNetConfig::large(Scale scale) {
  return {.features = 64, .blocks = 11, .scale = scale, .anchor = true};
}

namespace {

// The decimal number at the front of `text` (removed from it), within [low, high]; nullopt when
// there is none or it is out of range.
std::optional<int> take_number(std::string_view& text, int low, int high) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || value < low || value > high) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

// "fF-mM" or "fF-mM-anchor" (the size part of QuickSRNetConfig::name()); nullopt otherwise.
std::optional<QuickSRNetConfig> parse_grid_spec(std::string_view spec, Scale scale) {
  if (!spec.starts_with('f')) return std::nullopt;
  spec.remove_prefix(1);
  const std::optional<int> features = take_number(spec, 1, 256);
  if (!features || !spec.starts_with("-m")) return std::nullopt;
  spec.remove_prefix(2);
  const std::optional<int> blocks = take_number(spec, 1, 64);
  if (!blocks || (!spec.empty() && spec != "-anchor")) return std::nullopt;
  return QuickSRNetConfig{
      .features = *features, .blocks = *blocks, .scale = scale, .anchor = !spec.empty()};
}

}  // namespace

QuickSRNetConfig QuickSRNetConfig::preset(std::string_view name, Scale scale) {
  if (name == "small") return small(scale);
  if (name == "medium") return medium(scale);
  if (name == "large") return large(scale);
  if (std::optional<QuickSRNetConfig> grid = parse_grid_spec(name, scale)) return *grid;
  throw Error("unknown QuickSRNet preset '" + std::string(name) +
              "' (expected small, medium, large or fF-mM[-anchor], e.g. f32-m3: F 1-256 "
              "features, M 1-64 body convs)");
}

std::string QuickSRNetConfig::name() const {
  std::string size;
  for (const char* preset_name : {"small", "medium", "large"}) {
    QuickSRNetConfig candidate = preset(preset_name, scale);
    candidate.order = order;
    candidate.activation = activation;
    if (candidate == *this) size = preset_name;
  }
  if (size.empty()) {
    size =
        "f" + std::to_string(features) + "-m" + std::to_string(blocks) + (anchor ? "-anchor" : "");
  }
  const std::string suffix = std::string(order == ChannelOrder::kDCR ? "-dcr" : "") +
                             (activation == Activation::kReLU ? "-relu" : "");
  return "quicksrnet-" + size + "-x" + scale.to_string() + suffix;
}

// ---------------------------------------------------------------------------------------------
// QuickSRNet

QuickSRNet QuickSRNet::zeros(const QuickSRNetConfig& config) {
  QuickSRNet net = quicksrnet_geometry(config);
  allocate_zero_weights(net.first);
  for (Conv2d& conv : net.body) allocate_zero_weights(conv);
  allocate_zero_weights(net.last);
  for (Conv2d& conv : net.anchor) allocate_zero_weights(conv);
  return net;
}

QuickSRNet QuickSRNet::initialized(const QuickSRNetConfig& config, std::uint64_t seed,
                                   Initialization init) {
  QuickSRNet net = zeros(config);
  std::mt19937_64 engine(seed);
  fill_uniform(net.first, engine);
  for (Conv2d& conv : net.body) fill_uniform(conv, engine);
  fill_uniform(net.last, engine);
  // The anchor is not drawn: as in AIMET's AnchorOp it starts as exactly the upsampling with a
  // zero bias.
  if (init == Initialization::kIdentity) {
    add_identity_init(net);
  } else if (!net.anchor.empty()) {
    add_anchor_upsampling(net);
  }
  return net;
}

namespace {

std::string describe(const Conv2d& conv) {
  return std::to_string(conv.in_channels) + "->" + std::to_string(conv.out_channels) + " " +
         std::to_string(conv.kernel_h) + "x" + std::to_string(conv.kernel_w) + " stride " +
         std::to_string(conv.stride) + " pad " + std::to_string(conv.pad_top) + "," +
         std::to_string(conv.pad_left) + "," + std::to_string(conv.pad_bottom) + "," +
         std::to_string(conv.pad_right) + " groups " + std::to_string(conv.groups);
}

void check_conv(const Conv2d& actual, const Conv2d& expected, const std::string& name) {
  const bool same_geometry =
      actual.in_channels == expected.in_channels && actual.out_channels == expected.out_channels &&
      actual.kernel_h == expected.kernel_h && actual.kernel_w == expected.kernel_w &&
      actual.stride == expected.stride && actual.pad_top == expected.pad_top &&
      actual.pad_left == expected.pad_left && actual.pad_bottom == expected.pad_bottom &&
      actual.pad_right == expected.pad_right && actual.groups == expected.groups;
  if (!same_geometry) {
    throw Error("QuickSRNet conv '" + name + "' is " + describe(actual) + ", expected " +
                describe(expected));
  }
  if (actual.weight.size() != weight_count(expected)) {
    throw Error("QuickSRNet conv '" + name + "' has " + std::to_string(actual.weight.size()) +
                " weights, expected " + std::to_string(weight_count(expected)));
  }
  if (actual.bias.size() != static_cast<std::size_t>(expected.out_channels)) {
    throw Error("QuickSRNet conv '" + name + "' has " + std::to_string(actual.bias.size()) +
                " biases, expected " + std::to_string(expected.out_channels));
  }
}

}  // namespace

void QuickSRNet::check() const {
  check_quicksrnet_config(config);
  const QuickSRNet expected = quicksrnet_geometry(config);
  if (body.size() != expected.body.size()) {
    throw Error("QuickSRNet has " + std::to_string(body.size()) + " body convs, expected " +
                std::to_string(expected.body.size()));
  }
  if (anchor.size() != expected.anchor.size()) {
    throw Error("QuickSRNet has " + std::to_string(anchor.size()) + " anchor convs, expected " +
                std::to_string(expected.anchor.size()));
  }
  const auto actual_convs = named_convs(*this);
  const auto expected_convs = named_convs(expected);
  for (std::size_t i = 0; i < actual_convs.size(); ++i) {
    check_conv(*actual_convs[i].second, *expected_convs[i].second, actual_convs[i].first);
  }
}

double QuickSRNet::macs_per_pixel() const {
  // Per conv: MACs per output pixel times output pixels per input pixel. The x1.5 tail runs on the
  // 2x2 space-to-depth grid (and its anchor at stride 2), i.e. on a quarter of the input pixels.
  const auto macs = [](const Conv2d& conv, double pixels_per_input_pixel) {
    return static_cast<double>(conv.out_channels) * (conv.in_channels / conv.groups) *
           conv.kernel_h * conv.kernel_w * pixels_per_input_pixel;
  };
  const double tail_pixels = config.scale.is_integer() ? 1.0 : 0.25;
  double total = macs(first, 1.0);
  for (const Conv2d& conv : body) total += macs(conv, 1.0);
  total += macs(last, tail_pixels);
  for (const Conv2d& conv : anchor) total += macs(conv, tail_pixels);
  return total;
}

// ---------------------------------------------------------------------------------------------
// Identity initialisation (paper Eq. 1-3)

namespace {

void add_centre_diagonal(Conv2d& conv) {
  const int centre_y = conv.kernel_h / 2;
  const int centre_x = conv.kernel_w / 2;
  for (int i = 0; i < std::min(conv.in_channels, conv.out_channels); ++i) {
    conv.w(i, i, centre_y, centre_x) += 1.0f;
  }
}

// Integer scale s: every output sub-pixel of colour c copies colour c at the centre tap
// (repeat-interleave, i.e. nearest-neighbour upscaling).
void add_integer_upsampling(Conv2d& conv, int s, ChannelOrder order) {
  const int centre_y = conv.kernel_h / 2;
  const int centre_x = conv.kernel_w / 2;
  for (int c = 0; c < 3; ++c) {
    for (int dy = 0; dy < s; ++dy) {
      for (int dx = 0; dx < s; ++dx) {
        conv.w(block_channel(c, dy, dx, s, 3, order), c, centre_y, centre_x) += 1.0f;
      }
    }
  }
}

// Output sub-pixel d of a 3-pixel block covers input coordinates [2d/3, 2(d+1)/3) of its 2-pixel
// block; its centre (2d+1)/3 rounded down picks the nearest input sub-pixel (ties, d = 1, go to
// sub-pixel 1, as PyTorch's "nearest-exact" does).
int nearest_source_subpixel_1_5(int output_subpixel) { return (2 * output_subpixel + 1) / 3; }

// x1.5 tail, 1x1 conv over the 2x2 space-to-depth of the body output: output sub-pixel (dy, dx) of
// the 3x3 block copies colour c of the nearest of the 2x2 input sub-pixels.
//
// This deviates from AIMET's reference code, which adds weight[o][o / 9] = 1: there the outputs
// read space-to-depth channels 0..2, which in CRD order are three sub-pixels of body channel 0
// (red), so green and blue would start as copies of red. quicksr instead starts from a true
// nearest-neighbour 1.5x upscaling, which is what paper Eq. 3 asks for at every other scale.
void add_one_and_a_half_upsampling_1x1(Conv2d& conv, ChannelOrder order) {
  for (int c = 0; c < 3; ++c) {
    for (int dy = 0; dy < 3; ++dy) {
      for (int dx = 0; dx < 3; ++dx) {
        const int sy = nearest_source_subpixel_1_5(dy);
        const int sx = nearest_source_subpixel_1_5(dx);
        const int in_channel = block_channel(c, sy, sx, 2, conv.in_channels / 4, order);
        conv.w(block_channel(c, dy, dx, 3, 3, order), in_channel, 0, 0) += 1.0f;
      }
    }
  }
}

// x1.5 anchor, 3x3 stride-2 conv with padding 1 on the input: output pixel (Y, X) sees input rows
// 2Y-1 .. 2Y+1, so input sub-pixel sy of the 2x2 block sits at kernel row 1 + sy. (AIMET sets only
// the centre tap, copying the block's top-left pixel to all 9 outputs; the nearest sub-pixel
// makes it the same nearest-neighbour 1.5x as the tail of the networks without anchor.)
void add_one_and_a_half_upsampling_strided(Conv2d& conv, ChannelOrder order) {
  for (int c = 0; c < 3; ++c) {
    for (int dy = 0; dy < 3; ++dy) {
      for (int dx = 0; dx < 3; ++dx) {
        const int ky = 1 + nearest_source_subpixel_1_5(dy);
        const int kx = 1 + nearest_source_subpixel_1_5(dx);
        conv.w(block_channel(c, dy, dx, 3, 3, order), c, ky, kx) += 1.0f;
      }
    }
  }
}

void add_upsampling(Conv2d& conv, const QuickSRNetConfig& config, bool is_anchor) {
  if (config.scale.is_integer()) {
    add_integer_upsampling(conv, config.scale.numerator, config.order);
  } else if (is_anchor) {
    add_one_and_a_half_upsampling_strided(conv, config.order);
  } else {
    add_one_and_a_half_upsampling_1x1(conv, config.order);
  }
}

}  // namespace

void add_identity_init(QuickSRNet& net) {
  net.check();
  add_centre_diagonal(net.first);
  for (Conv2d& conv : net.body) add_centre_diagonal(conv);
  // With an anchor the anchor alone carries the upsampled input (Large: last conv has no id-init).
  if (net.anchor.empty()) {
    add_upsampling(net.last, net.config, false);
  } else {
    add_anchor_upsampling(net);
  }
}

void add_anchor_upsampling(QuickSRNet& net) { add_upsampling(net.anchor.at(0), net.config, true); }

// ---------------------------------------------------------------------------------------------
// Model

Scale Model::scale() const {
  if (const auto* quicksrnet = std::get_if<QuickSRNet>(&net)) return quicksrnet->config.scale;
  if (const auto* quantized = std::get_if<QuantizedQuickSRNet>(&net)) {
    return quantized->config.scale;
  }
  if (const auto* quantized = std::get_if<QuantizedGraph>(&net)) return quantized->graph.scale;
  return std::get<Graph>(net).scale;
}

std::string Model::name() const {
  if (const auto* quicksrnet = std::get_if<QuickSRNet>(&net)) return quicksrnet->config.name();
  if (const auto* quantized = std::get_if<QuantizedQuickSRNet>(&net)) {
    return quantized->config.name() + "-int8";
  }
  if (const auto* quantized = std::get_if<QuantizedGraph>(&net)) {
    return quantized->graph.architecture + "-x" + quantized->graph.scale.to_string() + "-int8";
  }
  const Graph& graph = std::get<Graph>(net);
  return graph.architecture + "-x" + graph.scale.to_string();
}

}  // namespace quicksr
