// quicksr models: the built-in models and the model files of a folder, with their scores.
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/model_argument.hpp"
#include "cli/text_table.hpp"
#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"

namespace quicksr::cli {
namespace {

namespace fs = std::filesystem;

const CommandSpec kSpec{
    .name = "models",
    .usage = "[--dir DIR]",
    .summary =
        "List the built-in models and the model files (*.safetensors) of DIR: name, scale,\n"
        "parameters, file size, validation PSNR from the file's provenance, and the Set5 /\n"
        "Set14 / BSD100 PSNR of its model card (NAME.md beside the file) when there is one.\n"
        "Built-in models are used by name: --model quicksrnet-small-x3, quicksr info NAME.",
    .options = {{"--dir", "DIR", "folder of shipped models (default: " QUICKSR_MODELS_DIR ")"}},
    .min_positional = 0,
    .max_positional = 0,
};

const char* const kCardSets[] = {"Set5", "Set14", "BSD100"};

// The PSNR column of the card's score table rows ("| Set5 | 36.892 | 0.9567 | ..."), "-" for
// a set the card does not score.
std::string card_scores(const fs::path& card) {
  std::map<std::string, std::string> psnr;
  std::ifstream in(card);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, '|');) {
      const auto first = cell.find_first_not_of(' ');
      const auto last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    if (cells.size() >= 3 && cells[0].empty() && !psnr.contains(cells[1]))
      psnr[cells[1]] = cells[2];
  }
  std::string scores;
  for (const char* set : kCardSets) {
    scores += (scores.empty() ? "" : " / ") + (psnr.contains(set) ? psnr[set] : std::string("-"));
  }
  return scores;
}

struct Row {
  std::string name;
  Model model;
  std::uintmax_t bytes = 0;
  bool builtin = false;
  std::string card = "-";
  std::string file = "(built in)";
};

std::string validation(const Model& model) {
  const auto psnr = model.provenance.find("validation_psnr");
  if (psnr == model.provenance.end()) return "-";
  const auto set = model.provenance.find("validation");
  return psnr->second + (set == model.provenance.end()
                             ? ""
                             : " (" + fs::path(set->second).filename().string() + ")");
}

// The built-in models and the model files in `dir`; a file that does not load (or a link that
// leads nowhere) is left out with a warning line, so the others are still listed.
std::vector<Row> collect(const fs::path& dir) {
  std::map<std::string, Row> rows;
  for (BuiltinModel& builtin : builtin_models()) {
    const std::string name = fs::path(builtin.file_name).stem().string();
    rows[name] = {name, std::move(builtin.model), builtin.bytes, true};
  }
  std::error_code error;
  if (fs::is_directory(dir, error)) {
    for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
      const fs::path& path = it->path();
      std::error_code type_error;
      if (path.extension() != ".safetensors" || !it->is_regular_file(type_error)) continue;
      const std::string name = path.stem().string();
      if (!rows.contains(name)) {
        try {
          rows[name] = {name, load_model(path), it->file_size(), false};
        } catch (const Error& e) {
          std::cerr << "quicksr models: warning: " << about_file(path.string(), e.what()) << "\n";
          continue;
        }
      }
      Row& row = rows[name];
      row.file = path.string();
      const fs::path card = fs::path(path).replace_extension(".md");
      if (fs::exists(card, error)) row.card = card_scores(card);
    }
  }
  std::vector<Row> sorted;
  for (auto& [name, row] : rows) sorted.push_back(std::move(row));
  return sorted;
}

}  // namespace

int models_command(CommandArgs raw) {
  const std::optional<ParsedArgs> parsed = parse_command(kSpec, raw);
  if (!parsed) return 0;
  const fs::path dir = parsed->get_or("--dir", QUICKSR_MODELS_DIR);
  if (parsed->has("--dir") && !fs::is_directory(dir)) throw Error(dir.string() + ": not a folder");
  constexpr auto kRight = TextTable::Align::kRight;
  TextTable table({{"name"},
                   {"scale"},
                   {"built-in"},
                   {"parameters", kRight},
                   {"bytes", kRight},
                   {"validation PSNR"},
                   {"Set5 / Set14 / BSD100 PSNR"},
                   {"file"}});
  for (const Row& row : collect(dir)) {
    table.add_row({row.name, "x" + row.model.scale().to_string(), row.builtin ? "yes" : "no",
                   std::to_string(parameter_count(row.model)), std::to_string(row.bytes),
                   validation(row.model), row.card, row.file});
  }
  table.print();
  return 0;
}

}  // namespace quicksr::cli
