#pragma once
// The run's CSV log (iteration, loss, lr, val_psnr, val_ssim) and its plot of validation PSNR.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace quicksr::train {

struct LogRow {
  std::int64_t iteration = 0;
  double loss = 0;  // mean training L1 loss since the previous row
  double lr = 0;
  std::optional<double> val_psnr;
  std::optional<double> val_ssim;
};

// Rows of `path` up to `last_iteration` (later rows belong to work lost in an interruption);
// empty when the file does not exist. Throws quicksr::Error for a malformed file.
std::vector<LogRow> read_log(const std::filesystem::path& path, std::int64_t last_iteration);
// Written atomically.
void write_log(const std::vector<LogRow>& rows, const std::filesystem::path& path);

// An SVG line chart of validation PSNR against iteration (rows without validation are skipped),
// written atomically. Writes nothing when fewer than two rows have validation scores.
void write_psnr_plot(const std::vector<LogRow>& rows, const std::string& title,
                     const std::filesystem::path& path);

}  // namespace quicksr::train
