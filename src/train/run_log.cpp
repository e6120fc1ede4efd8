#include "train/run_log.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/atomic_file.hpp"
#include "quicksr/error.hpp"

namespace quicksr::train {
namespace {

constexpr const char* kHeader = "iteration,loss,lr,val_psnr,val_ssim";

std::string format_optional(const std::optional<double>& value) {
  if (!value) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", *value);
  return text;
}

std::optional<double> parse_optional(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return std::stod(text);
}

LogRow parse_row(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream stream(line);
  for (std::string cell; std::getline(stream, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  if (cells.size() != 5) throw std::invalid_argument("expected 5 columns");
  return LogRow{std::stoll(cells[0]), std::stod(cells[1]), std::stod(cells[2]),
                parse_optional(cells[3]), parse_optional(cells[4])};
}

}  // namespace

std::vector<LogRow> read_log(const std::filesystem::path& path, std::int64_t last_iteration) {
  std::vector<LogRow> rows;
  std::ifstream in(path);
  if (!in) return rows;
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    throw Error(path.string() + ": not a training log (expected the header " + kHeader + ")");
  }
  for (int number = 2; std::getline(in, line); ++number) {
    try {
      const LogRow row = parse_row(line);
      if (row.iteration <= last_iteration) rows.push_back(row);
    } catch (const std::exception& e) {
      throw Error(path.string() + ":" + std::to_string(number) + ": malformed log row (" +
                  e.what() + ")");
    }
  }
  return rows;
}

void write_log(const std::vector<LogRow>& rows, const std::filesystem::path& path) {
  std::ostringstream text;
  text << kHeader << "\n";
  for (const LogRow& row : rows) {
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, "%lld,%.9g,%.9g,", static_cast<long long>(row.iteration),
                  row.loss, row.lr);
    text << numbers << format_optional(row.val_psnr) << "," << format_optional(row.val_ssim)
         << "\n";
  }
  write_bytes_atomically(path, text.str(), ExistingFile::kReplace);
}

void write_psnr_plot(const std::vector<LogRow>& rows, const std::string& title,
                     const std::filesystem::path& path) {
  std::vector<std::pair<double, double>> points;
  for (const LogRow& row : rows) {
    if (row.val_psnr) points.emplace_back(static_cast<double>(row.iteration), *row.val_psnr);
  }
  if (points.size() < 2) return;
  constexpr double kWidth = 640, kHeight = 360, kLeft = 60, kRight = 20, kTop = 30, kBottom = 40;
  const double x_max = points.back().first;
  auto [low, high] = std::minmax_element(points.begin(), points.end(),
                                         [](auto& a, auto& b) { return a.second < b.second; });
  const double y_min = std::floor(low->second * 10) / 10;
  const double y_max = std::max(std::ceil(high->second * 10) / 10, y_min + 0.1);
  const auto to_x = [&](double it) { return kLeft + it / x_max * (kWidth - kLeft - kRight); };
  const auto to_y = [&](double db) {
    return kHeight - kBottom - (db - y_min) / (y_max - y_min) * (kHeight - kTop - kBottom);
  };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kWidth / 2 << "\" y=\"18\" text-anchor=\"middle\">" << title << "</text>\n"
      << "<line x1=\"" << kLeft << "\" y1=\"" << to_y(y_min) << "\" x2=\"" << to_x(x_max)
      << "\" y2=\"" << to_y(y_min) << "\" stroke=\"black\"/>\n"
      << "<line x1=\"" << kLeft << "\" y1=\"" << to_y(y_min) << "\" x2=\"" << kLeft << "\" y2=\""
      << to_y(y_max) << "\" stroke=\"black\"/>\n"
      << "<text x=\"" << kLeft - 4 << "\" y=\"" << to_y(y_min) << "\" text-anchor=\"end\">" << y_min
      << " dB</text>\n"
      << "<text x=\"" << kLeft - 4 << "\" y=\"" << to_y(y_max) + 10 << "\" text-anchor=\"end\">"
      << y_max << " dB</text>\n"
      << "<text x=\"" << to_x(x_max) << "\" y=\"" << kHeight - kBottom + 16
      << "\" text-anchor=\"end\">iteration " << static_cast<long long>(x_max) << "</text>\n"
      << "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"";
  for (const auto& [it, db] : points) svg << to_x(it) << "," << to_y(db) << " ";
  svg << "\"/>\n</svg>\n";
  write_bytes_atomically(path, svg.str(), ExistingFile::kReplace);
}

}  // namespace quicksr::train
