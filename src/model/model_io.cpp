#include "quicksr/model_io.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <new>
#include <set>
#include <type_traits>

#include "common/atomic_file.hpp"
#include "common/input_file.hpp"
#include "model/graph_check.hpp"
#include "model/graph_json.hpp"
#include "model/layout.hpp"
#include "model/safetensors.hpp"
#include "quicksr/error.hpp"

namespace quicksr {

namespace {

constexpr const char* kProvenancePrefix = "provenance.";

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw Error(file + ": " + problem);
}

std::string prelu_tensor(std::size_t index) { return "prelu." + std::to_string(index) + ".slope"; }

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// A NaN or infinite weight makes every output pixel it reaches NaN: refused on load and on save.
void check_finite(const std::string& name, const std::vector<float>& values) {
  const auto bad =
      std::find_if(values.begin(), values.end(), [](float value) { return !std::isfinite(value); });
  if (bad != values.end()) {
    throw Error("tensor \"" + name + "\" holds " + std::to_string(*bad) + " at index " +
                std::to_string(bad - values.begin()) + " (weights must be finite)");
  }
}

// Moves the tensor `name` out of `file` into `values` after checking its dtype, shape and (for
// floats) values.
template <typename T>
void take_tensor(SafetensorsFile& file, const std::string& name,
                 const std::vector<std::int64_t>& shape, std::vector<T>& values,
                 const std::string& path) {
  const auto found = file.tensors.find(name);
  if (found == file.tensors.end()) fail(path, "missing tensor \"" + name + "\"");
  auto* typed = std::get_if<std::vector<T>>(&found->second.values);
  if (typed == nullptr) {
    fail(path, "tensor \"" + name + "\" has dtype " + dtype_name(found->second.values) +
                   ", expected " + dtype_name(TensorValues(std::vector<T>())));
  }
  if (found->second.shape != shape) {
    fail(path, "tensor \"" + name + "\" has shape " + shape_text(found->second.shape) +
                   ", expected " + shape_text(shape));
  }
  if constexpr (std::is_floating_point_v<T>) {
    try {
      check_finite(name, *typed);
    } catch (const Error& error) {
      fail(path, error.what());
    }
  }
  values = std::move(*typed);
  file.tensors.erase(found);
}

void take_conv(SafetensorsFile& file, const std::string& prefix, Conv2d& conv, bool has_bias,
               const std::string& path) {
  take_tensor(file, prefix + ".weight", weight_shape(conv), conv.weight, path);
  if (has_bias) take_tensor(file, prefix + ".bias", {conv.out_channels}, conv.bias, path);
}

void add_conv(SafetensorsFile& file, const std::string& prefix, const Conv2d& conv) {
  check_finite(prefix + ".weight", conv.weight);
  check_finite(prefix + ".bias", conv.bias);
  file.add(prefix + ".weight", weight_shape(conv), conv.weight);
  if (!conv.bias.empty()) file.add(prefix + ".bias", {conv.out_channels}, conv.bias);
}

// ---- metadata values

const std::string& require(const std::map<std::string, std::string>& metadata,
                           const std::string& key, const std::string& path) {
  const auto found = metadata.find(key);
  if (found == metadata.end()) fail(path, "missing metadata \"" + key + "\"");
  return found->second;
}

int parse_int(const std::string& text, const std::string& key, int lo, int hi,
              const std::string& path) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < lo ||
      value > hi) {
    fail(path, "metadata \"" + key + "\" is \"" + text + "\", expected an integer in " +
                   std::to_string(lo) + ".." + std::to_string(hi));
  }
  return value;
}

bool parse_bool(const std::string& text, const std::string& key, const std::string& path) {
  if (text == "true") return true;
  if (text == "false") return false;
  fail(path, "metadata \"" + key + "\" is \"" + text + "\", expected true or false");
}

ChannelOrder parse_order(const std::string& text, const std::string& path) {
  if (text == "crd") return ChannelOrder::kCRD;
  if (text == "dcr") return ChannelOrder::kDCR;
  fail(path, "metadata \"depth_to_space\" is \"" + text + "\", expected crd or dcr");
}

Scale parse_scale(const std::string& text, const std::string& path) {
  try {
    return Scale::parse(text);
  } catch (const Error& error) {
    fail(path, std::string("metadata \"scale\": ") + error.what());
  }
}

void check_metadata_keys(const std::map<std::string, std::string>& metadata,
                         const std::set<std::string>& allowed, const std::string& path) {
  for (const auto& [key, value] : metadata) {
    if (!allowed.contains(key) && !key.starts_with(kProvenancePrefix)) {
      fail(path, "unexpected metadata \"" + key + "\"");
    }
  }
}

std::map<std::string, std::string> provenance_of(
    const std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> provenance;
  const std::string prefix = kProvenancePrefix;
  for (const auto& [key, value] : metadata) {
    if (key.starts_with(prefix)) provenance[key.substr(prefix.size())] = value;
  }
  return provenance;
}

// ---- architectures

const std::set<std::string> kQuickSRNetKeys = {"format",         "architecture", "features",
                                               "blocks",         "scale",        "anchor",
                                               "depth_to_space", "activation"};

// Files written before the activation was stored have no "activation": they are ReLU1.
Activation parse_activation_metadata(const std::map<std::string, std::string>& metadata,
                                     const std::string& path) {
  const auto found = metadata.find("activation");
  if (found == metadata.end()) return Activation::kReLU1;
  try {
    return parse_activation(found->second);
  } catch (const Error& error) {
    fail(path, std::string("metadata \"activation\": ") + error.what());
  }
}

QuickSRNetConfig quicksrnet_config_from(const std::map<std::string, std::string>& metadata,
                                        const std::string& path) {
  QuickSRNetConfig config;
  config.features =
      parse_int(require(metadata, "features", path), "features", kMinFeatures, kMaxFeatures, path);
  config.blocks = parse_int(require(metadata, "blocks", path), "blocks", 0, kMaxBlocks, path);
  config.scale = parse_scale(require(metadata, "scale", path), path);
  config.anchor = parse_bool(require(metadata, "anchor", path), "anchor", path);
  config.order = parse_order(require(metadata, "depth_to_space", path), path);
  config.activation = parse_activation_metadata(metadata, path);
  try {
    check_quicksrnet_config(config);
  } catch (const Error& error) {
    fail(path, error.what());
  }
  return config;
}

std::map<std::string, std::string> quicksrnet_metadata(const QuickSRNetConfig& config,
                                                       const std::string& architecture) {
  return {{"architecture", architecture},
          {"features", std::to_string(config.features)},
          {"blocks", std::to_string(config.blocks)},
          {"scale", config.scale.to_string()},
          {"anchor", config.anchor ? "true" : "false"},
          {"depth_to_space", config.order == ChannelOrder::kCRD ? "crd" : "dcr"},
          {"activation", activation_name(config.activation)}};
}

QuickSRNet quicksrnet_from(SafetensorsFile& file, const std::string& path) {
  check_metadata_keys(file.metadata, kQuickSRNetKeys, path);
  // Shapes only: nothing is allocated until each tensor is known to be in the file.
  QuickSRNet net = quicksrnet_geometry(quicksrnet_config_from(file.metadata, path));
  for (const auto& [name, conv] : named_convs(net)) take_conv(file, name, *conv, true, path);
  return net;
}

// ---- INT8 QuickSRNet (docs/model-format.md): per conv "<name>.weight" I8 OIHW,
// "<name>.weight_scale" F32 [out] or [1], "<name>.bias" I32 [out]; "activation.scale" F32 and
// "activation.zero_point" I32 [m + 3]: input, features 0..m, output.

constexpr const char* kQuantization = "w8a8";

std::vector<std::int64_t> weight_shape(const QConv2d& conv) {
  return weight_shape(with_geometry_of<Conv2d>(conv));
}

// "quantization" must be w8a8; returns whether "weights" says per-channel.
bool per_channel_metadata(const SafetensorsFile& file, const std::string& path) {
  const std::string& quantization = require(file.metadata, "quantization", path);
  if (quantization != kQuantization) {
    fail(path, "metadata \"quantization\" is \"" + quantization + "\", expected w8a8");
  }
  const std::string& weights = require(file.metadata, "weights", path);
  if (weights != "per-channel" && weights != "per-tensor") {
    fail(path, "metadata \"weights\" is \"" + weights + "\", expected per-channel or per-tensor");
  }
  return weights == "per-channel";
}

void take_qconv(SafetensorsFile& file, const std::string& prefix, bool per_channel, QConv2d& conv,
                const std::string& path) {
  take_tensor(file, prefix + ".weight", weight_shape(conv), conv.weight, path);
  take_tensor(file, prefix + ".weight_scale", {per_channel ? conv.out_channels : 1},
              conv.weight_scale, path);
  take_tensor(file, prefix + ".bias", {conv.out_channels}, conv.bias, path);
}

void add_qconv(SafetensorsFile& file, const std::string& prefix, const QConv2d& conv) {
  file.add(prefix + ".weight", weight_shape(conv), conv.weight);
  file.add(prefix + ".weight_scale", {static_cast<std::int64_t>(conv.weight_scale.size())},
           conv.weight_scale);
  file.add(prefix + ".bias", {conv.out_channels}, conv.bias);
}

// "activation.scale" F32 and "activation.zero_point" I32, `count` of each.
std::vector<ActivationEncoding> take_encodings(SafetensorsFile& file, std::size_t count,
                                               const std::string& path) {
  std::vector<float> scales;
  std::vector<std::int32_t> zero_points;
  take_tensor(file, "activation.scale", {static_cast<std::int64_t>(count)}, scales, path);
  take_tensor(file, "activation.zero_point", {static_cast<std::int64_t>(count)}, zero_points, path);
  std::vector<ActivationEncoding> encodings;
  for (std::size_t i = 0; i < count; ++i) encodings.push_back({scales[i], zero_points[i]});
  return encodings;
}

void add_encodings(SafetensorsFile& file, const std::vector<ActivationEncoding>& encodings) {
  std::vector<float> scales;
  std::vector<std::int32_t> zero_points;
  for (const ActivationEncoding& encoding : encodings) {
    scales.push_back(encoding.scale);
    zero_points.push_back(encoding.zero_point);
  }
  const auto count = static_cast<std::int64_t>(scales.size());
  file.add("activation.scale", {count}, std::move(scales));
  file.add("activation.zero_point", {count}, std::move(zero_points));
}

template <typename Net>
void check_loaded(const Net& net, const std::string& path) {
  try {
    net.check();
  } catch (const Error& error) {
    fail(path, error.what());
  }
}

QuantizedQuickSRNet quantized_from(SafetensorsFile& file, const std::string& path) {
  std::set<std::string> keys = kQuickSRNetKeys;
  keys.insert({"quantization", "weights"});
  check_metadata_keys(file.metadata, keys, path);
  const bool per_channel = per_channel_metadata(file, path);
  QuantizedQuickSRNet net = quantized_geometry(quicksrnet_config_from(file.metadata, path));
  for (const auto& [name, conv] : named_convs(net)) {
    take_qconv(file, name, per_channel, *conv, path);
  }
  const std::vector<ActivationEncoding> encodings =
      take_encodings(file, net.features.size() + 2, path);
  net.input = encodings.front();
  net.features.assign(encodings.begin() + 1, encodings.end() - 1);
  net.output = encodings.back();
  check_loaded(net, path);
  return net;
}

SafetensorsFile quantized_to_file(const QuantizedQuickSRNet& net) {
  net.check();
  SafetensorsFile file;
  file.metadata = quicksrnet_metadata(net.config, "quicksrnet-int8");
  file.metadata["quantization"] = kQuantization;
  file.metadata["weights"] = net.per_channel() ? "per-channel" : "per-tensor";
  for (const auto& [name, conv] : named_convs(net)) add_qconv(file, name, *conv);
  std::vector<ActivationEncoding> encodings{net.input};
  encodings.insert(encodings.end(), net.features.begin(), net.features.end());
  encodings.push_back(net.output);
  add_encodings(file, encodings);
  return file;
}

// The graph's structure from the metadata, checked: the weight shapes are only meaningful for a
// valid geometry.
Graph graph_structure_from(SafetensorsFile& file, const std::string& path,
                           std::vector<bool>& has_bias) {
  Graph graph = graph_from_json(require(file.metadata, "graph", path), path, has_bias);
  graph.scale = parse_scale(require(file.metadata, "scale", path), path);
  try {
    check_graph(graph, GraphWeights::kNotLoadedYet);
  } catch (const Error& error) {
    fail(path, error.what());
  }
  return graph;
}

// Only scales the loader accepts, so that every saved file loads again (checked before the graph).
void check_savable_scale(const Graph& graph) { Scale::parse(graph.scale.to_string()); }

std::map<std::string, std::string> graph_metadata(const Graph& graph,
                                                  const std::string& architecture) {
  return {{"architecture", architecture},
          {"scale", graph.scale.to_string()},
          {"graph", graph_to_json(graph)}};
}

Graph graph_from(SafetensorsFile& file, const std::string& path) {
  check_metadata_keys(file.metadata, {"format", "architecture", "scale", "graph"}, path);
  std::vector<bool> has_bias;
  Graph graph = graph_structure_from(file, path, has_bias);
  for (std::size_t i = 0; i < graph.convs.size(); ++i) {
    take_conv(file, "conv." + std::to_string(i), graph.convs[i], has_bias[i], path);
  }
  for (std::size_t i = 0; i < graph.prelus.size(); ++i) {
    take_tensor(file, prelu_tensor(i), {graph.prelus[i].channels}, graph.prelus[i].slope, path);
  }
  return graph;
}

SafetensorsFile quicksrnet_to_file(const QuickSRNet& net) {
  net.check();
  SafetensorsFile file;
  file.metadata = quicksrnet_metadata(net.config, "quicksrnet");
  for (const auto& [name, conv] : named_convs(net)) add_conv(file, name, *conv);
  return file;
}

SafetensorsFile graph_to_file(const Graph& graph) {
  check_savable_scale(graph);
  check_graph(graph);
  SafetensorsFile file;
  file.metadata = graph_metadata(graph, "graph");
  for (std::size_t i = 0; i < graph.convs.size(); ++i) {
    add_conv(file, "conv." + std::to_string(i), graph.convs[i]);
  }
  for (std::size_t i = 0; i < graph.prelus.size(); ++i) {
    check_finite(prelu_tensor(i), graph.prelus[i].slope);
    file.add(prelu_tensor(i), {graph.prelus[i].channels}, graph.prelus[i].slope);
  }
  return file;
}

// ---- INT8 graph (docs/model-format.md): the graph's structure as for "graph" (every conv with a
// bias), per conv "conv.<i>.weight" I8, ".weight_scale" F32, ".bias" I32, and the encodings of
// int8_layout(graph).tensors.

QuantizedGraph quantized_graph_from(SafetensorsFile& file, const std::string& path) {
  check_metadata_keys(
      file.metadata, {"format", "architecture", "scale", "graph", "quantization", "weights"}, path);
  const bool per_channel = per_channel_metadata(file, path);
  QuantizedGraph net;
  std::vector<bool> has_bias;
  net.graph = graph_structure_from(file, path, has_bias);
  try {
    check_int8_ops(net.graph);
  } catch (const Error& error) {
    fail(path, error.what());
  }
  for (std::size_t i = 0; i < net.graph.convs.size(); ++i) {
    net.convs.push_back(with_geometry_of<QConv2d>(net.graph.convs[i]));
    take_qconv(file, "conv." + std::to_string(i), per_channel, net.convs.back(), path);
  }
  net.encodings = take_encodings(file, int8_layout(net.graph).tensors.size(), path);
  check_loaded(net, path);
  return net;
}

SafetensorsFile quantized_graph_to_file(const QuantizedGraph& net) {
  check_savable_scale(net.graph);
  net.check();
  SafetensorsFile file;
  file.metadata = graph_metadata(net.graph, "graph-int8");
  file.metadata["quantization"] = kQuantization;
  file.metadata["weights"] = net.per_channel() ? "per-channel" : "per-tensor";
  for (std::size_t i = 0; i < net.convs.size(); ++i) {
    add_qconv(file, "conv." + std::to_string(i), net.convs[i]);
  }
  add_encodings(file, net.encodings);
  return file;
}

}  // namespace

Model load_model_from_memory(const void* data, std::size_t size, const std::string& name) {
  SafetensorsFile file = parse_safetensors(static_cast<const unsigned char*>(data), size, name);
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != "quicksr") {
    fail(name, "not a quicksr model (metadata \"format\" is not \"quicksr\")");
  }
  const std::string& architecture = require(file.metadata, "architecture", name);
  Model model;
  if (architecture == "quicksrnet") {
    model.net = quicksrnet_from(file, name);
  } else if (architecture == "graph") {
    model.net = graph_from(file, name);
  } else if (architecture == "quicksrnet-int8") {
    model.net = quantized_from(file, name);
  } else if (architecture == "graph-int8") {
    model.net = quantized_graph_from(file, name);
  } else {
    fail(name, "unknown architecture \"" + architecture +
                   "\" (expected quicksrnet, quicksrnet-int8, graph or graph-int8)");
  }
  if (!file.tensors.empty())
    fail(name, "unexpected tensor \"" + file.tensors.begin()->first + "\"");
  model.provenance = provenance_of(file.metadata);
  return model;
}

Model load_model(const std::filesystem::path& path) {
  const std::string name = path.string();
  check_regular_file(path);
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) fail(name, "cannot read the model file: " + error.message());
  std::ifstream stream(path, std::ios::binary);
  if (!stream) fail(name, "cannot open the model file");
  try {
    // Another kind of file (a video given as the model) is refused before it is read whole.
    unsigned char start[8];
    if (size >= 8 && stream.read(reinterpret_cast<char*>(start), 8)) {
      safetensors_header_size(start, size, name);
    }
    stream.seekg(0);
    std::vector<unsigned char> bytes(size);
    stream.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (static_cast<std::uintmax_t>(stream.gcount()) != size) {
      fail(name, "cannot read the model file");
    }
    return load_model_from_memory(bytes.data(), bytes.size(), name);
  } catch (const std::bad_alloc&) {
    fail(name, "out of memory while loading the model");
  }
}

bool has_onnx_extension(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return extension == ".onnx";
}

void check_model_file_name(const std::filesystem::path& path) {
  if (has_onnx_extension(path)) {
    fail(path.string(),
         "a quicksr model file (safetensors) cannot be named .onnx: quicksr would read it as ONNX "
         "(quicksr export writes ONNX)");
  }
}

void save_model(const Model& model, const std::filesystem::path& path, ExistingFile existing) {
  check_model_file_name(path);
  SafetensorsFile file;
  try {
    file = std::visit(
        [](const auto& net) {
          using Net = std::decay_t<decltype(net)>;
          if constexpr (std::is_same_v<Net, QuickSRNet>) return quicksrnet_to_file(net);
          if constexpr (std::is_same_v<Net, Graph>) return graph_to_file(net);
          if constexpr (std::is_same_v<Net, QuantizedQuickSRNet>) return quantized_to_file(net);
          if constexpr (std::is_same_v<Net, QuantizedGraph>) return quantized_graph_to_file(net);
        },
        model.net);
  } catch (const Error& error) {
    fail(path.string(), std::string("cannot save: ") + error.what());
  }
  file.metadata["format"] = "quicksr";
  for (const auto& [key, value] : model.provenance) file.metadata[kProvenancePrefix + key] = value;
  std::string bytes;
  try {
    bytes = serialize_safetensors(file);
  } catch (const Error& error) {
    fail(path.string(), std::string("cannot save: ") + error.what());
  }
  write_bytes_atomically(path, bytes, existing);
}

}  // namespace quicksr
