// A plain-text table for the CLI's listings: each column as wide as its widest cell, so long
// names (a model file, an image of a user's folder) never push a row out of line.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace quicksr::cli {

class TextTable {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string header;
    Align align = Align::kLeft;
  };

  explicit TextTable(std::vector<Column> columns);

  // One cell per column.
  void add_row(std::vector<std::string> cells);

  // The header, then the rows; columns apart by two spaces, the last column unpadded.
  void print(std::FILE* out = stdout) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// `value` with `decimals` digits after the point ("%.*f").
std::string fixed(double value, int decimals);

}  // namespace quicksr::cli
