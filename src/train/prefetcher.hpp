#pragma once
// Prepares items 0, 1, 2... on a background thread while the caller consumes them in order, at
// most `capacity` ahead: batch preparation overlaps with the training step.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace quicksr::train {

template <typename Item>
class Prefetcher {
 public:
  Prefetcher(std::int64_t begin, std::int64_t end, std::function<Item(std::int64_t)> make,
             std::size_t capacity)
      : make_(std::move(make)),
        capacity_(capacity),
        thread_([this, begin, end] { produce(begin, end); }) {}

  ~Prefetcher() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The next item in order; rethrows what the producer threw making it.
  Item next() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !queue_.empty() || error_; });
    if (queue_.empty()) std::rethrow_exception(error_);
    Item item = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return item;
  }

 private:
  void produce(std::int64_t begin, std::int64_t end) {
    for (std::int64_t k = begin; k < end; ++k) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return queue_.size() < capacity_ || stopping_; });
        if (stopping_) return;
      }
      try {
        Item item = make_(k);
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(item));
      } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
        changed_.notify_all();
        return;
      }
      changed_.notify_all();
    }
  }

  std::function<Item(std::int64_t)> make_;
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after every other member is ready
};

}  // namespace quicksr::train
