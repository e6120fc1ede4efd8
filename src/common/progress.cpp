#include "common/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace quicksr {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const long s = static_cast<long>(seconds + 0.5);
  char buffer[32];
  if (s >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  } else if (s >= 60) {
    std::snprintf(buffer, sizeof buffer, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lds", s);
  }
  return buffer;
}

ProgressBar::ProgressBar(std::string label, std::int64_t total, std::string unit)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressBar::update(std::int64_t done, std::string_view status) {
  if (start_done_ < 0) start_done_ = done;  // resumed work: the rate counts only this run's units
  done_ = done;
  status_ = status;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000);
  if (now - last_draw_ >= interval) {
    last_draw_ = now;
    draw(false);
  }
}

void ProgressBar::print(std::string_view line) {
  if (tty_) {
    std::cerr << '\r' << line << "\033[K\n";
    draw(false);
  } else {
    std::cerr << line << '\n' << std::flush;
  }
}

void ProgressBar::finish(std::string_view status) {
  if (!status.empty()) status_ = status;
  draw(true);
}

void ProgressBar::draw(bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? (done_ - std::max<std::int64_t>(start_done_, 0)) / elapsed : 0;
  // An unknown total (a video without a frame count) gets no bar and no ETA.
  std::string count = std::to_string(done_) + " done";
  std::string timing = final ? "in " + format_duration(elapsed) : "";
  if (total_ > 0) {
    constexpr int kWidth = 24;
    std::string bar(static_cast<std::size_t>(static_cast<double>(done_) / total_ * kWidth), '#');
    bar.resize(kWidth, '.');
    count = "[" + bar + "] " + std::to_string(done_) + "/" + std::to_string(total_);
    if (!final) timing = "ETA " + format_duration(rate > 0 ? (total_ - done_) / rate : -1);
  }
  char line[512];
  std::snprintf(line, sizeof line, "%s %s %.2f %s/s %s %s", label_.c_str(), count.c_str(), rate,
                unit_.c_str(), timing.c_str(), status_.c_str());
  if (tty_) {
    std::cerr << '\r' << line << "\033[K" << (final ? "\n" : "") << std::flush;
  } else {
    std::cerr << line << '\n' << std::flush;
  }
}

}  // namespace quicksr
