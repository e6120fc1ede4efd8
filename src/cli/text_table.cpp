#include "cli/text_table.hpp"

#include <algorithm>
#include <cassert>

namespace quicksr::cli {

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  assert(cells.size() == columns_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::print(std::FILE* out) const {
  std::vector<std::size_t> widths;
  for (const Column& column : columns_) widths.push_back(column.header.size());
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  const auto print_row = [&](auto cell_of) {
    std::string line;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_of(c);
      const std::string pad(widths[c] - cell.size(), ' ');
      const bool last = c + 1 == columns_.size();
      if (c > 0) line += "  ";
      line += columns_[c].align == Align::kRight ? pad + cell : cell + (last ? "" : pad);
    }
    std::fprintf(out, "%s\n", line.c_str());
  };
  print_row([&](std::size_t c) -> const std::string& { return columns_[c].header; });
  for (const auto& row : rows_) {
    print_row([&](std::size_t c) -> const std::string& { return row[c]; });
  }
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace quicksr::cli
