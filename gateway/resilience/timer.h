// TimerQueue: runs callbacks at points in time, so that a call waiting to be
// retried (or watched for a per-try timeout) holds no thread. One thread runs
// every callback, in time order; TimerHandle cancels a pending callback.
//
//   TimerQueue timers;  // starts its thread
//   TimerHandle h = timers.Schedule(absl::Now() + absl::Milliseconds(50),
//                                   [] { RetryTheCall(); });
//   h.Cancel();  // true: it will not run
//
// Tests use Mode::kManual with a FakeClock and drive the queue with
// NextTimerTime() and RunDue(): a discrete-event simulation, no sleeps.
#ifndef LIENTHONG_GATEWAY_RESILIENCE_TIMER_H_
#define LIENTHONG_GATEWAY_RESILIENCE_TIMER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"

namespace lienthong::resilience {

class TimerQueue;

// Names one scheduled callback. A copyable value; a default-constructed handle
// names nothing.
class TimerHandle {
 public:
  TimerHandle() = default;

  // Returns true when the callback was still pending: it is removed and
  // destroyed (on this thread) without running. Returns false when it has
  // run, is running, was cancelled or dropped, or the handle names nothing.
  // Thread-safe. REQUIRES: the queue that issued the handle is alive.
  bool Cancel();

 private:
  friend class TimerQueue;
  using Key = std::pair<absl::Time, uint64_t>;
  TimerHandle(TimerQueue* queue, Key key) : queue_(queue), key_(key) {}

  TimerQueue* queue_ = nullptr;
  Key key_;
};

class TimerQueue {
 public:
  using Callback = absl::AnyInvocable<void() &&>;
  enum class Mode {
    kOwnThread,  // a thread runs callbacks when due (by `clock`)
    kManual,     // nothing runs until RunDue() is called (tests)
  };

  // REQUIRES: `clock` outlives the queue. With kOwnThread the clock must move
  // with real time (the thread sleeps for real durations).
  explicit TimerQueue(Clock* clock = RealClock(), Mode mode = Mode::kOwnThread);
  // Shuts down (see Shutdown()) and joins the thread.
  // REQUIRES: not called from a callback of this queue.
  ~TimerQueue();

  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `fn` once, on the queue's thread, at or soon after `when` (a time in
  // the past means as soon as possible). Callbacks due at the same time run
  // in the order they were scheduled. Callbacks run one at a time, so they
  // must be short and must not block. After Shutdown(), `fn` is destroyed
  // without running and the handle names nothing. Thread-safe; callbacks may
  // schedule and cancel.
  TimerHandle Schedule(absl::Time when, Callback fn);

  // Stops the queue: a callback already running finishes, and every pending
  // callback is dropped, i.e. destroyed on the calling thread without
  // running. Dropping rather than running matters: running a retry during
  // shutdown would start a new upstream call. Owners that promise a
  // completion (Retrier) complete from the callback's destructor instead.
  // Idempotent. Thread-safe.
  void Shutdown();

  // Runs, on the calling thread, every callback due at clock->Now(),
  // including ones those callbacks schedule for no later than now. Returns
  // how many ran. Thread-safe. REQUIRES: Mode::kManual.
  size_t RunDue();

  // Returns the due time of the earliest pending callback, if any.
  // Thread-safe.
  std::optional<absl::Time> NextTimerTime() const;

  // Returns the number of pending callbacks. Thread-safe.
  size_t pending() const;

 private:
  friend class TimerHandle;
  using Key = TimerHandle::Key;

  bool Cancel(const Key& key);
  // Pops and runs one due callback; false when none is due or shut down.
  bool RunOneDue();
  void Loop();

  Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::CondVar wake_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  // When the thread, asleep, will look at the queue again on its own;
  // InfinitePast while it is awake (it looks before sleeping).
  absl::Time wake_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<Key, Callback> timers_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace lienthong::resilience

#endif  // LIENTHONG_GATEWAY_RESILIENCE_TIMER_H_
