#include "quicksr/onnx.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "common/atomic_file.hpp"
#include "onnx/onnx_reader.hpp"
#include "onnx/onnx_writer.hpp"
#include "onnx/quicksrnet_graph.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"

namespace quicksr {
namespace {

// "xlsr-2x-360p.onnx" -> "xlsr": the file name is the only hint of what a general graph is.
std::string architecture_from_file_name(const std::filesystem::path& path) {
  const std::string stem = path.stem().string();
  const std::string name = stem.substr(0, stem.find('-'));
  return name.empty() ? "onnx" : name;
}

}  // namespace

Model import_onnx(const std::filesystem::path& path) {
  const onnx::ModelProto proto = onnx_io::read_model_proto(path);
  Graph graph = onnx_io::graph_from_onnx(proto, path.string());
  Model model;
  if (std::optional<QuickSRNet> net = onnx_io::graph_to_quicksrnet(graph)) {
    model.net = std::move(*net);
  } else {
    graph.architecture = architecture_from_file_name(path);
    model.net = std::move(graph);
  }
  for (const auto& entry : proto.metadata_props()) model.provenance[entry.key()] = entry.value();
  model.provenance["source"] = path.filename().string();
  model.provenance["conversion"] = "converted from ONNX (producer " + proto.producer_name() + ")";
  return model;
}

Model load_model_or_onnx(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return extension == ".onnx" ? import_onnx(path) : load_model(path);
}

OnnxExportOptions opencv_export_options() { return {.opset = 10, .shuffles_as_convs = true}; }

void export_onnx(const Model& model, const std::filesystem::path& path,
                 const OnnxExportOptions& options) {
  const std::string file = path.string();
  Graph graph;
  if (const auto* net = std::get_if<QuickSRNet>(&model.net)) {
    net->check();
    graph =
        onnx_io::quicksrnet_to_graph(*net, options.dcr ? ChannelOrder::kDCR : ChannelOrder::kCRD);
  } else {
    if (options.dcr) throw Error(file + ": DCR export is only available for QuickSRNet models");
    graph = std::get<Graph>(model.net);
  }
  if (options.height < 0 || options.width < 0 || (options.height > 0) != (options.width > 0)) {
    throw Error(file + ": a fixed input size needs both a positive height and width");
  }
  if (options.batch < 0) throw Error(file + ": the batch size must not be negative");
  const onnx_io::OnnxGraphInfo info{
      model.name(),  model.provenance, options.height,           options.width,
      options.batch, options.opset,    options.shuffles_as_convs};
  const onnx::ModelProto proto = onnx_io::graph_to_onnx(graph, info, file);
  write_atomically(
      path,
      [&](const std::filesystem::path& temp) {
        std::ofstream out(temp, std::ios::binary);
        if (!out || !proto.SerializeToOstream(&out) || !out.flush()) {
          throw Error(file + ": cannot write the file");
        }
      },
      options.existing);
}

}  // namespace quicksr
