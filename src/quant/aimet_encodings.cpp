// AIMET's JSON encodings (format version 0.6.1): {"version", "activation_encodings",
// "param_encodings", "excluded_layers", "quantizer_args"}; each tensor name maps to a list of
// {"bitwidth", "dtype", "is_symmetric", "min", "max", "offset", "scale"}, one per channel for
// per-channel weights. AIMET's offset is -zero_point (real = scale * (q + offset)); its symmetric
// 8-bit weights have offset -128 (quicksr's weights never use -128, so they fit).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/input_file.hpp"
#include "model/bounded_json.hpp"
#include "model/layout.hpp"
#include "quicksr/error.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::quant {

namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxEncodingsBytes = 16u << 20;

Json activation_json(const ActivationEncoding& encoding) {
  return Json::array({{{"bitwidth", 8},
                       {"dtype", "int"},
                       {"is_symmetric", "False"},
                       {"min", dequantize(0, encoding)},
                       {"max", dequantize(255, encoding)},
                       {"offset", -encoding.zero_point},
                       {"scale", encoding.scale}}});
}

Json weight_json(const QConv2d& conv) {
  Json entries = Json::array();
  for (const float scale : conv.weight_scale) {
    entries.push_back({{"bitwidth", 8},
                       {"dtype", "int"},
                       {"is_symmetric", "True"},
                       {"min", -128.0f * scale},
                       {"max", 127.0f * scale},
                       {"offset", -128},
                       {"scale", scale}});
  }
  return entries;
}

// Activation names: the ONNX export's tensors.
std::vector<std::string> activation_names(const QuickSRNetConfig& config) {
  // The tensor names of `quicksr export`: "<conv>.relu1" or "<conv>.relu".
  const std::string activation = "." + activation_name(config.activation);
  std::vector<std::string> names{"input", "first" + activation};
  for (int i = 0; i < config.blocks; ++i) names.push_back("body." + std::to_string(i) + activation);
  names.push_back("clip");
  return names;
}

[[noreturn]] void fail(const std::string& name, const std::string& problem) {
  throw Error(name + ": " + problem);
}

// ---- reading, every value checked

const Json& member(const Json& object, const std::string& key, const std::string& where,
                   const std::string& name) {
  if (!object.is_object() || !object.contains(key)) fail(name, where + " has no \"" + key + "\"");
  return object[key];
}

double number(const Json& object, const std::string& key, const std::string& where,
              const std::string& name) {
  const Json& value = member(object, key, where, name);
  if (!value.is_number()) fail(name, where + " \"" + key + "\" is not a number");
  const double x = value.get<double>();
  if (!std::isfinite(x)) fail(name, where + " \"" + key + "\" is not finite");
  return x;
}

bool symmetric(const Json& entry, const std::string& where, const std::string& name) {
  const Json& value = member(entry, "is_symmetric", where, name);
  if (value.is_boolean()) return value.get<bool>();
  if (value == "True") return true;
  if (value == "False") return false;
  fail(name, where + " \"is_symmetric\" is not True or False");
}

void check_int8(const Json& entry, const std::string& where, const std::string& name) {
  const Json& bitwidth = member(entry, "bitwidth", where, name);
  if (!bitwidth.is_number_integer() || bitwidth.get<int>() != 8) {
    fail(name, where + " has bitwidth " + bitwidth.dump() + "; quicksr models are 8-bit");
  }
  if (entry.contains("dtype") && entry["dtype"] != "int") {
    fail(name, where + " has dtype " + entry["dtype"].dump() + ", expected \"int\"");
  }
}

const Json& entries(const Json& group, const std::string& key, const std::string& group_name,
                    const std::string& name) {
  const Json& list = member(group, key, group_name, name);
  if (!list.is_array() || list.empty()) {
    fail(name, group_name + " \"" + key + "\" is not a non-empty list");
  }
  return list;
}

ActivationEncoding read_activation(const Json& group, const std::string& key,
                                   const std::string& name) {
  const std::string where = "activation encoding \"" + key + "\"";
  const Json& list = entries(group, key, "activation_encodings", name);
  if (list.size() != 1) fail(name, where + " has " + std::to_string(list.size()) + " entries");
  const Json& entry = list[0];
  check_int8(entry, where, name);
  if (symmetric(entry, where, name)) fail(name, where + " is symmetric; activations are u8");
  const double scale = number(entry, "scale", where, name);
  const double offset = number(entry, "offset", where, name);
  if (!(scale > 0.0) || scale > 1e30 || offset != std::nearbyint(offset) || offset > 0 ||
      offset < -255) {
    fail(name, where + " has scale " + std::to_string(scale) + " and offset " +
                   std::to_string(offset) + " (expected scale > 0, offset in -255..0)");
  }
  return ActivationEncoding{static_cast<float>(scale), static_cast<int>(-offset)};
}

std::vector<float> read_weight_scales(const Json& group, const std::string& key, int channels,
                                      const std::string& name) {
  const std::string where = "param encoding \"" + key + "\"";
  const Json& list = entries(group, key, "param_encodings", name);
  if (list.size() != 1 && list.size() != static_cast<std::size_t>(channels)) {
    fail(name, where + " has " + std::to_string(list.size()) + " entries, expected 1 or " +
                   std::to_string(channels));
  }
  std::vector<float> scales;
  for (const Json& entry : list) {
    check_int8(entry, where, name);
    if (!symmetric(entry, where, name)) fail(name, where + " is not symmetric");
    const double scale = number(entry, "scale", where, name);
    if (!(scale > 0.0) || scale > 1e30) {
      fail(name, where + " has scale " + std::to_string(scale) + ", expected > 0");
    }
    scales.push_back(static_cast<float>(scale));
  }
  return scales;
}

}  // namespace

std::string to_aimet_json(const QuantizedQuickSRNet& net) {
  net.check();
  Json activations = Json::object();
  const std::vector<std::string> names = activation_names(net.config);
  activations[names.front()] = activation_json(net.input);
  for (std::size_t i = 0; i < net.features.size(); ++i) {
    activations[names[i + 1]] = activation_json(net.features[i]);
  }
  activations[names.back()] = activation_json(net.output);
  Json params = Json::object();
  for (const auto& [conv_name, conv] : named_convs(net)) {
    params[conv_name + ".weight"] = weight_json(*conv);
  }
  const Json document = {{"version", "0.6.1"},
                         {"activation_encodings", activations},
                         {"param_encodings", params},
                         {"excluded_layers", Json::array()},
                         {"quantizer_args",
                          {{"activation_bitwidth", 8},
                           {"param_bitwidth", 8},
                           {"dtype", "int"},
                           {"per_channel_quantization", net.per_channel()},
                           {"is_symmetric", false},
                           {"quant_scheme", "post_training_tf_enhanced"}}}};
  return document.dump(2) + "\n";
}

QuantizedQuickSRNet from_aimet_json(const QuickSRNet& net, std::string_view text,
                                    const std::string& name) {
  net.check();
  if (text.size() > kMaxEncodingsBytes) fail(name, "encodings file larger than 16 MB");
  Json document;
  try {
    document = parse_bounded_json(text.begin(), text.end());
  } catch (const Error& error) {
    fail(name, error.what());
  }
  if (document.is_discarded() || !document.is_object()) fail(name, "not a JSON object");
  const Json& activations = member(document, "activation_encodings", "the file", name);
  const Json& params = member(document, "param_encodings", "the file", name);
  const std::vector<std::string> names = activation_names(net.config);
  QuantizedQuickSRNet q;
  q.config = net.config;
  q.input = read_activation(activations, names.front(), name);
  if (!(q.input == ActivationEncoding{})) {
    fail(name, "activation encoding \"input\" must be scale 1/255, offset 0 (the 8-bit image)");
  }
  for (std::size_t i = 1; i + 1 < names.size(); ++i) {
    q.features.push_back(read_activation(activations, names[i], name));
  }
  q.output = read_activation(activations, names.back(), name);
  const auto scales = [&](const std::string& conv_name, const Conv2d& conv) {
    return read_weight_scales(params, conv_name + ".weight", conv.out_channels, name);
  };
  q.first = quantize_conv(net.first, q.input.scale, scales("first", net.first));
  for (std::size_t i = 0; i < net.body.size(); ++i) {
    const std::string conv_name = "body." + std::to_string(i);
    q.body.push_back(
        quantize_conv(net.body[i], q.features[i].scale, scales(conv_name, net.body[i])));
  }
  q.last = quantize_conv(net.last, q.features.back().scale, scales("last", net.last));
  for (const Conv2d& anchor : net.anchor) {
    q.anchor.push_back(quantize_conv(anchor, q.input.scale, scales("anchor", anchor)));
  }
  try {
    q.check();
  } catch (const Error& error) {
    fail(name, error.what());
  }
  return q;
}

QuantizedQuickSRNet load_aimet_encodings(const QuickSRNet& net, const std::filesystem::path& path) {
  const std::string name = path.string();
  check_regular_file(path);
  std::error_code error;
  if (std::filesystem::file_size(path, error) > kMaxEncodingsBytes) {
    fail(name, "encodings file larger than 16 MB");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) fail(name, "cannot read the encodings");
  return from_aimet_json(net, text.str(), name);
}

}  // namespace quicksr::quant
