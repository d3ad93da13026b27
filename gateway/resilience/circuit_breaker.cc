#include "gateway/resilience/circuit_breaker.h"

#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/resilience/rolling_window.h"

namespace lienthong::resilience {

absl::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

absl::Status ValidateCircuitBreakerOptions(
    const CircuitBreakerOptions& options) {
  if (options.consecutive_failures < 0) {
    return absl::InvalidArgumentError(
        "circuit breaker consecutive_failures must not be negative");
  }
  if (!(options.failure_ratio >= 0 && options.failure_ratio <= 1)) {
    return absl::InvalidArgumentError(
        "circuit breaker failure_ratio must be in [0, 1]");
  }
  if (options.min_requests < 1) {
    return absl::InvalidArgumentError(
        "circuit breaker min_requests must be at least 1");
  }
  if (options.window < absl::Milliseconds(100)) {
    return absl::InvalidArgumentError(
        "circuit breaker window must be at least 100ms");
  }
  if (options.open_duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "circuit breaker open_duration must be positive");
  }
  if (options.half_open_probes < 1) {
    return absl::InvalidArgumentError(
        "circuit breaker half_open_probes must be at least 1");
  }
  return absl::OkStatus();
}

struct CircuitBreaker::Admission::Core {
  Core(std::string system, CircuitBreakerOptions options, Clock* clock)
      : system(std::move(system)),
        options(options),
        clock(clock),
        window(options.window) {}

  // Moves OPEN to HALF_OPEN once its time is up. A clock stepped back
  // behind the opening counts the open time from the new time, not from
  // the old one coming round again (an hour of refusals after an NTP step).
  void Refresh(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (state == BreakerState::kOpen && now < opened_at) opened_at = now;
    if (state == BreakerState::kOpen &&
        now >= opened_at + options.open_duration) {
      TransitionTo(BreakerState::kHalfOpen, now);
    }
  }

  void TransitionTo(BreakerState to, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const BreakerState from = state;
    state = to;
    ++generation;  // Outcomes of calls admitted before this no longer count.
    consecutive_failures = 0;
    probes_in_flight = 0;
    probe_successes = 0;
    window.Clear();
    if (to == BreakerState::kOpen) {
      opened_at = now;
      ++counters.opened;
    }
    if (listener) listener(from, to);
  }

  // `success` empty: the admission was dropped unrecorded.
  void Finish(uint64_t admitted_in, std::optional<bool> success) {
    const absl::Time now = clock->Now();
    absl::MutexLock lock(&mu);
    if (success.has_value())
      ++(*success ? counters.successes : counters.failures);
    if (admitted_in != generation) return;
    if (state == BreakerState::kHalfOpen) {
      --probes_in_flight;
      if (!success.has_value()) return;
      if (!*success) {
        TransitionTo(BreakerState::kOpen, now);
      } else if (++probe_successes >= options.half_open_probes) {
        TransitionTo(BreakerState::kClosed, now);
      }
      return;
    }
    if (state != BreakerState::kClosed || !success.has_value()) return;
    window.Add(now, *success ? 0 : 1);
    consecutive_failures = *success ? 0 : consecutive_failures + 1;
    const internal::RollingWindow::Counts sum = window.Sum(now);
    const int64_t outcomes = sum[0] + sum[1];
    const bool by_count = options.consecutive_failures > 0 &&
                          consecutive_failures >= options.consecutive_failures;
    const bool by_ratio =
        options.failure_ratio > 0 && outcomes >= options.min_requests &&
        static_cast<double>(sum[1]) >=
            options.failure_ratio * static_cast<double>(outcomes);
    if (by_count || by_ratio) TransitionTo(BreakerState::kOpen, now);
  }

  const std::string system;
  const CircuitBreakerOptions options;
  Clock* const clock;
  absl::Mutex mu;
  BreakerState state ABSL_GUARDED_BY(mu) = BreakerState::kClosed;
  uint64_t generation ABSL_GUARDED_BY(mu) = 0;
  absl::Time opened_at ABSL_GUARDED_BY(mu);
  int consecutive_failures ABSL_GUARDED_BY(mu) = 0;
  int probes_in_flight ABSL_GUARDED_BY(mu) = 0;
  int probe_successes ABSL_GUARDED_BY(mu) = 0;
  internal::RollingWindow window ABSL_GUARDED_BY(mu);
  Listener listener ABSL_GUARDED_BY(mu);
  Counters counters ABSL_GUARDED_BY(mu);
};

CircuitBreaker::Admission::Admission(Admission&& other) noexcept
    : core_(std::move(other.core_)), generation_(other.generation_) {}

CircuitBreaker::Admission& CircuitBreaker::Admission::operator=(
    Admission&& other) noexcept {
  if (this != &other) {
    if (core_ != nullptr) core_->Finish(generation_, std::nullopt);
    core_ = std::move(other.core_);
    generation_ = other.generation_;
  }
  return *this;
}

CircuitBreaker::Admission::~Admission() {
  if (core_ != nullptr) core_->Finish(generation_, std::nullopt);
}

void CircuitBreaker::Admission::Record(bool success) {
  if (core_ == nullptr) return;
  core_->Finish(generation_, success);
  core_.reset();
}

CircuitBreaker::CircuitBreaker(std::string system,
                               CircuitBreakerOptions options, Clock* clock)
    : core_(std::make_shared<Admission::Core>(std::move(system), options,
                                              clock)) {}

CircuitBreaker::~CircuitBreaker() = default;

CircuitBreaker::Admission CircuitBreaker::Allow() {
  const absl::Time now = core_->clock->Now();
  absl::MutexLock lock(&core_->mu);
  core_->Refresh(now);
  bool admit = core_->state == BreakerState::kClosed;
  if (core_->state == BreakerState::kHalfOpen &&
      core_->probes_in_flight + core_->probe_successes <
          core_->options.half_open_probes) {
    ++core_->probes_in_flight;
    admit = true;
  }
  ++(admit ? core_->counters.admitted : core_->counters.rejected);
  return admit ? Admission(core_, core_->generation) : Admission();
}

BreakerState CircuitBreaker::state() const {
  const absl::Time now = core_->clock->Now();
  absl::MutexLock lock(&core_->mu);
  core_->Refresh(now);
  return core_->state;
}

absl::Status CircuitBreaker::OpenStatus() const {
  return absl::UnavailableError(
      absl::StrCat("national system ", core_->system,
                   " is unavailable (circuit breaker open); try again later"));
}

void CircuitBreaker::SetListener(Listener listener) {
  absl::MutexLock lock(&core_->mu);
  core_->listener = std::move(listener);
}

CircuitBreaker::Counters CircuitBreaker::counters() const {
  absl::MutexLock lock(&core_->mu);
  return core_->counters;
}

const std::string& CircuitBreaker::system() const { return core_->system; }

}  // namespace lienthong::resilience
