// The gateway's path for one adapter call (gateway/server/resilient_call.h):
// what its circuit breaker learns from each outcome, and what it retries.
#include "gateway/server/resilient_call.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "adapters/common/retriable.h"
#include "gtest/gtest.h"

namespace lienthong::server {
namespace {

using adapters::Callback;
using adapters::CallContext;
using adapters::Reply;
using resilience::BreakerState;

struct Path {
  resilience::FakeClock clock;
  resilience::TimerQueue timers;
  resilience::RetryBudget budget{resilience::RetryBudgetOptions{}};
  resilience::Retrier retrier{resilience::RetryPolicy{}, &timers, &budget};
  UpstreamGuard guard;

  Path() {
    resilience::CircuitBreakerOptions options;
    options.consecutive_failures = 1;
    options.open_duration = absl::Seconds(5);
    options.half_open_probes = 1;
    guard.system = "population";
    guard.breaker = std::make_unique<resilience::CircuitBreaker>(
        "population", options, &clock);
    guard.in_flight = std::make_unique<resilience::ConcurrencyLimiter>(10);
  }
  ~Path() { timers.Shutdown(); }

  // What one call came to.
  struct Outcome {
    absl::Status status;
    int attempts = -1;
  };

  // One call through `call_retrier`, its adapter's attempts made by
  // `invoke`; waits for its answer.
  template <typename Invoke>
  Outcome Run(resilience::Retrier& call_retrier, bool idempotent,
              Invoke invoke) {
    absl::Notification done;
    Outcome outcome;
    CallContext context;
    context.deadline = absl::Now() + absl::Seconds(10);
    ResilientCall<int>(call_retrier, guard, context, idempotent,
                       /*owner=*/nullptr, std::move(invoke),
                       [&](absl::StatusOr<Reply<int>> reply, int attempts) {
                         outcome = {reply.status(), attempts};
                         done.Notify();
                       });
    done.WaitForNotification();
    return outcome;
  }

  // One call (not idempotent: one attempt) whose adapter answers `outcome`.
  absl::Status Call(absl::Status outcome) {
    return Run(retrier, /*idempotent=*/false,
               [outcome](const CallContext&, Callback<int> callback) {
                 if (outcome.ok()) {
                   std::move(callback)(Reply<int>{1, ""});
                 } else {
                   std::move(callback)(outcome);
                 }
               })
        .status;
  }

  // Opens the breaker, then lets its open time pass: the next call probes.
  void HalfOpen() {
    EXPECT_TRUE(absl::IsUnavailable(Call(absl::UnavailableError("down"))));
    ASSERT_EQ(guard.breaker->state(), BreakerState::kOpen);
    clock.Advance(absl::Seconds(6));
  }
};

TEST(ResilientCallTest,
     ARefusalTheAdapterMadeWithoutSendingLeavesTheBreakerAsItWas) {
  Path path;
  path.HalfOpen();
  // The probe's request never reached the system: it says nothing of its
  // health, so it neither closes the breaker nor opens it again.
  EXPECT_TRUE(absl::IsInvalidArgument(path.Call(
      adapters::MarkNotSent(absl::InvalidArgumentError("no such record")))));
  EXPECT_EQ(path.guard.breaker->state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(absl::IsInternal(
      path.Call(adapters::MarkNotSent(absl::InternalError("cannot encode")))));
  EXPECT_EQ(path.guard.breaker->state(), BreakerState::kHalfOpen);
  // The next probe that does reach it decides.
  EXPECT_TRUE(path.Call(absl::OkStatus()).ok());
  EXPECT_EQ(path.guard.breaker->state(), BreakerState::kClosed);
}

TEST(ResilientCallTest, TheSystemsOwnRefusalIsAHealthyAnswer) {
  Path path;
  path.HalfOpen();
  EXPECT_TRUE(absl::IsInvalidArgument(
      path.Call(absl::InvalidArgumentError("the system refused it"))));
  EXPECT_EQ(path.guard.breaker->state(), BreakerState::kClosed);
}

// An attempt cut short by the per-try timeout is retried whichever timer
// ends it: the retrier's watchdog, or (here) the adapter's own, which for
// the HTTP client often fires first and reports a plain DEADLINE_EXCEEDED.
// The call's own deadline passing is final.
TEST(ResilientCallTest, AnAdaptersPerTryTimeoutIsRetriedLikeTheWatchdogs) {
  struct Case {
    std::string name;
    absl::Duration per_try_timeout;
    absl::StatusCode want_code;
    int want_attempts;
  };
  const Case kCases[] = {
      {"per-try deadline", absl::Milliseconds(200), absl::StatusCode::kOk, 2},
      {"the call's deadline", absl::ZeroDuration(),
       absl::StatusCode::kDeadlineExceeded, 1},
  };
  for (const Case& c : kCases) {
    Path path;
    // Defaults: one failure does not open it.
    path.guard.breaker = std::make_unique<resilience::CircuitBreaker>(
        "population", resilience::CircuitBreakerOptions{}, &path.clock);
    resilience::RetryPolicy policy;
    policy.max_attempts = 2;
    policy.per_try_timeout = c.per_try_timeout;
    resilience::Retrier retrier(policy, &path.timers, &path.budget);
    std::atomic<int> calls{0};
    const Path::Outcome outcome = path.Run(
        retrier, /*idempotent=*/true,
        [&calls](const CallContext&, Callback<int> callback) {
          if (calls.fetch_add(1) == 0) {
            // Marked retriable, as the HTTP adapters mark a timeout: on the
            // call's own deadline it is still not tried again.
            std::move(callback)(
                adapters::MarkRetriable(absl::DeadlineExceededError(
                    "upstream did not answer in time")));
          } else {
            std::move(callback)(Reply<int>{2, ""});
          }
        });
    EXPECT_EQ(outcome.status.code(), c.want_code)
        << c.name << ": " << outcome.status;
    EXPECT_EQ(outcome.attempts, c.want_attempts) << c.name;
  }
}

// An attempt the open breaker refuses is not sent: it is not counted, so
// neither the audit record nor the retry metric shows a retry that never
// happened.
TEST(ResilientCallTest, AnAttemptTheOpenBreakerRefusedIsNotCounted) {
  Path path;  // opens after one failure
  resilience::RetryPolicy policy;
  policy.max_attempts = 3;
  policy.initial_backoff = absl::ZeroDuration();
  policy.max_backoff = absl::ZeroDuration();
  resilience::Retrier retrier(policy, &path.timers, &path.budget);
  auto run = [&](std::atomic<int>& sent) {
    const Path::Outcome outcome =
        path.Run(retrier, /*idempotent=*/true,
                 [&sent](const CallContext&, Callback<int> callback) {
                   sent.fetch_add(1);
                   std::move(callback)(
                       adapters::MarkRetriable(absl::UnavailableError("down")));
                 });
    EXPECT_TRUE(absl::IsUnavailable(outcome.status)) << outcome.status;
    return outcome.attempts;
  };
  std::atomic<int> sent{0};
  EXPECT_EQ(run(sent), 1);  // the second attempt met the open breaker
  EXPECT_EQ(sent.load(), 1);
  EXPECT_EQ(run(sent), 0);  // the first did
  EXPECT_EQ(sent.load(), 1);
}

// An attempt its adapter (or the call path, for a caller that cancelled
// during the backoff) refused before sending anything is not counted
// either.
TEST(ResilientCallTest, AnAttemptRefusedBeforeItWasSentIsNotCounted) {
  Path path;
  path.guard.breaker = std::make_unique<resilience::CircuitBreaker>(
      "population", resilience::CircuitBreakerOptions{}, &path.clock);
  resilience::RetryPolicy policy;
  policy.max_attempts = 3;
  policy.initial_backoff = absl::ZeroDuration();
  policy.max_backoff = absl::ZeroDuration();
  resilience::Retrier retrier(policy, &path.timers, &path.budget);
  std::atomic<int> calls{0};
  const Path::Outcome outcome = path.Run(
      retrier, /*idempotent=*/true,
      [&calls](const CallContext&, Callback<int> callback) {
        if (calls.fetch_add(1) == 0) {
          std::move(callback)(
              adapters::MarkRetriable(absl::UnavailableError("down")));
        } else {
          std::move(callback)(adapters::MarkNotSent(
              absl::CancelledError("the caller cancelled the call")));
        }
      });
  EXPECT_TRUE(absl::IsCancelled(outcome.status)) << outcome.status;
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(outcome.attempts, 1);
}

}  // namespace
}  // namespace lienthong::server
