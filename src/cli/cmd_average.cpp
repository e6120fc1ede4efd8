// quicksr average MODEL... --out FILE [--grid INT8_FILE]: the mean of the float weights of several
// QuickSRNets of one architecture (e.g. the float weights of QAT runs on one INT8 grid), optionally
// quantized on an INT8 model's weight scales and encodings.
#include <iostream>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "cli/output_path.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"
#include "quicksr/quant.hpp"

namespace quicksr::cli {
namespace {

const CommandSpec kSpec{
    .name = "average",
    .usage = "MODEL MODEL... --out FILE [options]",
    .summary =
        "Average the weights and biases of float QuickSRNet models of one preset and scale,\n"
        "e.g. the float weights (last.safetensors) of QAT runs that share an INT8 grid\n"
        "(stochastic weight averaging). With --grid, write the average quantized on that INT8\n"
        "model's s8 weight scales and activation encodings instead of the float average.",
    .options = {{"--out", "FILE", "the model file to write (required)"},
                {"--grid", "INT8_FILE", "quantize the average on this INT8 model's grid"},
                {"--overwrite", "", "replace FILE if it exists"}},
    .min_positional = 2,
    .max_positional = 64,
};

QuickSRNet load_float_quicksrnet(const std::string& path) {
  Model model = load_model_argument(path);
  if (!model.is_quicksrnet()) {
    throw Error(path + ": expected a float QuickSRNet, the file holds " + model.name());
  }
  return std::get<QuickSRNet>(std::move(model.net));
}

// Every conv of `net` in a fixed order (first, body, last, anchor).
std::vector<Conv2d*> convs_of(QuickSRNet& net) {
  std::vector<Conv2d*> convs = {&net.first};
  for (Conv2d& conv : net.body) convs.push_back(&conv);
  convs.push_back(&net.last);
  for (Conv2d& conv : net.anchor) convs.push_back(&conv);
  return convs;
}

void add_to(std::vector<float>& sum, const std::vector<float>& values) {
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += values[i];
}

void divide(std::vector<float>& values, float count) {
  for (float& v : values) v /= count;
}

QuickSRNet average(const std::vector<std::string>& paths) {
  QuickSRNet mean = load_float_quicksrnet(paths.front());
  const std::vector<Conv2d*> sums = convs_of(mean);
  for (std::size_t k = 1; k < paths.size(); ++k) {
    QuickSRNet net = load_float_quicksrnet(paths[k]);
    if (!(net.config == mean.config)) {
      throw Error(paths[k] + ": holds " + net.config.name() + ", " + paths.front() + " " +
                  mean.config.name() + ": only models of one preset and scale average");
    }
    const std::vector<Conv2d*> convs = convs_of(net);
    for (std::size_t c = 0; c < convs.size(); ++c) {
      add_to(sums[c]->weight, convs[c]->weight);
      add_to(sums[c]->bias, convs[c]->bias);
    }
  }
  for (Conv2d* conv : sums) {
    divide(conv->weight, static_cast<float>(paths.size()));
    divide(conv->bias, static_cast<float>(paths.size()));
  }
  return mean;
}

}  // namespace

int average_command(CommandArgs raw) {
  const std::optional<ParsedArgs> args = parse_command(kSpec, raw);
  if (!args) return 0;
  const std::optional<std::string> out = args->get("--out");
  if (!out) throw Error("average: give --out FILE");
  const std::vector<std::string>& inputs = args->positional();
  std::vector<std::string> read = inputs;  // every file the command reads, the grid too
  if (const std::optional<std::string> grid_file = args->get("--grid")) read.push_back(*grid_file);
  for (const std::string& input : read) check_output_path(input, *out, args->has("--overwrite"));
  Model result{average(inputs), {}};
  std::string sources;
  for (const std::string& input : inputs) sources += (sources.empty() ? "" : " ") + input;
  result.provenance["averaged"] = sources;
  if (const std::optional<std::string> grid_file = args->get("--grid")) {
    const Model grid = load_model_argument(*grid_file);
    if (!grid.is_quantized()) {
      throw Error(*grid_file + ": --grid needs an INT8 QuickSRNet, the file holds " + grid.name());
    }
    const auto& q = std::get<QuantizedQuickSRNet>(grid.net);
    if (!(q.config == std::get<QuickSRNet>(result.net).config)) {
      throw Error(*grid_file + ": the grid is " + q.config.name() + ", the models " +
                  std::get<QuickSRNet>(result.net).config.name());
    }
    result.net = quant::quantize_weights(std::get<QuickSRNet>(result.net), q);
    result.provenance["quantization"] = "quicksr average on the grid of " + *grid_file;
  }
  save_model(result, *out, existing_file(*args));
  std::cout << "averaged " << inputs.size() << " models -> " << *out << "\n";
  return 0;
}

}  // namespace quicksr::cli
