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
  // Wakes the workers to return and joins them.
  void stop();

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

// The threads of one ThreadPool::run wait here for each other (GraphBands::walk_together: a
// barrier after every step of a band). A waiter polls briefly (for longer while the others keep
// arriving within it), then sleeps. A thread whose task threw calls abandon(), after which no one
// waits any more (the run rethrows the error).
class Barrier {
 public:
  explicit Barrier(int count);
  void arrive_and_wait();
  void abandon();

 private:
  const int count_;
  std::atomic<int> arrived_ = 0;
  std::atomic<std::uint32_t> phase_ = 0;
  std::atomic<bool> abandoned_ = false;
  std::atomic<int> poll_us_;  // how long a waiter polls before it sleeps
};

// pool.run(jobs, ...) of task(job, sync), where sync() is a Barrier of the jobs (jobs <=
// pool.size(): each job then runs on a thread of its own); a job that throws abandons it, so
// that the others do not wait for it forever.
template <typename Task>
void run_synced(ThreadPool& pool, int jobs, const Task& task) {
  Barrier barrier(jobs);
  const auto sync = [&barrier] { barrier.arrive_and_wait(); };
  pool.run(jobs, [&](int job) {
    try {
      task(job, sync);
    } catch (...) {
      barrier.abandon();
      throw;
    }
  });
}

}  // namespace quicksr::engine
