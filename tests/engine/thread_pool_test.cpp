// run_in_turn's Progress (GraphBands::walk_in_turn): a wait for another job's position returns
// only once that job has published it (and its writes before are visible), and a job that
// throws releases the others instead of deadlocking.
#include "engine/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace quicksr::engine {
namespace {

TEST(ThreadPoolProgress, AWaitReturnsOnlyOnceThePositionIsPublished) {
  for (const int threads : {2, 3}) {
    ThreadPool pool(threads);
    constexpr int kSteps = 2000;
    // Job j writes its step k, then publishes k; job j + 1 waits for it and must see the write.
    std::vector<std::vector<std::atomic<int>>> written(threads);
    for (auto& steps : written) steps = std::vector<std::atomic<int>>(kSteps + 1);
    std::atomic<int> early = 0;
    run_in_turn(pool, threads, [&](int job, Progress& progress) {
      for (int k = 1; k <= kSteps; ++k) {
        if (job > 0) {
          progress.wait_for(job - 1, k);
          if (written[job - 1][k].load(std::memory_order_relaxed) != 1) early.fetch_add(1);
        } else if (k % 50 == 0) {
          // Later than any poll (200 us at most): the others sleep, and the poll shrinks.
          std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
        written[job][k].store(1, std::memory_order_relaxed);
        progress.publish(job, k);
      }
    });
    EXPECT_EQ(early.load(), 0) << threads << " threads";
  }
}

TEST(ThreadPoolProgress, AJobThatThrowsReleasesTheOthers) {
  ThreadPool pool(2);
  std::atomic<int> waits_after_throw = 0;
  const auto task = [&](int job, Progress& progress) {
    for (int k = 1; k <= 100; ++k) {
      if (job == 1) {
        if (k == 10) throw std::runtime_error("job 1 fails at step 10");
        progress.publish(1, k);
      } else {
        progress.wait_for(1, k);
        if (k >= 10) waits_after_throw.fetch_add(1);
      }
    }
  };
  EXPECT_THROW(run_in_turn(pool, 2, task), std::runtime_error);
  // Job 0 ran on to its end (the progress was abandoned) rather than hanging.
  EXPECT_EQ(waits_after_throw.load(), 91);
  // The pool still runs work afterwards.
  std::atomic<int> ran = 0;
  run_in_turn(pool, 2, [&](int job, Progress& progress) {
    if (job == 1) progress.wait_for(0, 1);
    progress.publish(job, 1);
    ran.fetch_add(1);
  });
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace quicksr::engine
