// The building blocks composed the way the gateway wraps one adapter call
// (Retrier around CircuitBreaker and ConcurrencyLimiter around the upstream
// call), run against a fake asynchronous national system in simulated time.
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gateway/resilience/circuit_breaker.h"
#include "gateway/resilience/clock.h"
#include "gateway/resilience/rate_limiter.h"
#include "gateway/resilience/retry.h"
#include "gateway/resilience/timer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/resilience/simulation.h"

namespace lienthong::resilience {
namespace {

// A national system that answers after 5-50 ms, fails a share of calls with
// "503" (UNAVAILABLE), refuses connections when down, and answers
// DEADLINE_EXCEEDED at the attempt's deadline if that comes first.
class FakeUpstream {
 public:
  FakeUpstream(Clock* clock, TimerQueue* timers, uint64_t seed)
      : clock_(clock), timers_(timers), rng_(seed) {}

  void Call(absl::Time deadline,
            absl::AnyInvocable<void(absl::Status) &&> done) {
    ++calls_;
    absl::Time at = clock_->Now() + absl::Milliseconds(1);
    absl::Status status = absl::UnavailableError("connection refused");
    if (!down_) {
      at = clock_->Now() +
           absl::Milliseconds(std::uniform_int_distribution<int>(5, 50)(rng_));
      const bool fail = std::bernoulli_distribution(failure_share_)(rng_);
      status = fail ? absl::UnavailableError("HTTP 503") : absl::OkStatus();
    }
    if (at > deadline) {
      at = deadline;
      status = absl::DeadlineExceededError("upstream too slow");
    }
    timers_->Schedule(at, [done = std::move(done), status]() mutable {
      std::move(done)(status);
    });
  }

  void set_failure_share(double share) { failure_share_ = share; }
  void set_down(bool down) { down_ = down; }
  int calls() const { return calls_; }

 private:
  Clock* const clock_;
  TimerQueue* const timers_;
  std::mt19937_64 rng_;
  double failure_share_ = 0;
  bool down_ = false;
  int calls_ = 0;
};

struct Route {
  Retrier* retrier;
  CircuitBreaker* breaker;
  ConcurrencyLimiter* in_flight;
  FakeUpstream* upstream;
};

// What the breaker counts as the upstream failing (the caller's decision).
bool UpstreamFailed(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

// The wiring under test: each attempt passes the breaker and the in-flight
// cap; refusals there are final (retrying them would only wait out the
// deadline); upstream 503s are retriable (adapters::IsRetriable in the
// gateway).
void CallThroughRoute(const Route& route, absl::Time deadline,
                      Retrier::Done done) {
  route.retrier->Run(
      CallOptions{deadline, /*idempotent=*/true},
      [route](absl::Time attempt_deadline, Retrier::AttemptDone attempt_done) {
        CircuitBreaker::Admission admission = route.breaker->Allow();
        if (!admission) {
          std::move(attempt_done)(
              {route.breaker->OpenStatus(), false, std::nullopt});
          return;
        }
        std::optional<ConcurrencyLimiter::Permit> permit =
            route.in_flight->TryAcquire();
        if (!permit.has_value()) {
          std::move(attempt_done)(
              {absl::UnavailableError("too many calls in flight to population"),
               false, std::nullopt});
          return;
        }
        route.upstream->Call(attempt_deadline, [admission =
                                                    std::move(admission),
                                                permit = std::move(*permit),
                                                attempt_done =
                                                    std::move(attempt_done)](
                                                   absl::Status
                                                       status) mutable {
          admission.Record(!UpstreamFailed(status));
          const bool retriable =
              status.code() == absl::StatusCode::kUnavailable;
          std::move(attempt_done)({std::move(status), retriable, std::nullopt});
        });
      },
      std::move(done));
}

struct CallRecord {
  absl::Time start;
  absl::Time deadline;
  bool done = false;
  absl::Time done_at;
  absl::Status status;
  int attempts = 0;
};

class SimulationTest : public ::testing::Test {
 protected:
  // Starts `n` calls `spacing` apart from now, each with `timeout`.
  void StartCalls(const Route& route, int n, absl::Duration spacing,
                  absl::Duration timeout) {
    calls_.resize(n);
    const absl::Time t0 = clock_.Now();
    for (int i = 0; i < n; ++i) {
      timers_.Schedule(t0 + i * spacing, [this, route, i, timeout] {
        CallRecord& call = calls_[i];
        call.start = clock_.Now();
        call.deadline = call.start + timeout;
        CallThroughRoute(route, call.deadline,
                         [this, &call](absl::Status status, int attempts) {
                           call.done = true;
                           call.done_at = clock_.Now();
                           call.status = std::move(status);
                           call.attempts = attempts;
                         });
      });
    }
  }

  FakeClock clock_;
  TimerQueue timers_{&clock_, TimerQueue::Mode::kManual};
  std::vector<CallRecord> calls_;
};

// Issue 3's first "must show", at unit level: with 30% of answers failing
// with 503, at least 99.9% of 2,000 read calls succeed within their deadline
// and retries stay within the budget. It takes max_attempts 8: with the
// default 3 at most 1 - 0.3^3 = 97.3% can succeed; with 7, 2000 * 0.3^7 = 0.4
// calls fail on average and a run misses 99.9% about 1% of the time; with 8,
// 0.13 and 0.03%. The rate is 20 calls/s: retries need ~0.43 per call, which
// the 20% ratio plus the 10/s floor covers up to ~45 calls/s. The breaker
// keeps its defaults, which are chosen for this: with consecutive_failures
// = 5, chance runs of five 503s would open it a few times per run, and with
// min_requests = 20 a chance 50% among the first 20 outcomes would; each
// opening fails calls for 5-15 s (all 3 probes must succeed: 0.7^3 = 34% per
// half-open).
TEST_F(SimulationTest, ThirtyPercentFailuresStillServeNearlyEveryCall) {
  RetryPolicy policy;
  policy.max_attempts = 8;
  policy.initial_backoff = absl::Milliseconds(25);
  policy.max_backoff = absl::Milliseconds(250);
  policy.per_try_timeout = absl::Milliseconds(500);
  RetryBudgetOptions budget_options;
  RetryBudget budget(budget_options, &clock_);
  Retrier retrier(policy, &timers_, &budget, &clock_, 2025);
  CircuitBreaker breaker("population", CircuitBreakerOptions{}, &clock_);
  ConcurrencyLimiter in_flight(64);
  FakeUpstream upstream(&clock_, &timers_, 33);
  upstream.set_failure_share(0.3);

  constexpr int kCalls = 2000;
  const absl::Duration kSpacing = absl::Milliseconds(50);
  StartCalls({&retrier, &breaker, &in_flight, &upstream}, kCalls, kSpacing,
             absl::Seconds(2));
  sim::RunUntil(clock_, timers_);

  int ok = 0;
  for (const CallRecord& call : calls_) {
    ASSERT_TRUE(call.done);
    EXPECT_LE(call.done_at, call.deadline);
    if (call.status.ok()) ++ok;
  }
  EXPECT_GE(ok, kCalls * 999 / 1000);
  const int64_t retries = retrier.counters().retries;
  EXPECT_EQ(upstream.calls(), kCalls + retries);
  EXPECT_LE(retries, budget_options.ratio * kCalls +
                         budget_options.min_retries_per_second *
                             absl::ToDoubleSeconds(kCalls * kSpacing +
                                                   budget_options.window));
  EXPECT_EQ(budget.counters().retries, retries);
  EXPECT_EQ(breaker.counters().opened, 0);
  EXPECT_EQ(in_flight.counters().in_flight, 0);
  RecordProperty("ok", ok);
  RecordProperty("retries", static_cast<int>(retries));
}

// Issue 3's second "must show", at unit level: with the national system down
// the breaker opens and later calls fail fast, naming the system; once it is
// back, calls succeed again without anything being rebuilt.
TEST_F(SimulationTest, OutageOpensTheBreakerAndRecoveryClosesIt) {
  RetryBudget budget(RetryBudgetOptions{}, &clock_);
  Retrier retrier(RetryPolicy{}, &timers_, &budget, &clock_, 7);
  CircuitBreakerOptions
      breaker_options;  // 15 in a row or 50% of 100+, 5 s, 3 probes
  CircuitBreaker breaker("population", breaker_options, &clock_);
  ConcurrencyLimiter in_flight(64);
  FakeUpstream upstream(&clock_, &timers_, 1);
  upstream.set_down(true);

  const absl::Time t0 = clock_.Now();
  const absl::Time back_up = t0 + absl::Seconds(30);
  timers_.Schedule(back_up, [&] { upstream.set_down(false); });
  int upstream_calls_in_outage = 0;
  timers_.Schedule(back_up,
                   [&] { upstream_calls_in_outage = upstream.calls(); });
  StartCalls({&retrier, &breaker, &in_flight, &upstream}, 600,
             absl::Milliseconds(100), absl::Seconds(1));
  sim::RunUntil(clock_, timers_);

  int during = 0, fast = 0;
  for (const CallRecord& call : calls_) {
    ASSERT_TRUE(call.done);
    if (call.start >= t0 + absl::Seconds(1) && call.done_at < back_up) {
      ++during;
      EXPECT_FALSE(call.status.ok());
      if (call.done_at - call.start < absl::Milliseconds(5)) {
        ++fast;
        EXPECT_THAT(call.status.message(), ::testing::HasSubstr("population"));
      }
    }
    if (call.start >= back_up + breaker_options.open_duration) {
      EXPECT_TRUE(call.status.ok()) << call.status;
    }
  }
  ASSERT_GT(during, 250);
  EXPECT_GE(fast, during * 95 / 100);
  // 15 failures open it; then each 5 s open period lets one probe through.
  EXPECT_LT(upstream_calls_in_outage, 40);
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
  RecordProperty("calls_in_outage", during);
  RecordProperty("failed_fast", fast);
  RecordProperty("upstream_calls_in_outage", upstream_calls_in_outage);
}

}  // namespace
}  // namespace lienthong::resilience
