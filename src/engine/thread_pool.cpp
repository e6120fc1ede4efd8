#include "engine/thread_pool.hpp"

#include <chrono>

namespace quicksr::engine {

namespace {

// How long a worker waiting for the next run (or the caller waiting for the last job) polls
// before it sleeps: a stream's runs follow each other within microseconds, and waking a sleeping
// thread costs tens of microseconds on a VM, which a 2-thread frame of ~8 ms per thread feels.
constexpr std::chrono::microseconds kPollTime{200};

void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Polls `ready` for up to `time`; returns whether it became ready.
template <typename Ready>
bool poll_briefly(const Ready& ready, std::chrono::microseconds time = kPollTime) {
  const auto end = std::chrono::steady_clock::now() + time;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    spin_pause();
  }
  return true;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  try {
    for (int i = 1; i < threads; ++i) threads_.emplace_back([this] { worker_loop(); });
  } catch (...) {
    // A thread that cannot start (std::system_error): the started ones are joinable, and
    // destroying them unjoined would terminate the process instead of reporting the error.
    stop();
    throw;
  }
}

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void ThreadPool::run(int jobs, const std::function<void(int job)>& task) {
  if (jobs <= 0) return;
  std::lock_guard run_lock(run_mutex_);
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    jobs_ = jobs;
    next_job_ = 0;
    unfinished_jobs_ = jobs;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  take_jobs();
  poll_briefly([this] { return unfinished_jobs_.load(std::memory_order_acquire) == 0; });
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return unfinished_jobs_ == 0; });
  task_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

// Jobs are handed out one at a time under the lock: a run has only a few, each long.
void ThreadPool::take_jobs() {
  std::unique_lock lock(mutex_);
  while (task_ != nullptr && next_job_ < jobs_) {
    const int job = next_job_++;
    const std::function<void(int)>& task = *task_;
    lock.unlock();
    std::exception_ptr error;
    try {
      task(job);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (--unfinished_jobs_ == 0) done_.notify_all();
  }
}

Barrier::Barrier(int count) : count_(count), poll_us_(static_cast<int>(kPollTime.count())) {}

void Barrier::arrive_and_wait() {
  const std::uint32_t phase = phase_.load(std::memory_order_acquire);
  if (abandoned_.load(std::memory_order_acquire)) return;
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
    arrived_.store(0, std::memory_order_relaxed);  // before the others can arrive again
    phase_.fetch_add(1, std::memory_order_release);
    phase_.notify_all();
    return;
  }
  const auto passed = [&] { return phase_.load(std::memory_order_acquire) != phase; };
  // The poll adapts: doubled (up to kPollTime) when the others arrive within it, halved when they
  // do not, e.g. when a loaded machine has descheduled one or runs two on one core, where each
  // poll would only delay the thread it waits for.
  const int poll_us = poll_us_.load(std::memory_order_relaxed);
  if (poll_briefly(passed, std::chrono::microseconds(poll_us))) {
    poll_us_.store(std::min(2 * poll_us, static_cast<int>(kPollTime.count())),
                   std::memory_order_relaxed);
    return;
  }
  poll_us_.store(std::max(1, poll_us / 2), std::memory_order_relaxed);
  while (!passed()) phase_.wait(phase, std::memory_order_acquire);
}

void Barrier::abandon() {
  abandoned_.store(true, std::memory_order_release);
  phase_.fetch_add(1, std::memory_order_release);
  phase_.notify_all();
}

void ThreadPool::worker_loop() {
  std::uint64_t seen = 0;
  while (true) {
    poll_briefly([&] { return generation_.load(std::memory_order_acquire) != seen; });
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    take_jobs();
  }
}

}  // namespace quicksr::engine
