// The model checker of the INT8 QuickSRNet (docs/quantization.md): everything the integer runtime
// and the INT8 engine rely on, checked once when a model is built or loaded. The checks of one
// conv and one encoding (shared with INT8 graphs) are here too.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "model/layout.hpp"
#include "model/qconv_check.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model.hpp"

namespace quicksr {

void check_encoding(const ActivationEncoding& encoding, const std::string& model,
                    const std::string& name) {
  if (!std::isfinite(encoding.scale) || !(encoding.scale > 0.0f)) {
    throw Error(model + " encoding '" + name + "' has scale " + std::to_string(encoding.scale) +
                ", expected a positive finite number");
  }
  if (encoding.zero_point < 0 || encoding.zero_point > 255) {
    throw Error(model + " encoding '" + name + "' has zero point " +
                std::to_string(encoding.zero_point) + ", expected 0..255");
  }
}

namespace {

bool same_geometry(const QConv2d& actual, const Conv2d& expected) {
  return actual.in_channels == expected.in_channels &&
         actual.out_channels == expected.out_channels && actual.kernel_h == expected.kernel_h &&
         actual.kernel_w == expected.kernel_w && actual.stride == expected.stride &&
         actual.pad_top == expected.pad_top && actual.pad_left == expected.pad_left &&
         actual.pad_bottom == expected.pad_bottom && actual.pad_right == expected.pad_right &&
         actual.groups == expected.groups && actual.transposed == expected.transposed &&
         actual.output_padding == expected.output_padding;
}

}  // namespace

// Geometry, sizes, weight range and scales, and the accumulator bound of one conv that reads
// `input` and writes `output`.
void check_qconv(const QConv2d& conv, const Conv2d& expected, const std::string& where,
                 const ActivationEncoding& input, const ActivationEncoding& output) {
  if (!same_geometry(conv, expected)) throw Error(where + " does not match the architecture");
  if (conv.weight.size() != weight_count(expected)) {
    throw Error(where + " has " + std::to_string(conv.weight.size()) + " weights, expected " +
                std::to_string(weight_count(expected)));
  }
  const auto out = static_cast<std::size_t>(conv.out_channels);
  if (conv.bias.size() != out) {
    throw Error(where + " has " + std::to_string(conv.bias.size()) + " biases, expected " +
                std::to_string(out));
  }
  if (conv.weight_scale.size() != 1 && conv.weight_scale.size() != out) {
    throw Error(where + " has " + std::to_string(conv.weight_scale.size()) +
                " weight scales, expected 1 or " + std::to_string(out));
  }
  for (const std::int8_t w : conv.weight) {
    if (w < -127) throw Error(where + " has weight -128 (s8 weights are in [-127, 127])");
  }
  const std::int64_t worst_taps =
      static_cast<std::int64_t>(conv.in_channels) * conv.kernel_h * conv.kernel_w * 255 * 127;
  for (int o = 0; o < conv.out_channels; ++o) {
    const float scale = conv.scale_of(o);
    if (!std::isfinite(scale) || !(scale > 0.0f)) {
      throw Error(where + " has weight scale " + std::to_string(scale) + " for channel " +
                  std::to_string(o) + ", expected a positive finite number");
    }
    const double multiplier = static_cast<double>(input.scale) * scale / output.scale;
    if (!(multiplier < static_cast<double>(std::numeric_limits<float>::max()))) {
      throw Error(where + " channel " + std::to_string(o) +
                  " has a requantisation multiplier outside float32");
    }
    const std::int64_t bias = conv.bias[static_cast<std::size_t>(o)];
    if (std::abs(bias) + worst_taps > std::numeric_limits<std::int32_t>::max()) {
      throw Error(where + " channel " + std::to_string(o) + ": bias " + std::to_string(bias) +
                  " plus the worst-case sum of products does not fit in int32");
    }
  }
}

namespace {

constexpr const char* kModel = "INT8 QuickSRNet";

std::string conv_name(const std::string& name) {
  return std::string(kModel) + " conv '" + name + "'";
}

}  // namespace

void QuantizedQuickSRNet::check() const {
  check_quicksrnet_config(config);
  const QuickSRNet expected = quicksrnet_geometry(config);
  if (body.size() != expected.body.size() || anchor.size() != expected.anchor.size()) {
    throw Error("INT8 QuickSRNet has " + std::to_string(body.size()) + " body and " +
                std::to_string(anchor.size()) + " anchor convs, expected " +
                std::to_string(expected.body.size()) + " and " +
                std::to_string(expected.anchor.size()));
  }
  if (features.size() != body.size() + 1) {
    throw Error("INT8 QuickSRNet has " + std::to_string(features.size()) +
                " feature encodings, expected " + std::to_string(body.size() + 1));
  }
  check_encoding(input, kModel, "input");
  if (!(input == ActivationEncoding{})) {
    throw Error("INT8 QuickSRNet input encoding must be scale 1/255, zero point 0 (the image)");
  }
  for (std::size_t i = 0; i < features.size(); ++i) {
    check_encoding(features[i], kModel, "features." + std::to_string(i));
  }
  check_encoding(output, kModel, "output");
  check_qconv(first, expected.first, conv_name("first"), input, features.front());
  for (std::size_t i = 0; i < body.size(); ++i) {
    check_qconv(body[i], expected.body[i], conv_name("body." + std::to_string(i)), features[i],
                features[i + 1]);
  }
  check_qconv(last, expected.last, conv_name("last"), features.back(), output);
  for (const QConv2d& conv : anchor) {
    check_qconv(conv, expected.anchor.front(), conv_name("anchor"), input, output);
  }
  // One granularity for the whole model (the file's metadata states it).
  bool mixed = last.per_channel() != per_channel();
  for (const QConv2d& conv : body) mixed = mixed || conv.per_channel() != per_channel();
  for (const QConv2d& conv : anchor) mixed = mixed || conv.per_channel() != per_channel();
  if (mixed) throw Error("INT8 QuickSRNet mixes per-channel and per-tensor weight scales");
}

}  // namespace quicksr
