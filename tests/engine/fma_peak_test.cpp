// The peak of `quicksr bench` is measured on at most the machine's hardware threads.
#include "engine/fma_peak.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace quicksr::engine {
namespace {

TEST(FmaPeak, ThreadsAreAtMostTheHardwareThreads) {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(peak_threads(0), 1);
  EXPECT_EQ(peak_threads(1), 1);
  EXPECT_EQ(peak_threads(hardware), hardware);
  EXPECT_EQ(peak_threads(hardware + 1000), hardware);
}

}  // namespace
}  // namespace quicksr::engine
