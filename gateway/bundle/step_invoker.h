// StepInvoker: how the orchestrator calls an agency, by adapter instance
// name, without knowing any agency: the instance's operations, and one
// call under the gateway's protections for that national system (circuit
// breaker, in-flight cap, retries within a budget). The gateway's
// implementation is RuntimeStepInvoker (runtime_step_invoker.h); tests use
// fakes.
#ifndef LIENTHONG_GATEWAY_BUNDLE_STEP_INVOKER_H_
#define LIENTHONG_GATEWAY_BUNDLE_STEP_INVOKER_H_

#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapters/adapter.h"

namespace lienthong::bundle {

class StepInvoker {
 public:
  // The outcome of one call and how many attempts it took.
  using Done = absl::AnyInvocable<void(absl::StatusOr<adapters::StepOutcome>,
                                       int attempts) &&>;

  virtual ~StepInvoker() = default;

  // Returns the operations adapter instance `adapter` performs. NOT_FOUND
  // when no instance has that name; FAILED_PRECONDITION when its type
  // offers no agency steps. Thread-safe.
  virtual absl::StatusOr<std::vector<adapters::StepOperation>> Operations(
      absl::string_view adapter) const = 0;

  // Sends `request` to `adapter`, retrying transient failures within
  // `context.deadline`. Calls `done` exactly once, from any thread, with the
  // agency's outcome or the last failure: AgencyStepAdapter::Execute's
  // errors, UNAVAILABLE naming the system when its breaker is open,
  // RESOURCE_EXHAUSTED at its in-flight cap, FAILED_PRECONDITION when no
  // such adapter is configured (any more). Thread-safe; never blocks.
  virtual void Invoke(absl::string_view adapter, adapters::StepRequest request,
                      const adapters::CallContext& context, Done done) = 0;
};

// The operation named `name` among `operations`, or null.
inline const adapters::StepOperation* FindOperation(
    const std::vector<adapters::StepOperation>& operations,
    absl::string_view name) {
  for (const adapters::StepOperation& op : operations) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_STEP_INVOKER_H_
