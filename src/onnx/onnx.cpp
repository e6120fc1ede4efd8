#include "quicksr/onnx.hpp"

#include "onnx/onnx_reader.hpp"
#include "onnx/onnx_writer.hpp"
#include "onnx/qdq_graph.hpp"
#include "onnx/qdq_reader.hpp"
#include "onnx/quicksrnet_graph.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"

namespace quicksr {
namespace {

// What a general graph is: from the graph name quicksr's export writes (Model::name(),
// "sesr-m5-x2" or "sesr-m5-x2-int8"), else from the file name ("xlsr-2x-360p.onnx" -> "xlsr").
std::string architecture_of(const onnx::ModelProto& proto, const std::filesystem::path& path,
                            Scale scale) {
  std::string name = proto.graph().name();
  if (name.ends_with("-int8")) name.resize(name.size() - 5);
  const std::string suffix = "-x" + scale.to_string();
  if (name.size() > suffix.size() && name.ends_with(suffix)) {
    return name.substr(0, name.size() - suffix.size());
  }
  const std::string stem = path.stem().string();
  name = stem.substr(0, stem.find('-'));
  return name.empty() ? "onnx" : name;
}

// The writer's settings from the export options, which are checked here.
onnx_io::OnnxGraphInfo graph_info(const std::string& name,
                                  const std::map<std::string, std::string>& metadata,
                                  const OnnxExportOptions& options, const std::string& file) {
  if (options.height < 0 || options.width < 0 || (options.height > 0) != (options.width > 0)) {
    throw Error(file + ": a fixed input size needs both a positive height and width");
  }
  if (options.batch < 0) throw Error(file + ": the batch size must not be negative");
  return {name,          metadata,      options.height,           options.width,
          options.batch, options.opset, options.shuffles_as_convs};
}

// The graph to write and, for INT8 models, its QDQ annotations (the float graph with quantizer
// pairs and integer weights).
onnx_io::QdqGraph graph_to_write(const Model& model, const std::string& file, bool dcr) {
  const ChannelOrder order = dcr ? ChannelOrder::kDCR : ChannelOrder::kCRD;
  if (const auto* net = std::get_if<QuickSRNet>(&model.net)) {
    net->check();
    return {onnx_io::quicksrnet_to_graph(*net, order), {}};
  }
  if (const auto* net = std::get_if<QuantizedQuickSRNet>(&model.net)) {
    return onnx_io::quantized_quicksrnet_to_graph(*net, order);
  }
  if (dcr) throw Error(file + ": DCR export is only available for QuickSRNet models");
  if (const auto* net = std::get_if<QuantizedGraph>(&model.net)) {
    return onnx_io::quantized_graph_to_qdq(*net);
  }
  return {std::get<Graph>(model.net), {}};
}

}  // namespace

Model import_onnx(const std::filesystem::path& path) {
  const onnx::ModelProto proto = onnx_io::read_model_proto(path);
  Model model;
  if (onnx_io::has_qdq_nodes(proto)) {
    std::visit([&](auto&& net) { model.net = std::move(net); },
               onnx_io::int8_net_from_qdq(proto, path.string()));
    if (auto* net = std::get_if<QuantizedGraph>(&model.net)) {
      net->graph.architecture = architecture_of(proto, path, net->graph.scale);
    }
  } else if (Graph graph = onnx_io::graph_from_onnx(proto, path.string());
             std::optional<QuickSRNet> net = onnx_io::graph_to_quicksrnet(graph)) {
    model.net = std::move(*net);
  } else {
    graph.architecture = architecture_of(proto, path, graph.scale);
    model.net = std::move(graph);
  }
  for (const auto& entry : proto.metadata_props()) model.provenance[entry.key()] = entry.value();
  model.provenance["source"] = path.filename().string();
  model.provenance["conversion"] = "converted from ONNX (producer " + proto.producer_name() + ")";
  return model;
}

Model load_model_or_onnx(const std::filesystem::path& path) {
  return has_onnx_extension(path) ? import_onnx(path) : load_model(path);
}

OnnxExportOptions opencv_export_options() { return {.opset = 10, .shuffles_as_convs = true}; }

void export_onnx(const Model& model, const std::filesystem::path& path,
                 const OnnxExportOptions& options) {
  const std::string file = path.string();
  if (!has_onnx_extension(path)) {
    throw Error(file +
                ": an ONNX file must be named .onnx: quicksr reads any other name as a "
                "quicksr model file (safetensors)");
  }
  const onnx_io::QdqGraph graph = graph_to_write(model, file, options.dcr);
  const onnx_io::OnnxGraphInfo info = graph_info(model.name(), model.provenance, options, file);
  const bool int8 = model.is_quantized() || std::holds_alternative<QuantizedGraph>(model.net);
  onnx_io::save_model_proto(
      onnx_io::graph_to_onnx(graph.graph, info, file, int8 ? &graph.qdq : nullptr), path,
      options.existing);
}

void export_qdq_onnx(const QuantizedQuickSRNet& net,
                     const std::map<std::string, std::string>& metadata,
                     const std::filesystem::path& path, const OnnxExportOptions& options) {
  export_onnx(Model{net, metadata}, path, options);
}

}  // namespace quicksr
