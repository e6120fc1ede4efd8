// scripts/paper_tables.sh's stated reasons, on a stand-in repository: the script and its library
// copied beside a models/ folder of hand-written cards and logs, Table 2 written from an empty
// cache (CACHED_ONLY=1, so nothing is scored or timed).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using test_support::quoted;
using test_support::run_program;

class PaperTablesScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "scripts");
    fs::create_directories(root_ / "models/checkpoints");
    for (const char* script : {"paper_tables.sh", "paper_lib.sh"}) {
      fs::copy_file(fs::path(QUICKSR_SOURCE_DIR) / "scripts" / script, root_ / "scripts" / script);
    }
  }

  void write(const fs::path& relative, const std::string& text) const {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }
  // A Large model card whose recipe line names its starting learning rate, as the queue writes it.
  void write_large_card(const std::string& scale, const std::string& lr) const {
    write("models/quicksrnet-f64-m11-x" + scale + ".md",
          "# quicksrnet-f64-m11-x" + scale + "\n\n* Recipe: cosine learning rate from " + lr +
              " to 1e-6 over the run's\n");
  }
  // The Table 2 section the script writes.
  std::string table2() const {
    const auto result = run_program(
        "env", "TABLES=2 CACHED_ONLY=1 WORK=" + quoted(root_ / "work") +
                   " DOC=" + quoted(root_ / "doc.md") + " FIG=" + quoted(root_ / "fig.svg") + " " +
                   quoted(root_ / "scripts/paper_tables.sh") + " " + quoted(QUICKSR_BINARY) + " " +
                   quoted(root_ / "shared"));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    std::ifstream in(root_ / "doc.md");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  test_support::TempDir temp_;
  const fs::path root_ = temp_.path();
};

// The retired 1e-3 run's Kodak24 curve at the four validations, rounded by hand.
const char* kRetiredLog =
    "iteration,loss,lr,val_psnr,val_ssim\n"
    "1000,0.03,0.0009,,\n"
    "2000,0.029,0.0008,29.504,0.8\n"
    "4000,0.028,0.0005,32.166,0.8\n"
    "6000,0.027,0.0001,32.6049,0.8\n"
    "8000,0.027,0.000001,32.655,0.8\n";

TEST_F(PaperTablesScriptTest, LargeReasonQuotesRetiredCurvesAndNamesOnlyModelsStillAt1e3) {
  write("models/checkpoints/quicksrnet-f64-m11-x2-lr1e-3/log.csv", kRetiredLog);
  write_large_card("2", "5e-4");
  write_large_card("3", "1e-3");
  const std::string doc = table2();
  EXPECT_NE(doc.find("8000: x2 29.50, 32.17, 32.60, 32.66 dB)."), std::string::npos) << doc;
  EXPECT_NE(doc.find("\nLarge x3: still the run from 1e-3 (retraining queued).\n"),
            std::string::npos)
      << doc;

  write_large_card("1_5", "1e-3");
  EXPECT_NE(table2().find("\nLarge x3, x1.5: still the runs from 1e-3"), std::string::npos);
}

TEST_F(PaperTablesScriptTest, NoRetiredLargeRunNoLargeReason) {
  write_large_card("3", "1e-3");
  const std::string doc = table2();
  EXPECT_NE(doc.find("## Table 2"), std::string::npos) << doc;
  EXPECT_EQ(doc.find("Large trains from lr 5e-4"), std::string::npos) << doc;
  EXPECT_EQ(doc.find("still the run"), std::string::npos) << doc;
}

}  // namespace
}  // namespace quicksr
