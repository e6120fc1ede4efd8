#pragma once
// A progress bar for long work: done/total, rate, ETA and a caller-supplied status (loss, PSNR).
// On a terminal it redraws one line; otherwise it prints a line at most every few seconds.
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace quicksr {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::int64_t total, std::string unit = "it");
  // Reports that `done` units are complete (monotonic); draws if enough time has passed.
  void update(std::int64_t done, std::string_view status = {});
  // Prints `line` (e.g. an error) on stderr on a line of its own, above the bar.
  void print(std::string_view line);
  // Draws the final state and ends the line.
  void finish(std::string_view status = {});

 private:
  void draw(bool final);

  std::string label_;
  std::int64_t total_;
  std::string unit_;
  std::int64_t start_done_ = -1;
  std::int64_t done_ = 0;
  std::string status_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1h02m", "3m05s", "12s"
std::string format_duration(double seconds);

}  // namespace quicksr
