// Retries of upstream calls: RetryPolicy (how often and how long to wait),
// RetryBudget (how many retries the upstream may be asked to absorb), and
// Retrier, which runs an asynchronous call under both without ever holding a
// thread while it waits.
//
//   Retrier retrier(policy, &timers, &budget);
//   retrier.Run(CallOptions{ctx.deadline, /*idempotent=*/true},
//       [](absl::Time attempt_deadline, Retrier::AttemptDone done) {
//         CallUpstream(attempt_deadline, [done = std::move(done)](
//             absl::Status s) mutable {
//           std::move(done)({s, IsRetriable(s), std::nullopt});
//         });
//       },
//       [](absl::Status status, int attempts) { ... });
#ifndef LIENTHONG_GATEWAY_RESILIENCE_RETRY_H_
#define LIENTHONG_GATEWAY_RESILIENCE_RETRY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gateway/resilience/rolling_window.h"
#include "gateway/resilience/timer.h"

namespace lienthong::resilience {

struct RetryPolicy {
  // Attempts in all, the first included; 1 disables retries.
  int max_attempts = 3;
  // The wait before retry n (n = 0 for the first retry) is uniform in
  // [0, min(max_backoff, initial_backoff * multiplier^n)] ("full jitter").
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  double multiplier = 2;
  // Each attempt's own deadline is min(call deadline, start + this); zero
  // means the call deadline only. Applies only to calls that may be retried
  // (idempotent, max_attempts > 1); the others keep the call deadline.
  absl::Duration per_try_timeout = absl::ZeroDuration();
};

// Returns OK, or INVALID_ARGUMENT naming the first bad field. Thread-safe.
absl::Status ValidateRetryPolicy(const RetryPolicy& policy);

// Returns the upper bound of the jittered wait before retry `retry` (0-based):
// min(max_backoff, initial_backoff * multiplier^retry). Thread-safe.
// REQUIRES: ValidateRetryPolicy(policy).ok(), retry >= 0.
absl::Duration BackoffCeiling(const RetryPolicy& policy, int retry);

struct RetryBudgetOptions {
  // Retries may be at most this share of requests over the window...
  double ratio = 0.2;
  // ...plus this many per second of window, so low traffic can still retry.
  double min_retries_per_second = 10;
  absl::Duration window = absl::Seconds(10);
};

// Returns OK, or INVALID_ARGUMENT naming the first bad field. Thread-safe.
absl::Status ValidateRetryBudgetOptions(const RetryBudgetOptions& options);

// A retry budget in the style of Finagle's RetryBudget and Envoy's
// retry_budget: within any window, retries <= ratio * requests +
// min_retries_per_second * window. It keeps retries from multiplying the load
// on a failing upstream: when every call fails, the upstream sees at most
// (1 + ratio) times the traffic plus the small floor. Share one budget per
// upstream. Thread-safe.
class RetryBudget {
 public:
  struct Counters {
    int64_t requests = 0;   // RecordRequest() calls
    int64_t retries = 0;    // successful withdrawals
    int64_t exhausted = 0;  // refused withdrawals
  };

  // REQUIRES: ValidateRetryBudgetOptions(options).ok(); `clock` outlives
  // the budget.
  explicit RetryBudget(RetryBudgetOptions options = {},
                       Clock* clock = RealClock());

  // Counts one logical request (not one attempt). Thread-safe.
  void RecordRequest();

  // Returns true, and counts a retry, when the budget allows one more retry
  // now; false otherwise. Thread-safe.
  bool TryWithdraw();

  // Returns the totals since construction. Thread-safe.
  Counters counters() const;

 private:
  static constexpr int kRequests = 0;
  static constexpr int kRetries = 1;

  const RetryBudgetOptions options_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  internal::RollingWindow window_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

struct CallOptions {
  // When the caller stops waiting. No attempt starts at or after it.
  absl::Time deadline = absl::InfiniteFuture();
  // Only idempotent (read-only) calls are retried: a write may have taken
  // effect upstream even though the attempt failed.
  bool idempotent = false;
};

// What one attempt reports.
struct AttemptOutcome {
  absl::Status status;
  // The failure is transient and the request may be sent again: connection
  // failure, HTTP 502/503/504, a "busy" SOAP fault. The caller decides
  // (adapters mark such statuses with adapters::MarkRetriable()).
  bool retriable = false;
  // The upstream's Retry-After, if it sent one.
  std::optional<absl::Duration> retry_after;
  // Refused before anything was sent (an open circuit breaker, the
  // in-flight cap): final, and not counted among the call's attempts.
  bool not_sent = false;
};

// Runs a call as a sequence of attempts. Thread-safe; one Retrier serves every
// call of a route.
class Retrier {
 public:
  // Reports the outcome of one attempt. Call exactly once, from any thread.
  using AttemptDone = absl::AnyInvocable<void(AttemptOutcome) &&>;
  // Starts one attempt that must answer by `attempt_deadline`; must not
  // block. A later attempt may start while an earlier one that timed out is
  // still outstanding upstream (its late outcome is ignored), so the
  // invocable may run again before an earlier AttemptDone was called.
  using Attempt =
      absl::AnyInvocable<void(absl::Time attempt_deadline, AttemptDone done)>;
  // Receives the final status and the number of attempts started.
  using Done = absl::AnyInvocable<void(absl::Status status, int attempts) &&>;

  struct Counters {
    int64_t calls = 0;
    int64_t attempts = 0;
    int64_t retries = 0;
    int64_t budget_exhausted = 0;  // retries the budget refused
  };

  // `budget` may be null (no budget). `seed` fixes the jitter sequence for
  // tests; without it the jitter is seeded randomly.
  // REQUIRES: ValidateRetryPolicy(policy).ok(); `timers`, `budget` and
  // `clock` outlive the Retrier, and the Retrier outlives every call it runs
  // (until its Done has run).
  Retrier(RetryPolicy policy, TimerQueue* timers, RetryBudget* budget,
          Clock* clock = RealClock(),
          std::optional<uint64_t> seed = std::nullopt);

  // Runs `attempt` until an attempt succeeds or the call must stop, then
  // calls `done` exactly once (from the thread of the last event: an
  // AttemptDone, a timer, or this call). An attempt failure is retried only
  // when the call is idempotent, the outcome is retriable, attempts remain,
  // the wait - max(jittered backoff, Retry-After) - ends before the
  // deadline, and the budget allows it; otherwise `done` gets that attempt's
  // status. `done` gets DEADLINE_EXCEEDED when the deadline passes before an
  // attempt could start or while an attempt is outstanding (the Retrier
  // watches each attempt's deadline itself; a per-try timeout counts as
  // retriable, the call deadline does not). It gets CANCELLED when the timer
  // queue shuts down during a wait or an attempt drops its AttemptDone
  // without calling it. Each call counts one request against the budget.
  // Thread-safe; returns without waiting for the upstream.
  void Run(const CallOptions& options, Attempt attempt, Done done);

  // Returns the totals since construction. Thread-safe.
  Counters counters() const;

 private:
  struct Call;

  void StartAttempt(const std::shared_ptr<Call>& call);
  void OnOutcome(const std::shared_ptr<Call>& call, int attempt,
                 AttemptOutcome outcome);
  absl::Duration JitteredBackoff(int retry);

  const RetryPolicy policy_;
  TimerQueue* const timers_;
  RetryBudget* const budget_;
  Clock* const clock_;
  absl::Mutex rng_mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(rng_mu_);
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> attempts_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> budget_exhausted_{0};
};

}  // namespace lienthong::resilience

#endif  // LIENTHONG_GATEWAY_RESILIENCE_RETRY_H_
