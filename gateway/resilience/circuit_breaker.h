// CircuitBreaker: stops calling a national system that is failing, so that
// callers fail fast instead of piling up on it, and probes it with a few calls
// before trusting it again.
//
//   CLOSED --(N consecutive failures, or failure ratio >= r over the window
//             with >= min_requests outcomes)--> OPEN
//   OPEN --(open_duration passed)--> HALF_OPEN
//   HALF_OPEN --(half_open_probes probes all succeed)--> CLOSED
//   HALF_OPEN --(any probe fails)--> OPEN
//
// Only upstream health counts, and the caller decides what that is: record a
// failure for connection failures, HTTP 5xx, SOAP server faults and timeouts;
// record a success for any proper answer, NOT_FOUND and a rejected request
// included; record nothing (drop the Admission) when the outcome says nothing
// about the upstream (the caller gave up, our own bug).
//
//   CircuitBreaker::Admission admission = breaker.Allow();
//   if (!admission) return done(breaker.OpenStatus());  // UNAVAILABLE
//   Call(..., [admission = std::move(admission)](absl::Status s) mutable {
//     admission.Record(!IsUpstreamFailure(s));
//   });
#ifndef LIENTHONG_GATEWAY_RESILIENCE_CIRCUIT_BREAKER_H_
#define LIENTHONG_GATEWAY_RESILIENCE_CIRCUIT_BREAKER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"

namespace lienthong::resilience {

enum class BreakerState { kClosed, kOpen, kHalfOpen };

// Returns "closed", "open" or "half_open" (for logs and metric labels).
absl::string_view BreakerStateName(BreakerState state);

struct CircuitBreakerOptions {
  // Opens after this many failures in a row; 0 disables the trigger. Keep it
  // high: with a share p of answers failing, a run of n happens about every
  // 1 / ((1-p) p^n) attempts (p = 0.3: n = 5 every ~600, n = 15 every ~10^8),
  // and a breaker that opens on a partly failing upstream fails every call
  // until all probes succeed. A full outage trips the ratio soon enough.
  int consecutive_failures = 15;
  // Opens when failures / outcomes >= failure_ratio over `window`, once the
  // window holds at least `min_requests` outcomes; 0 disables the trigger.
  // Small samples mislead: with 30% of answers failing, 20 outcomes reach
  // 50% failures about 5% of the time, 100 outcomes almost never.
  double failure_ratio = 0.5;
  int min_requests = 100;
  absl::Duration window = absl::Seconds(10);
  // How long OPEN fails calls fast before probing.
  absl::Duration open_duration = absl::Seconds(5);
  // Probe calls HALF_OPEN admits (at most this many at once, and this many
  // successes close the breaker).
  int half_open_probes = 3;
};

// Returns OK, or INVALID_ARGUMENT naming the first bad field. Thread-safe.
absl::Status ValidateCircuitBreakerOptions(
    const CircuitBreakerOptions& options);

// One breaker per national system. Thread-safe. Admissions share the
// breaker's state, so they may outlive the breaker object (a reload that
// replaces it while calls are in flight).
class CircuitBreaker {
 public:
  // Called on every state change, under the breaker's lock, so changes are
  // reported in order. It must be quick and must not call this breaker.
  using Listener = std::function<void(BreakerState from, BreakerState to)>;

  struct Counters {
    int64_t admitted = 0;
    int64_t rejected = 0;   // failed fast
    int64_t successes = 0;  // recorded, stale ones included
    int64_t failures = 0;
    int64_t opened = 0;  // transitions into OPEN
  };

  // The right to make one call. Move-only; falsy when the call was refused.
  // Record its outcome once; an admitted Admission destroyed unrecorded
  // frees its probe slot and counts as nothing. Outcomes of calls admitted
  // before the latest state change are counted but do not move the state.
  class Admission {
   public:
    Admission() = default;
    Admission(Admission&& other) noexcept;
    Admission& operator=(Admission&& other) noexcept;
    ~Admission();

    explicit operator bool() const { return core_ != nullptr; }

    // Records whether the upstream behaved. Thread-compatible (one owner).
    // REQUIRES: admitted and not yet recorded.
    void Record(bool success);

   private:
    friend class CircuitBreaker;
    struct Core;
    Admission(std::shared_ptr<Core> core, uint64_t generation)
        : core_(std::move(core)), generation_(generation) {}

    std::shared_ptr<Core> core_;
    uint64_t generation_ = 0;
  };

  // `system` names the national system in OpenStatus() and logs.
  // REQUIRES: ValidateCircuitBreakerOptions(options).ok(); `clock` outlives
  // the breaker and its admissions.
  CircuitBreaker(std::string system, CircuitBreakerOptions options,
                 Clock* clock = RealClock());
  ~CircuitBreaker();

  // Returns an admitted Admission when a call may go to the upstream now
  // (CLOSED, or HALF_OPEN with a free probe slot); a falsy one otherwise.
  // Moves OPEN to HALF_OPEN once open_duration has passed. Thread-safe.
  Admission Allow();

  // Returns the current state (OPEN turns HALF_OPEN here too once due).
  // Thread-safe.
  BreakerState state() const;

  // Returns the status for a refused call: UNAVAILABLE naming the system.
  // Thread-safe.
  absl::Status OpenStatus() const;

  // Replaces the state-change listener. Thread-safe.
  void SetListener(Listener listener);

  // Returns the totals since construction. Thread-safe.
  Counters counters() const;

  // Returns the national system's name given at construction. Thread-safe.
  const std::string& system() const;

 private:
  std::shared_ptr<Admission::Core> core_;
};

}  // namespace lienthong::resilience

#endif  // LIENTHONG_GATEWAY_RESILIENCE_CIRCUIT_BREAKER_H_
