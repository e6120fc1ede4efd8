// scripts/paper_tables.sh's stated reasons and notes, on a stand-in repository: the script and its
// library copied beside a models/ folder of hand-written cards, logs and stand-in models, Table 2
// written from the cache alone (CACHED_ONLY=1, so nothing is scored or timed; tests put the
// scores and benches they need into it).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "support/run_quicksr.hpp"
#include "support/temp_dir.hpp"

namespace quicksr {
namespace {

namespace fs = std::filesystem;
using test_support::quoted;
using test_support::run_program;
using test_support::run_quicksr;

class PaperTablesScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "scripts");
    fs::create_directories(root_ / "models/checkpoints");
    for (const char* script : {"paper_tables.sh", "paper_lib.sh", "paper_fig1.py"}) {
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
  // A stand-in model file (`quicksr init`: the script only hashes it and asks its iterations) with
  // its BSD100 score in the script's cache, as a finished eval leaves it.
  void write_scored_model(const std::string& name, int seed, const std::string& scores) const {
    const fs::path model = root_ / "models" / (name + ".safetensors");
    ASSERT_EQ(
        run_quicksr("init xlsr " + quoted(model) + " --seed " + std::to_string(seed)).exit_code, 0);
    set_score(name, scores);
  }
  // The BSD100 score of stand-in model NAME in the script's cache.
  void set_score(const std::string& name, const std::string& scores) const {
    write("work/scores/" + key_of(name) + "-BSD100", scores + "\n");
  }
  // A stand-in x2 model with its 2-thread bench on the 640x360 latency input in the script's cache.
  void write_benched_model(const std::string& name, int seed, const std::string& runtime,
                           const std::string& kernels) const {
    write_scored_model(name, seed, "31.00 0.88");
    write("work/bench/" + key_of(name) + "-640x360-t2-r10.json",
          R"({"isa": "avx2", "runtime": ")" + runtime + R"(", "kernel": ")" + kernels +
              R"(", "engine_ms_min": 9.5, "engine_ms_median": 9.9, "cpu": "Test CPU", )"
              R"("loadavg": ["0.50", "0.40", "0.30"]})");
  }
  // The script's cache key of a stand-in model (`cksum` of the file).
  std::string key_of(const std::string& name) const {
    return run_program("sh", "-c \"cksum < " + quoted(root_ / "models" / (name + ".safetensors")) +
                                 " | tr ' ' - | tr -d '\\n'\"")
        .output;
  }
  // The script run on the stand-in repository with ENV (variables) before it.
  test_support::RunResult run_script(const std::string& env) const {
    return run_program("env", env + " CACHED_ONLY=1 WORK=" + quoted(root_ / "work") + " DOC=" +
                                  quoted(root_ / "doc.md") + " FIG=" + quoted(root_ / "fig.svg") +
                                  " " + quoted(root_ / "scripts/paper_tables.sh") + " " +
                                  quoted(QUICKSR_BINARY) + " " + quoted(root_ / "shared"));
  }
  // The document after the script wrote its Table 2 section (with ENV, e.g. ROWS=...).
  std::string table2(const std::string& env = "") const {
    const auto result = run_script("TABLES=2 " + env);
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

// The row of LABEL in a markdown table, without its label and line end, or "" if absent.
std::string cells_of(const std::string& table, const std::string& label) {
  const auto begin = table.find("\n| " + label + " |");
  if (begin == std::string::npos) return "";
  const auto cells = begin + label.size() + 4;
  return table.substr(cells, table.find('\n', cells) - cells);
}

// Rows whose "> 0.1 dB" reason is the same point to one note under their table; a reason of one
// row stays in the row. Paper BSD100: f32-m1 x3 28.41, f32-m3 x3 28.67, f32-m7 x3 28.81, f32-m1
// x4 26.94.
TEST_F(PaperTablesScriptTest, AReasonSharedByRowsIsStatedOnceUnderTheTable) {
  write_scored_model("quicksrnet-f32-m1-x3", 1, "28.00 0.78");
  write_scored_model("quicksrnet-f32-m3-x3", 2, "28.20 0.78");
  write_scored_model("quicksrnet-f32-m7-x3", 3, "28.80 0.79");  // within 0.1 dB: no reason
  write_scored_model("quicksrnet-f32-m1-x4", 4, "26.50 0.70");
  const std::string doc = table2();
  const auto x3 = doc.find("#### x3"), x4 = doc.find("#### x4");
  ASSERT_NE(x4, std::string::npos) << doc;
  const std::string table_x3 = doc.substr(x3, x4 - x3), table_x4 = doc.substr(x4);
  const std::string note = " trained here (? iterations)";
  const std::string reason =
      "rained here on T91 + BSDS200 (291 images) for ? iterations; the paper trained on DIV2K "
      "(800 images) for 1M iterations (docs/training.md)";

  const std::string pointer = note + "; > 0.1 dB: see (a) |";
  EXPECT_TRUE(cells_of(table_x3, "QuickSRNet-f32-m1").ends_with(pointer)) << table_x3;
  EXPECT_TRUE(cells_of(table_x3, "QuickSRNet-f32-m3").ends_with(pointer)) << table_x3;
  EXPECT_TRUE(cells_of(table_x3, "QuickSRNet-f32-m7").ends_with(note + " |")) << table_x3;
  EXPECT_NE(table_x3.find(" |\n\n- (a) T" + reason + ".\n\n"), std::string::npos) << table_x3;
  EXPECT_EQ(table_x3.find("(b)"), std::string::npos) << table_x3;

  EXPECT_TRUE(
      cells_of(table_x4, "QuickSRNet-f32-m1").ends_with(note + "; > 0.1 dB: t" + reason + " |"))
      << table_x4;
  EXPECT_EQ(table_x4.find("- (a)"), std::string::npos) << table_x4;
}

// ROWS recomputes the rows it matches and copies the others from the document, a copied row's
// shared reason included (it is lettered afresh with the recomputed rows'); the generated line
// says which rows the run made. Both x3 rows start 0.1 dB or more under the paper (28.41, 28.67).
TEST_F(PaperTablesScriptTest, RowsRecomputesMatchingRowsAndCopiesTheOthers) {
  write_scored_model("quicksrnet-f32-m1-x3", 1, "28.00 0.78");
  write_scored_model("quicksrnet-f32-m3-x3", 2, "28.20 0.78");
  const auto x3_of = [](const std::string& doc) {
    const auto x3 = doc.find("#### x3");
    return doc.substr(x3, doc.find("#### x4") - x3);
  };
  const std::string before = x3_of(table2());
  const std::string m1_before = cells_of(before, "QuickSRNet-f32-m1");
  ASSERT_NE(m1_before.find("28.00 / 0.78"), std::string::npos) << before;
  ASSERT_NE(m1_before.find("see (a)"), std::string::npos) << before;

  set_score("quicksrnet-f32-m1-x3", "27.90 0.77");  // not recomputed: stays 28.00
  set_score("quicksrnet-f32-m3-x3", "28.30 0.79");
  const std::string doc = table2("ROWS='Table 2 x3: QuickSRNet-f32-m3$'");
  const std::string after = x3_of(doc);
  EXPECT_EQ(cells_of(after, "QuickSRNet-f32-m1"), m1_before) << after;
  const std::string m3 = cells_of(after, "QuickSRNet-f32-m3");
  EXPECT_NE(m3.find("28.30 / 0.79"), std::string::npos) << after;
  EXPECT_TRUE(m3.ends_with("see (a) |")) << after;
  const auto list_item = after.find("\n- (a) Trained here on T91");
  EXPECT_NE(list_item, std::string::npos) << after;
  EXPECT_EQ(after.find("\n- (a) Trained here on T91", list_item + 1), std::string::npos) << after;
  EXPECT_EQ(after.find("(b)"), std::string::npos) << after;
  EXPECT_TRUE(std::regex_search(
      doc, std::regex("\n_Generated [0-9-]+ [0-9:]+ UTC; the rows matching ROWS='Table 2 x3: "
                      "QuickSRNet-f32-m3\\$' on [0-9-]+ [0-9:]+ UTC\\._\n")))
      << doc;
  // A copied row survives a second narrowed run unchanged.
  EXPECT_EQ(cells_of(x3_of(table2("ROWS='Table 2 x4: none'")), "QuickSRNet-f32-m1"), m1_before);

  const auto refused = run_script("TABLES=1 ROWS=EDSR");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("ROWS narrows Tables 2 and 3 only"), std::string::npos)
      << refused.output;
}

// The latency sentence names each ISA once, with the kernels of each engine path once.
TEST_F(PaperTablesScriptTest, BenchConditionsGroupKernelsByIsaAndEnginePath) {
  write_benched_model("quicksrnet-f32-m1-x2", 1, "engine (band pipeline)", "k2/4-avx2, k1/8-avx2");
  write_benched_model("quicksrnet-f32-m3-x2", 2, "engine (band pipeline)", "k1/8-avx2, k3/1-avx2");
  write_benched_model("quicksrnet-f32-m7-x2", 3, "engine (general-graph path)", "k1/8-avx2");
  EXPECT_NE(table2().find(
                " on Test CPU, ISA avx2 (engine (band pipeline): k1/8-avx2, k2/4-avx2, k3/1-avx2; "
                "engine (general-graph path): k1/8-avx2). 1-minute load average while measuring: "
                "0.5-0.5 on 2 vCPUs (a quiet machine)."),
            std::string::npos);
}

// Fig. 1 (scripts/paper_fig1.py): one number per model, shared by both panels and named once in
// the key; our label names a model the paper lists under another (EDSR, edsr-baseline); a model's
// fp32 and INT8 points are joined; the numbers of two coincident points do not overlap.
TEST_F(PaperTablesScriptTest, Fig1NumbersEachModelOnceAndKeepsNumbersApart) {
  write("paper.tsv",
        "f32-m2\t31.61\t31.58\t28.57\t28.55\t27.07\t27.06\t1.14 (35%)\n"
        "xlsr\t31.62\t31.32\t28.59\t28.31\t27.09\t26.82\t1.59\n"
        "edsr-baseline\t32.21\t32.08\t29.04\t28.89\t27.61\t27.53\t37.95\n");
  write("ours.tsv",
        "QuickSRNet-f32-m2 (Small)\t31.52\t31.49\t17.6\t6.7\n"
        "EDSR\t32.00\t31.90\t2000\t430\n"
        "XLSR, official weights\t31.64\t31.44\t27.2\t7.3\n"
        "SESR-M5\t31.50\tnot\t22.0\t—\n"
        "SESR-M7\t31.50\t—\t22.0\t—\n");
  const auto result =
      run_program("python3", quoted(root_ / "scripts/paper_fig1.py") + " " +
                                 quoted(root_ / "paper.tsv") + " " + quoted(root_ / "ours.tsv"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string& svg = result.output;
  const auto count = [&svg](const std::string& pattern) {
    const std::regex re(pattern);
    return std::distance(std::sregex_iterator(svg.begin(), svg.end(), re), std::sregex_iterator());
  };
  const char* keys[] = {
      "1</tspan> QuickSRNet-f32-m2 (Small)<", "2</tspan> XLSR<",    "3</tspan> EDSR<",
      "4</tspan> XLSR, official weights<",    "5</tspan> SESR-M5<", "6</tspan> SESR-M7<"};
  for (const char* key : keys) EXPECT_NE(svg.find(key), std::string::npos) << key << "\n" << svg;
  EXPECT_EQ(count("</tspan>"), 6) << svg;
  EXPECT_EQ(count("<line "), 3) << svg;    // Small, EDSR, XLSR official: both points
  EXPECT_EQ(count("<circle "), 5) << svg;  // our fp32 points
  EXPECT_EQ(count("width=\"8\" height=\"8\""), 6) << svg;  // 3 paper, 3 of our INT8 points
  // The numbers of models 5 and 6 (the same point) are at least a digit or a line apart.
  const auto position_of = [&svg](const std::string& label) {
    std::smatch match;
    const std::regex re(R"re(<text x="([0-9.]+)" y="([0-9.]+)" font-size="10">)re" + label + "<");
    EXPECT_TRUE(std::regex_search(svg, match, re)) << label << "\n" << svg;
    return match.empty() ? std::pair(0.0, 0.0)
                         : std::pair(std::stod(match[1]), std::stod(match[2]));
  };
  const auto [x5, y5] = position_of("5");
  const auto [x6, y6] = position_of("6");
  const double dx = x5 - x6, dy = y5 - y6;
  EXPECT_TRUE(std::abs(dx) >= 6.5 || std::abs(dy) >= 10) << dx << " " << dy << "\n" << svg;
}

}  // namespace
}  // namespace quicksr
