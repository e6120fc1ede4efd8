// ProgressBar's lines: done/total with a bar and ETA, or the count alone when the total is unknown.
#include "common/progress.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <sstream>
#include <string>

namespace quicksr {
namespace {

// What `work` writes to std::cerr.
template <typename Work>
std::string cerr_of(Work work) {
  std::ostringstream captured;
  std::streambuf* const previous = std::cerr.rdbuf(captured.rdbuf());
  work();
  std::cerr.rdbuf(previous);
  return captured.str();
}

TEST(ProgressBar, KnownTotalShowsTheBarAndCount) {
  const std::string line = cerr_of([] {
    ProgressBar bar("eval", 4, "img");
    bar.update(2);
    bar.finish("mean 30.0 dB");
  });
  EXPECT_NE(line.find("eval [############............] 2/4 "), std::string::npos) << line;
  EXPECT_NE(line.find(" img/s in "), std::string::npos) << line;
  EXPECT_NE(line.find("mean 30.0 dB"), std::string::npos) << line;
}

TEST(ProgressBar, UnknownTotalShowsTheCountWithoutBarOrTotal) {
  const std::string line = cerr_of([] {
    ProgressBar bar("video", 0, "frame");
    bar.update(1);
    bar.finish();
  });
  EXPECT_NE(line.find("video 1 done "), std::string::npos) << line;
  EXPECT_NE(line.find(" frame/s in "), std::string::npos) << line;
  EXPECT_EQ(line.find("1/0"), std::string::npos) << line;
  EXPECT_EQ(line.find('['), std::string::npos) << line;
}

}  // namespace
}  // namespace quicksr
