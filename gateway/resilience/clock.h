// Clock: where the resilience code reads the time, so that tests drive it.
// RealClock() reads absl::Now(); FakeClock stands still until told to move.
#ifndef LIENTHONG_GATEWAY_RESILIENCE_CLOCK_H_
#define LIENTHONG_GATEWAY_RESILIENCE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace lienthong::resilience {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current time. Thread-safe.
  virtual absl::Time Now() const = 0;
};

// Returns the process-wide clock backed by absl::Now(): the same time base as
// the deadlines in adapters::CallContext. Never null, never destroyed.
// Thread-safe.
Clock* RealClock();

// True when `interval` has passed from `since` to `now`, and when the clock
// has stepped back before `since` (an NTP correction, a restored snapshot):
// what waits on it is then due at once, not after the step plus the
// interval.
inline bool Elapsed(absl::Time since, absl::Time now, absl::Duration interval) {
  return now < since || now - since >= interval;
}

// A clock for tests: time moves only through Advance() and SetTime().
// Thread-safe.
class FakeClock final : public Clock {
 public:
  // Starts at 2025-07-15 00:00:00 UTC unless told otherwise.
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1752537600))
      : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void SetTime(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::resilience

#endif  // LIENTHONG_GATEWAY_RESILIENCE_CLOCK_H_
