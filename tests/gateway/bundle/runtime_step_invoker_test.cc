// RuntimeStepInvoker: agency steps through the runtime's guards, and a call
// that outlives the invoker (a stop gives running steps a grace period only).
#include "gateway/bundle/runtime_step_invoker.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "gateway/resilience/circuit_breaker.h"
#include "gateway/resilience/rate_limiter.h"
#include "gtest/gtest.h"

namespace lienthong::bundle {
namespace {

using adapters::Callback;
using adapters::StepOutcome;

// An agency that keeps each call's callback until the test answers it.
class ParkingAgency final : public adapters::Adapter,
                            public adapters::AgencyStepAdapter {
 public:
  adapters::AgencyStepAdapter* agency_step() override { return this; }
  const std::vector<adapters::StepOperation>& operations() const override {
    return operations_;
  }
  void Execute(const adapters::StepRequest& request,
               const adapters::CallContext& context,
               Callback<StepOutcome> done) override {
    absl::MutexLock lock(&mu_);
    parked_.push_back(std::move(done));
  }
  // Waits for the next call and returns its callback.
  Callback<StepOutcome> Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::vector<Callback<StepOutcome>>* p) { return !p->empty(); },
        &parked_));
    Callback<StepOutcome> done = std::move(parked_.front());
    parked_.erase(parked_.begin());
    return done;
  }

 private:
  const std::vector<adapters::StepOperation> operations_{
      {"register_birth", {"name"}, {}, {"certificate"}}};
  absl::Mutex mu_;
  std::vector<Callback<StepOutcome>> parked_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<const server::Runtime> RuntimeWith(ParkingAgency* agency) {
  auto runtime = std::make_shared<server::Runtime>();
  runtime->adapters_by_name.emplace("civil", agency);
  auto guard = std::make_shared<server::UpstreamGuard>();
  guard->system = "civil";
  guard->breaker = std::make_unique<resilience::CircuitBreaker>(
      "civil", resilience::CircuitBreakerOptions{});
  guard->in_flight = std::make_unique<resilience::ConcurrencyLimiter>(8);
  guard->budget = std::make_unique<resilience::RetryBudget>();
  runtime->guards.emplace("civil", std::move(guard));
  return runtime;
}

adapters::StepRequest BirthStep() {
  adapters::StepRequest request;
  request.operation = "register_birth";
  request.inputs["name"] = "Trần Thị Mai";  // synthetic
  request.idempotency_key = "bundle-1-step-0-g1";
  return request;
}

adapters::CallContext WithinSeconds(int seconds) {
  adapters::CallContext context;
  context.deadline = absl::Now() + absl::Seconds(seconds);
  return context;
}

TEST(RuntimeStepInvokerTest, AnAnswerAfterTheInvokerIsGoneEndsTheCallOnce) {
  ParkingAgency agency;
  std::shared_ptr<const server::Runtime> runtime = RuntimeWith(&agency);
  resilience::RetryPolicy policy;
  policy.max_attempts = 3;
  auto invoker = std::make_unique<RuntimeStepInvoker>(
      [runtime] { return runtime; }, policy);

  absl::Mutex mu;
  int answers = 0;
  std::optional<absl::Status> status;
  absl::Notification answered;
  invoker->Invoke("civil", BirthStep(), WithinSeconds(30),
                  [&](absl::StatusOr<StepOutcome> outcome, int attempts) {
                    absl::MutexLock lock(&mu);
                    ++answers;
                    status = outcome.status();
                    answered.Notify();
                  });
  Callback<StepOutcome> first = agency.Next();
  // The gateway stops: the invoker goes while the agency still has the step.
  invoker.reset();
  // A retriable failure would schedule a retry on the invoker's timer queue.
  std::move(first)(adapters::MarkRetriable(
      absl::UnavailableError("civil status registry is busy")));
  first = nullptr;  // as an adapter lets go of a callback it has called
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(answers, 1);
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->ok());
}

TEST(RuntimeStepInvokerTest, AStepIsSentAgainAfterARetriableFailure) {
  ParkingAgency agency;
  std::shared_ptr<const server::Runtime> runtime = RuntimeWith(&agency);
  resilience::RetryPolicy policy;
  policy.max_attempts = 2;
  RuntimeStepInvoker invoker([runtime] { return runtime; }, policy);
  absl::Notification answered;
  absl::StatusOr<StepOutcome> result = absl::UnknownError("not answered");
  int attempts_seen = 0;
  invoker.Invoke("civil", BirthStep(), WithinSeconds(30),
                 [&](absl::StatusOr<StepOutcome> outcome, int attempts) {
                   result = std::move(outcome);
                   attempts_seen = attempts;
                   answered.Notify();
                 });
  std::move(agency.Next())(adapters::MarkRetriable(
      absl::UnavailableError("civil status registry is busy")));
  StepOutcome done;
  done.outputs["certificate"] = "KS-2026-000123";
  std::move(agency.Next())(adapters::Reply<StepOutcome>{done, "ref-1"});
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outputs.at("certificate"), "KS-2026-000123");
  EXPECT_EQ(attempts_seen, 2);
}

}  // namespace
}  // namespace lienthong::bundle
