#pragma once
// What a model argument (--model, `info MODEL`) may name: a model file or a built-in model.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "quicksr/model.hpp"

namespace quicksr::cli {

struct BuiltinModel {
  std::string file_name;  // "quicksrnet-small-x2.safetensors"
  std::size_t bytes = 0;  // of the embedded file
  Model model;
};

// Weights and biases of every conv.
std::size_t parameter_count(const QuickSRNet& net);
std::size_t parameter_count(const QuantizedQuickSRNet& net);
std::size_t parameter_count(const Graph& graph);
std::size_t parameter_count(const QuantizedGraph& net);
std::size_t parameter_count(const Model& model);

// Every model compiled into quicksr, in file-name order.
std::vector<BuiltinModel> builtin_models();

// An existing file (.safetensors, or .onnx imported in memory), else a built-in model named by
// its file name with or without ".safetensors" ("quicksrnet-small-x1_5") or its model name
// ("quicksrnet-small-x1.5"). Throws quicksr::Error naming `argument` when it is neither.
Model load_model_argument(const std::string& argument);

}  // namespace quicksr::cli
