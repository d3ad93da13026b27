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
      // Only a thread asleep past `when` needs waking: waking it whenever
      // the queue was empty would wake it once per call at one call in
      // flight, as every call's watchdog is scheduled and then cancelled.
      if (when < wake_at_) wake_.Signal();
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
    // Asleep until the earliest timer is due. If it is cancelled meanwhile
    // (the usual end of a watchdog) the thread still wakes then, so what is
    // scheduled after it, due later, needs no signal.
    wake_at_ = timers_.empty() ? absl::InfiniteFuture()
                               : timers_.begin()->first.first;
    const absl::Duration wait = wake_at_ - clock_->Now();
    if (wait > absl::ZeroDuration()) wake_.WaitWithTimeout(&mu_, wait);
    wake_at_ = absl::InfinitePast();
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
