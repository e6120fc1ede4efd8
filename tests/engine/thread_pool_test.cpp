// run_synced's barrier (GraphBands::walk_together): no job passes phase k before every job has
// finished phase k's work, and a job that throws releases the others instead of deadlocking.
#include "engine/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace quicksr::engine {
namespace {

TEST(ThreadPoolBarrier, NoJobPassesAPhaseBeforeAllFinishedIt) {
  for (const int threads : {2, 3}) {
    ThreadPool pool(threads);
    constexpr int kPhases = 2000;
    // done[k] counts the jobs that finished phase k; after the barrier every job must see all.
    std::vector<std::atomic<int>> done(kPhases);
    std::atomic<int> early = 0;
    run_synced(pool, threads, [&](int job, const auto& sync) {
      for (int k = 0; k < kPhases; ++k) {
        // Every 50th phase job 0 is later than the barrier polls (200 us at most): the others
        // sleep, and the poll shrinks.
        if (job == 0 && k % 50 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
        done[k].fetch_add(1);
        sync();
        if (done[k].load() != threads) early.fetch_add(1);
      }
    });
    EXPECT_EQ(early.load(), 0) << threads << " threads";
    for (int k = 0; k < kPhases; ++k) ASSERT_EQ(done[k].load(), threads) << "phase " << k;
  }
}

TEST(ThreadPoolBarrier, AJobThatThrowsReleasesTheOthers) {
  ThreadPool pool(2);
  std::atomic<int> phases_after_throw = 0;
  const auto task = [&](int job, const auto& sync) {
    for (int k = 0; k < 100; ++k) {
      if (job == 1 && k == 10) throw std::runtime_error("job 1 fails at phase 10");
      sync();
      if (k >= 10) phases_after_throw.fetch_add(1);
    }
  };
  EXPECT_THROW(run_synced(pool, 2, task), std::runtime_error);
  // Job 0 ran on to its end without waiting (the barrier was abandoned) rather than hanging.
  EXPECT_EQ(phases_after_throw.load(), 90);
  // The pool still runs work afterwards.
  std::atomic<int> ran = 0;
  run_synced(pool, 2, [&](int, const auto& sync) {
    sync();
    ran.fetch_add(1);
  });
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace quicksr::engine
