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

}  // namespace quicksr::engine
