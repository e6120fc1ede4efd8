// The CSV log survives a round trip and drops rows past the checkpoint; the plot puts the points
// where hand computation says.
#include "train/run_log.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "quicksr/error.hpp"
#include "support/temp_dir.hpp"

namespace quicksr::train {
namespace {

namespace fs = std::filesystem;

TEST(RunLog, RoundTripAndTruncationAtTheCheckpoint) {
  const std::vector<LogRow> rows = {
      {10, 0.25, 1e-3, {}, {}}, {20, 0.125, 5e-4, 30.5, 0.875}, {30, 0.0625, 2.5e-4, {}, {}}};
  const test_support::TempDir dir;
  const fs::path path = dir / "log.csv";
  write_log(rows, path);
  const std::vector<LogRow> all = read_log(path, 1000);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].iteration, 20);
  EXPECT_DOUBLE_EQ(all[1].loss, 0.125);
  EXPECT_DOUBLE_EQ(all[1].lr, 5e-4);
  EXPECT_DOUBLE_EQ(*all[1].val_psnr, 30.5);
  EXPECT_DOUBLE_EQ(*all[1].val_ssim, 0.875);
  EXPECT_FALSE(all[2].val_psnr.has_value());
  EXPECT_EQ(read_log(path, 25).size(), 2u);
  EXPECT_TRUE(read_log(dir / "missing.csv", 10).empty());
  std::ofstream(path) << "not,a,log\n";
  EXPECT_THROW(read_log(path, 10), Error);
}

TEST(RunLog, PlotMapsIterationsAndPsnrToTheChartArea) {
  // Chart area: x from 60 to 620 (width 640, margins 60/20), y from 320 (bottom) to 30 (top).
  // PSNR 30.0 at iteration 0 and 31.0 at iteration 100: axis 30.0..31.0 dB.
  const std::vector<LogRow> rows = {
      {0, 0.1, 1e-3, 30.0, 0.9}, {50, 0.1, 1e-3, {}, {}}, {100, 0.1, 1e-3, 31.0, 0.9}};
  const test_support::TempDir dir;
  const fs::path path = dir / "plot.svg";
  write_psnr_plot(rows, "test", path);
  std::ifstream in(path);
  std::stringstream svg;
  svg << in.rdbuf();
  EXPECT_NE(svg.str().find("points=\"60,320 620,30 \""), std::string::npos) << svg.str();
  fs::remove(path);
  write_psnr_plot({rows[0]}, "one point", path);
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace quicksr::train
