// Drives a manual TimerQueue as a discrete-event simulation: the fake clock
// jumps from one timer to the next, so tests run hours of backoff in
// microseconds, with no sleeps and no dependence on the machine's speed.
#ifndef LIENTHONG_TESTS_GATEWAY_RESILIENCE_SIMULATION_H_
#define LIENTHONG_TESTS_GATEWAY_RESILIENCE_SIMULATION_H_

#include <optional>

#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gateway/resilience/timer.h"

namespace lienthong::resilience::sim {

// Runs every timer due no later than `until`, in time order, moving `clock`
// to each; then moves the clock to `until` if that is finite and later.
inline void RunUntil(FakeClock& clock, TimerQueue& timers,
                     absl::Time until = absl::InfiniteFuture()) {
  for (std::optional<absl::Time> next = timers.NextTimerTime();
       next.has_value() && *next <= until; next = timers.NextTimerTime()) {
    if (*next > clock.Now()) clock.SetTime(*next);
    timers.RunDue();
  }
  if (until != absl::InfiniteFuture() && until > clock.Now()) {
    clock.SetTime(until);
  }
}

}  // namespace lienthong::resilience::sim

#endif  // LIENTHONG_TESTS_GATEWAY_RESILIENCE_SIMULATION_H_
