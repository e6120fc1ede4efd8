// Real files from the shared data sets, checked against the sizes and channel counts that
// data/MANIFEST.tsv records for them.
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "quicksr/image.hpp"

namespace quicksr {
namespace {

const std::filesystem::path kData = std::filesystem::path(QUICKSR_SHARED_DIR) / "data";

TEST(ImageSharedDataTest, BenchmarkAndGameImagesMatchManifest) {
  std::ifstream manifest(kData / "MANIFEST.tsv");
  if (!manifest) GTEST_SKIP() << "no " << (kData / "MANIFEST.tsv") << " (shared data absent)";
  const std::map<std::string, std::filesystem::path> folders = {
      {"Set5", kData / "benchmarks/Set5"},
      {"Set14", kData / "benchmarks/Set14"},
      {"Gaming_SRGD_samples", kData / "gaming/SRGD"}};
  std::string line;
  std::getline(manifest, line);  // header
  int checked = 0;
  while (std::getline(manifest, line)) {
    std::istringstream fields(line);
    std::string set, file;
    int width = 0, height = 0, channels = 0;
    fields >> set >> file >> width >> height >> channels;
    const auto folder = folders.find(set);
    if (folder == folders.end()) continue;
    const std::filesystem::path path = folder->second / file;
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared file missing: " << path;
    const Image image = read_image(path);
    EXPECT_EQ(image.width, width) << path;
    EXPECT_EQ(image.height, height) << path;
    EXPECT_EQ(image.gray, channels <= 2) << path;
    EXPECT_EQ(image.has_alpha(), channels == 2 || channels == 4) << path;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace quicksr
