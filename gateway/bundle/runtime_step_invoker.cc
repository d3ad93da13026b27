#include "gateway/bundle/runtime_step_invoker.h"

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/server/resilient_call.h"

namespace lienthong::bundle {

RuntimeStepInvoker::RuntimeStepInvoker(RuntimeSource runtime,
                                       resilience::RetryPolicy policy)
    : runtime_(std::move(runtime)),
      policy_(policy),
      timers_(std::make_shared<resilience::TimerQueue>()) {}

RuntimeStepInvoker::~RuntimeStepInvoker() {
  // Joins the timer thread here, not wherever the last call lets go of the
  // queue (that could be the timer thread itself); a call answered later
  // finds the queue shut down: nothing left to cancel, nothing scheduled.
  timers_->Shutdown();
}

absl::StatusOr<std::vector<adapters::StepOperation>>
RuntimeStepInvoker::Operations(absl::string_view adapter) const {
  std::shared_ptr<const server::Runtime> runtime = runtime_();
  auto it = runtime->adapters_by_name.find(adapter);
  if (it == runtime->adapters_by_name.end()) {
    return absl::NotFoundError(
        absl::StrCat("no adapter named '", adapter, "'"));
  }
  adapters::AgencyStepAdapter* agency = it->second->agency_step();
  if (agency == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("adapter '", adapter, "' offers no agency steps"));
  }
  return agency->operations();
}

void RuntimeStepInvoker::Invoke(absl::string_view adapter,
                                adapters::StepRequest request,
                                const adapters::CallContext& context,
                                Done done) {
  std::shared_ptr<const server::Runtime> runtime = runtime_();
  auto it = runtime->adapters_by_name.find(adapter);
  auto guard = runtime->guards.find(adapter);
  adapters::AgencyStepAdapter* agency =
      it == runtime->adapters_by_name.end() ? nullptr : it->second->agency_step();
  if (agency == nullptr || guard == runtime->guards.end()) {
    std::move(done)(absl::FailedPreconditionError(absl::StrCat(
                        "adapter '", adapter,
                        "' is not configured for agency steps (any more)")),
                    0);
    return;
  }
  auto retrier = std::make_shared<resilience::Retrier>(
      policy_, timers_.get(), guard->second->budget.get());
  auto shared_request =
      std::make_shared<const adapters::StepRequest>(std::move(request));
  // The sending is idempotent: every attempt carries the step's key. The
  // runtime, this call's retrier and the timer queue it schedules on are
  // kept until the last attempt has answered, which may be after the
  // invoker is gone (a stop gives running steps only a grace period).
  auto owner =
      std::make_shared<std::tuple<std::shared_ptr<const server::Runtime>,
                                  std::shared_ptr<resilience::Retrier>,
                                  std::shared_ptr<resilience::TimerQueue>>>(
          runtime, retrier, timers_);
  server::ResilientCall<adapters::StepOutcome>(
      *retrier, *guard->second, context, /*idempotent=*/true, std::move(owner),
      [agency, shared_request](const adapters::CallContext& attempt,
                               adapters::Callback<adapters::StepOutcome> cb) {
        agency->Execute(*shared_request, attempt, std::move(cb));
      },
      [done = std::move(done)](
          absl::StatusOr<adapters::Reply<adapters::StepOutcome>> reply,
          int attempts) mutable {
        if (reply.ok()) {
          std::move(done)(std::move(reply->value), attempts);
        } else {
          std::move(done)(reply.status(), attempts);
        }
      });
}

}  // namespace lienthong::bundle
