#include "gateway/resilience/retry.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace lienthong::resilience {

absl::Status ValidateRetryPolicy(const RetryPolicy& policy) {
  if (policy.max_attempts < 1) {
    return absl::InvalidArgumentError("retry max_attempts must be at least 1");
  }
  if (policy.initial_backoff < absl::ZeroDuration() ||
      policy.max_backoff < policy.initial_backoff) {
    return absl::InvalidArgumentError(
        "retry backoff must satisfy 0 <= initial_backoff <= max_backoff");
  }
  if (!(policy.multiplier >= 1)) {
    return absl::InvalidArgumentError("retry multiplier must be at least 1");
  }
  if (policy.per_try_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "retry per_try_timeout must not be negative");
  }
  return absl::OkStatus();
}

absl::Duration BackoffCeiling(const RetryPolicy& policy, int retry) {
  absl::Duration ceiling = policy.initial_backoff;
  for (int i = 0; i < retry && ceiling < policy.max_backoff; ++i) {
    ceiling = ceiling * policy.multiplier;
  }
  return std::min(ceiling, policy.max_backoff);
}

absl::Status ValidateRetryBudgetOptions(const RetryBudgetOptions& options) {
  if (!(options.ratio >= 0)) {
    return absl::InvalidArgumentError(
        "retry budget ratio must not be negative");
  }
  if (!(options.min_retries_per_second >= 0)) {
    return absl::InvalidArgumentError(
        "retry budget min_retries_per_second must not be negative");
  }
  if (options.window < absl::Milliseconds(100)) {
    return absl::InvalidArgumentError(
        "retry budget window must be at least 100ms");
  }
  return absl::OkStatus();
}

RetryBudget::RetryBudget(RetryBudgetOptions options, Clock* clock)
    : options_(options), clock_(clock), window_(options.window) {}

void RetryBudget::RecordRequest() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  window_.Add(now, kRequests);
  ++counters_.requests;
}

bool RetryBudget::TryWithdraw() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  const internal::RollingWindow::Counts sum = window_.Sum(now);
  const double allowed =
      options_.ratio * static_cast<double>(sum[kRequests]) +
      options_.min_retries_per_second * absl::ToDoubleSeconds(options_.window);
  if (static_cast<double>(sum[kRetries] + 1) > allowed) {
    ++counters_.exhausted;
    return false;
  }
  window_.Add(now, kRetries);
  ++counters_.retries;
  return true;
}

RetryBudget::Counters RetryBudget::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

// One call in progress. Shared by the pending AttemptDone, the watchdog and
// the retry timer; whichever drops the last reference of an unfinished call
// finishes it with CANCELLED, so Done runs exactly once.
struct Retrier::Call {
  Call(const CallOptions& options, Attempt attempt, Done done)
      : options(options), attempt(std::move(attempt)), done(std::move(done)) {}
  ~Call() {
    if (done != nullptr) {
      std::move(done)(
          absl::CancelledError("call abandoned: the timer queue shut down or "
                               "an attempt never reported"),
          attempts);
    }
  }

  // Takes `done` out if the call has not finished yet.
  Done TakeDone(int* attempts_out) {
    absl::MutexLock lock(&mu);
    Done taken = std::move(done);
    done = nullptr;
    *attempts_out = attempts;
    return taken;
  }

  const CallOptions options;
  Attempt attempt;
  absl::Mutex mu;
  Done done ABSL_GUARDED_BY(mu);
  int attempts ABSL_GUARDED_BY(mu) = 0;
  bool attempt_open ABSL_GUARDED_BY(mu) = false;
  TimerHandle watchdog ABSL_GUARDED_BY(mu);
};

namespace {

void Finish(Retrier::Done done, absl::Status status, int attempts) {
  if (done != nullptr) std::move(done)(std::move(status), attempts);
}

}  // namespace

Retrier::Retrier(RetryPolicy policy, TimerQueue* timers, RetryBudget* budget,
                 Clock* clock, std::optional<uint64_t> seed)
    : policy_(policy),
      timers_(timers),
      budget_(budget),
      clock_(clock),
      rng_(seed.has_value() ? *seed : absl::Uniform<uint64_t>(absl::BitGen())) {
}

void Retrier::Run(const CallOptions& options, Attempt attempt, Done done) {
  calls_.fetch_add(1, std::memory_order_relaxed);
  if (budget_ != nullptr) budget_->RecordRequest();
  StartAttempt(
      std::make_shared<Call>(options, std::move(attempt), std::move(done)));
}

void Retrier::StartAttempt(const std::shared_ptr<Call>& call) {
  const absl::Time now = clock_->Now();
  const absl::Time deadline = call->options.deadline;
  if (now >= deadline) {
    int attempts;
    Done done = call->TakeDone(&attempts);
    Finish(std::move(done),
           absl::DeadlineExceededError(
               attempts == 0 ? "deadline passed before the first attempt"
                             : "deadline passed while waiting to retry"),
           attempts);
    return;
  }
  absl::Time attempt_deadline = deadline;
  // A per-try timeout makes room for another attempt. A call that is never
  // retried keeps the whole deadline: ending its one attempt early fails the
  // caller while the upstream may still act on the request (a one-time code
  // consumed, an answer on its way).
  if (policy_.per_try_timeout > absl::ZeroDuration() &&
      call->options.idempotent && policy_.max_attempts > 1) {
    attempt_deadline = std::min(deadline, now + policy_.per_try_timeout);
  }
  int n;
  {
    absl::MutexLock lock(&call->mu);
    n = ++call->attempts;
    call->attempt_open = true;
    // The watchdog answers for an attempt that overruns its deadline, so the
    // caller hears back in time even from an adapter that hangs.
    if (attempt_deadline != absl::InfiniteFuture()) {
      const bool per_try = attempt_deadline < deadline;
      call->watchdog = timers_->Schedule(attempt_deadline, [this, call, n,
                                                            per_try] {
        OnOutcome(
            call, n,
            {absl::DeadlineExceededError(
                 per_try ? absl::StrCat("attempt ", n,
                                        " exceeded its per-try timeout")
                         : absl::StrCat("deadline exceeded in attempt ", n)),
             per_try, std::nullopt});
      });
    }
  }
  attempts_.fetch_add(1, std::memory_order_relaxed);
  call->attempt(attempt_deadline,
                [this, call, n](AttemptOutcome outcome) mutable {
                  OnOutcome(call, n, std::move(outcome));
                });
}

void Retrier::OnOutcome(const std::shared_ptr<Call>& call, int attempt,
                        AttemptOutcome outcome) {
  TimerHandle watchdog;
  {
    absl::MutexLock lock(&call->mu);
    if (attempt != call->attempts || !call->attempt_open) return;  // Late.
    call->attempt_open = false;
    watchdog = call->watchdog;
  }
  watchdog.Cancel();

  const absl::Time now = clock_->Now();
  bool retry = !outcome.status.ok() && !outcome.not_sent &&
               call->options.idempotent && outcome.retriable &&
               attempt < policy_.max_attempts;
  absl::Time next = now;
  if (retry) {
    absl::Duration wait = JitteredBackoff(attempt - 1);
    if (outcome.retry_after.has_value()) {
      wait = std::max(wait, *outcome.retry_after);
    }
    next = now + wait;
    // Never start an attempt at or after the deadline: it could not answer.
    retry = next < call->options.deadline;
  }
  if (retry && budget_ != nullptr && !budget_->TryWithdraw()) {
    budget_exhausted_.fetch_add(1, std::memory_order_relaxed);
    retry = false;
  }
  if (!retry) {
    int attempts;
    Done done = call->TakeDone(&attempts);
    if (outcome.not_sent && attempts > 0) {
      --attempts;
      attempts_.fetch_sub(1, std::memory_order_relaxed);
    }
    Finish(std::move(done), std::move(outcome.status), attempts);
    return;
  }
  retries_.fetch_add(1, std::memory_order_relaxed);
  // If the queue has shut down the closure is dropped and ~Call reports
  // CANCELLED once the last reference goes.
  timers_->Schedule(next, [this, call] { StartAttempt(call); });
}

absl::Duration Retrier::JitteredBackoff(int retry) {
  const absl::Duration ceiling = BackoffCeiling(policy_, retry);
  double u;
  {
    absl::MutexLock lock(&rng_mu_);
    u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  }
  return ceiling * u;
}

Retrier::Counters Retrier::counters() const {
  Counters counters;
  counters.calls = calls_.load(std::memory_order_relaxed);
  counters.attempts = attempts_.load(std::memory_order_relaxed);
  counters.retries = retries_.load(std::memory_order_relaxed);
  counters.budget_exhausted = budget_exhausted_.load(std::memory_order_relaxed);
  return counters;
}

}  // namespace lienthong::resilience
