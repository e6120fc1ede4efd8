#pragma once
// A persistent pool of worker threads: created once per engine, reused by every run.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace quicksr::engine {

class ThreadPool {
 public:
  // `threads` workers in total: the calling thread plus threads - 1 pool threads.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()) + 1; }
  // Runs task(job) for every job in [0, jobs), spread over all workers with the caller taking
  // part; returns when all are done and rethrows the first exception a task threw. Concurrent
  // callers are served one after the other.
  void run(int jobs, const std::function<void(int job)>& task);

 private:
  void worker_loop();
  void take_jobs();

  std::vector<std::thread> threads_;
  std::mutex run_mutex_;  // one run() at a time
  std::mutex mutex_;      // guards everything below
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  int jobs_ = 0;
  int next_job_ = 0;
  // Atomic as well, so that waiting threads can poll them without the lock before sleeping.
  std::atomic<int> unfinished_jobs_ = 0;
  std::atomic<std::uint64_t> generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

// How far each job of one ThreadPool::run has got (GraphBands::walk_in_turn): a job publishes
// its position (never decreasing) and waits until another's reaches one. A waiter polls briefly
// (for longer while the positions keep arriving within it), then sleeps; abandon() (a job whose
// task threw) releases every waiter for good.
class Progress {
 public:
  explicit Progress(int jobs);
  void publish(int job, int position);
  void wait_for(int job, int position);
  void abandon();

 private:
  struct alignas(64) Slot {  // a cache line each: every job writes its own
    std::atomic<int> position = 0;
  };
  std::vector<Slot> slots_;
  std::atomic<int> poll_us_;  // how long a waiter polls before it sleeps
  std::atomic<bool> abandoned_ = false;
};

// pool.run(jobs, ...) of task(job, progress), a Progress of the jobs (jobs <= pool.size()); a
// job that throws abandons it, so that the others do not wait for it forever.
template <typename Task>
void run_in_turn(ThreadPool& pool, int jobs, const Task& task) {
  Progress progress(jobs);
  pool.run(jobs, [&](int job) {
    try {
      task(job, progress);
    } catch (...) {
      progress.abandon();
      throw;
    }
  });
}

}  // namespace quicksr::engine
