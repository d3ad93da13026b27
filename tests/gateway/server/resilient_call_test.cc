// The gateway's path for one adapter call (gateway/server/resilient_call.h):
// what its circuit breaker learns from each outcome.
#include "gateway/server/resilient_call.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
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

  // One call (not idempotent: one attempt) whose adapter answers `outcome`.
  absl::Status Call(absl::Status outcome) {
    absl::Notification done;
    absl::Status result;
    CallContext context;
    context.deadline = absl::Now() + absl::Seconds(10);
    ResilientCall<int>(
        retrier, guard, context, /*idempotent=*/false, /*owner=*/nullptr,
        [outcome](const CallContext&, Callback<int> callback) {
          if (outcome.ok()) {
            std::move(callback)(Reply<int>{1, ""});
          } else {
            std::move(callback)(outcome);
          }
        },
        [&](absl::StatusOr<Reply<int>> reply, int) {
          result = reply.status();
          done.Notify();
        });
    done.WaitForNotification();
    return result;
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

}  // namespace
}  // namespace lienthong::server
