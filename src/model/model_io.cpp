#include "quicksr/model_io.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>

#include "common/atomic_file.hpp"
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

std::vector<std::int64_t> weight_shape(const Conv2d& conv) {
  return {conv.out_channels, conv.in_channels / conv.groups, conv.kernel_h, conv.kernel_w};
}

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

// Moves the tensor `name` out of `file` into `values` after checking its shape and values.
void take_tensor(SafetensorsFile& file, const std::string& name,
                 const std::vector<std::int64_t>& shape, std::vector<float>& values,
                 const std::string& path) {
  const auto found = file.tensors.find(name);
  if (found == file.tensors.end()) fail(path, "missing tensor \"" + name + "\"");
  if (found->second.shape != shape) {
    fail(path, "tensor \"" + name + "\" has shape " + shape_text(found->second.shape) +
                   ", expected " + shape_text(shape));
  }
  try {
    check_finite(name, found->second.values);
  } catch (const Error& error) {
    fail(path, error.what());
  }
  values = std::move(found->second.values);
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

QuickSRNet quicksrnet_from(SafetensorsFile& file, const std::string& path) {
  const auto& metadata = file.metadata;
  check_metadata_keys(
      metadata,
      {"format", "architecture", "features", "blocks", "scale", "anchor", "depth_to_space"}, path);
  QuickSRNetConfig config;
  config.features =
      parse_int(require(metadata, "features", path), "features", kMinFeatures, kMaxFeatures, path);
  config.blocks = parse_int(require(metadata, "blocks", path), "blocks", 0, kMaxBlocks, path);
  config.scale = parse_scale(require(metadata, "scale", path), path);
  config.anchor = parse_bool(require(metadata, "anchor", path), "anchor", path);
  config.order = parse_order(require(metadata, "depth_to_space", path), path);
  try {
    check_quicksrnet_config(config);
  } catch (const Error& error) {
    fail(path, error.what());
  }
  // Shapes only: nothing is allocated until each tensor is known to be in the file.
  QuickSRNet net = quicksrnet_geometry(config);
  for (const auto& [name, conv] : named_convs(net)) take_conv(file, name, *conv, true, path);
  return net;
}

Graph graph_from(SafetensorsFile& file, const std::string& path) {
  check_metadata_keys(file.metadata, {"format", "architecture", "scale", "graph"}, path);
  std::vector<bool> has_bias;
  Graph graph = graph_from_json(require(file.metadata, "graph", path), path, has_bias);
  graph.scale = parse_scale(require(file.metadata, "scale", path), path);
  for (std::size_t i = 0; i < graph.convs.size(); ++i) {
    take_conv(file, "conv." + std::to_string(i), graph.convs[i], has_bias[i], path);
  }
  return graph;
}

SafetensorsFile quicksrnet_to_file(const QuickSRNet& net) {
  net.check();
  SafetensorsFile file;
  file.metadata = {{"architecture", "quicksrnet"},
                   {"features", std::to_string(net.config.features)},
                   {"blocks", std::to_string(net.config.blocks)},
                   {"scale", net.config.scale.to_string()},
                   {"anchor", net.config.anchor ? "true" : "false"},
                   {"depth_to_space", net.config.order == ChannelOrder::kCRD ? "crd" : "dcr"}};
  for (const auto& [name, conv] : named_convs(net)) add_conv(file, name, *conv);
  return file;
}

SafetensorsFile graph_to_file(const Graph& graph) {
  check_graph(graph);
  // Only scales the loader accepts, so that every saved file loads again.
  Scale::parse(graph.scale.to_string());
  SafetensorsFile file;
  file.metadata = {{"architecture", "graph"},
                   {"scale", graph.scale.to_string()},
                   {"graph", graph_to_json(graph)}};
  for (std::size_t i = 0; i < graph.convs.size(); ++i) {
    const Conv2d& conv = graph.convs[i];
    if (conv.weight.size() != weight_count(conv) ||
        (!conv.bias.empty() && conv.bias.size() != static_cast<std::size_t>(conv.out_channels))) {
      throw Error("graph conv " + std::to_string(i) + " has weights that do not fit its geometry");
    }
    add_conv(file, "conv." + std::to_string(i), conv);
  }
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
  } else {
    fail(name, "unknown architecture \"" + architecture + "\" (expected quicksrnet or graph)");
  }
  if (!file.tensors.empty())
    fail(name, "unexpected tensor \"" + file.tensors.begin()->first + "\"");
  model.provenance = provenance_of(file.metadata);
  return model;
}

Model load_model(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) fail(name, "no such file");
  if (!std::filesystem::is_regular_file(path, error)) fail(name, "not a regular file");
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) fail(name, "cannot read the model file: " + error.message());
  std::ifstream stream(path, std::ios::binary);
  if (!stream) fail(name, "cannot open the model file");
  std::vector<unsigned char> bytes(size);
  stream.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(stream.gcount()) != size) {
    fail(name, "cannot read the model file");
  }
  return load_model_from_memory(bytes.data(), bytes.size(), name);
}

void save_model(const Model& model, const std::filesystem::path& path, ExistingFile existing) {
  SafetensorsFile file;
  try {
    file = model.is_quicksrnet() ? quicksrnet_to_file(std::get<QuickSRNet>(model.net))
                                 : graph_to_file(std::get<Graph>(model.net));
  } catch (const Error& error) {
    fail(path.string(), std::string("cannot save: ") + error.what());
  }
  file.metadata["format"] = "quicksr";
  for (const auto& [key, value] : model.provenance) file.metadata[kProvenancePrefix + key] = value;
  write_bytes_atomically(path, serialize_safetensors(file), existing);
}

}  // namespace quicksr
