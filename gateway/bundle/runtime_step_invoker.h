// RuntimeStepInvoker: the StepInvoker over the gateway's runtime
// (gateway/server/runtime.h): the adapter instances the config built, each
// behind its circuit breaker, in-flight cap and retry budget, called with
// ResilientCall as the server calls any national system. The runtime is
// read per call, so a reload's new adapters serve the next steps; a call
// keeps the runtime it started with alive until it ends.
#ifndef LIENTHONG_GATEWAY_BUNDLE_RUNTIME_STEP_INVOKER_H_
#define LIENTHONG_GATEWAY_BUNDLE_RUNTIME_STEP_INVOKER_H_

#include <functional>
#include <memory>
#include <vector>

#include "gateway/bundle/step_invoker.h"
#include "gateway/resilience/retry.h"
#include "gateway/resilience/timer.h"
#include "gateway/server/runtime.h"

namespace lienthong::bundle {

class RuntimeStepInvoker final : public StepInvoker {
 public:
  using RuntimeSource =
      std::function<std::shared_ptr<const server::Runtime>()>;

  // `runtime` gives the current runtime (GatewayServer::runtime); `policy`
  // the attempts within one call (the orchestrator waits between calls).
  // REQUIRES: ValidateRetryPolicy(policy).ok().
  RuntimeStepInvoker(RuntimeSource runtime, resilience::RetryPolicy policy);
  // Shuts the calls' timer queue down: a call still running answers
  // through its adapter as usual, without further attempts.
  ~RuntimeStepInvoker() override;

  absl::StatusOr<std::vector<adapters::StepOperation>> Operations(
      absl::string_view adapter) const override;
  void Invoke(absl::string_view adapter, adapters::StepRequest request,
              const adapters::CallContext& context, Done done) override;

 private:
  const RuntimeSource runtime_;
  const resilience::RetryPolicy policy_;
  // Shared with the calls' retriers, which may outlive the invoker; shut
  // down with it.
  std::shared_ptr<resilience::TimerQueue> timers_;
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_RUNTIME_STEP_INVOKER_H_
