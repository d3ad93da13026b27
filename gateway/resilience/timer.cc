#include "gateway/resilience/timer.h"

#include <utility>

namespace lienthong::resilience {

bool TimerHandle::Cancel() { return queue_ != nullptr && queue_->Cancel(key_); }

TimerQueue::TimerQueue(Clock* clock, Mode mode) : clock_(clock) {
  if (mode == Mode::kOwnThread) thread_ = std::thread([this] { Loop(); });
}

TimerQueue::~TimerQueue() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
}

TimerHandle TimerQueue::Schedule(absl::Time when, Callback fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      const Key key(when, next_id_++);
      if (timers_.empty() || key < timers_.begin()->first) wake_.Signal();
      timers_.emplace(key, std::move(fn));
      return TimerHandle(this, key);
    }
  }
  return TimerHandle();  // `fn` is destroyed outside the lock.
}

bool TimerQueue::Cancel(const Key& key) {
  Callback fn;  // Destroyed after the lock is released: it may reenter.
  {
    absl::MutexLock lock(&mu_);
    auto it = timers_.find(key);
    if (it == timers_.end()) return false;
    fn = std::move(it->second);
    timers_.erase(it);
  }
  return true;
}

void TimerQueue::Shutdown() {
  std::map<Key, Callback> dropped;  // Destroyed after the lock is released.
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
  absl::MutexLock lock(&mu_);
  dropped.swap(timers_);
}

size_t TimerQueue::RunDue() {
  size_t ran = 0;
  while (RunOneDue()) ++ran;
  return ran;
}

bool TimerQueue::RunOneDue() {
  Callback fn;
  {
    absl::MutexLock lock(&mu_);
    if (shutdown_ || timers_.empty() ||
        timers_.begin()->first.first > clock_->Now()) {
      return false;
    }
    fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
  }
  std::move(fn)();
  return true;
}

void TimerQueue::Loop() {
  for (;;) {
    if (RunOneDue()) continue;
    absl::MutexLock lock(&mu_);
    if (shutdown_) return;
    if (timers_.empty()) {
      wake_.Wait(&mu_);
    } else {
      const absl::Duration wait = timers_.begin()->first.first - clock_->Now();
      if (wait > absl::ZeroDuration()) wake_.WaitWithTimeout(&mu_, wait);
    }
  }
}

std::optional<absl::Time> TimerQueue::NextTimerTime() const {
  absl::MutexLock lock(&mu_);
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

size_t TimerQueue::pending() const {
  absl::MutexLock lock(&mu_);
  return timers_.size();
}

}  // namespace lienthong::resilience
