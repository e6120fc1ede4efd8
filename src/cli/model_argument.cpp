#include "cli/model_argument.hpp"

#include <algorithm>

#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/onnx.hpp"
#include "runtime/builtin_models.hpp"

namespace quicksr::cli {

namespace {

template <typename Conv>
std::size_t parameter_count(const Conv& conv) {
  return conv.weight.size() + conv.bias.size();
}

// Weights and biases of every conv of a QuickSRNet or an INT8 QuickSRNet.
template <typename Net>
std::size_t quicksrnet_parameter_count(const Net& net) {
  std::size_t count = parameter_count(net.first) + parameter_count(net.last);
  for (const auto& conv : net.body) count += parameter_count(conv);
  for (const auto& conv : net.anchor) count += parameter_count(conv);
  return count;
}

}  // namespace

std::size_t parameter_count(const QuickSRNet& net) { return quicksrnet_parameter_count(net); }

std::size_t parameter_count(const QuantizedQuickSRNet& net) {
  return quicksrnet_parameter_count(net);
}

std::size_t parameter_count(const Graph& graph) {
  std::size_t count = 0;
  for (const Conv2d& conv : graph.convs) count += parameter_count(conv);
  for (const PRelu& prelu : graph.prelus) count += prelu.slope.size();
  return count;
}

std::size_t parameter_count(const QuantizedGraph& net) {
  std::size_t count = 0;
  for (const QConv2d& conv : net.convs) count += parameter_count(conv);
  return count;
}

std::size_t parameter_count(const Model& model) {
  return std::visit([](const auto& net) { return parameter_count(net); }, model.net);
}

std::vector<BuiltinModel> builtin_models() {
  std::vector<BuiltinModel> models;
  for (const EmbeddedFile& file : builtin_model_files()) {
    models.push_back({file.name, file.bytes.size(),
                      load_model_from_memory(file.bytes.data(), file.bytes.size(),
                                             std::string("built-in ") + file.name)});
  }
  std::sort(models.begin(), models.end(),
            [](const BuiltinModel& a, const BuiltinModel& b) { return a.file_name < b.file_name; });
  return models;
}

Model load_model_argument(const std::string& argument) {
  std::error_code error;
  if (std::filesystem::exists(argument, error)) return load_model_or_onnx(argument);
  for (BuiltinModel& builtin : builtin_models()) {
    if (argument == builtin.file_name || argument == builtin.model.name() ||
        argument == std::filesystem::path(builtin.file_name).stem().string()) {
      return std::move(builtin.model);
    }
  }
  throw Error(argument + ": no such file or built-in model (`quicksr models` lists them)");
}

}  // namespace quicksr::cli
