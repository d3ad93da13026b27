// Runs one step on an agency adapter and waits for its answer: what the
// agency adapter tests share.
#ifndef LIENTHONG_TESTS_ADAPTERS_AGENCIES_RUN_STEP_H_
#define LIENTHONG_TESTS_ADAPTERS_AGENCIES_RUN_STEP_H_

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/adapter.h"

namespace lienthong::adapters::testing {

// Sends `request` through `adapter`'s AgencyStepAdapter with a 10 s
// deadline; returns the outcome or the error it ended with.
inline absl::StatusOr<StepOutcome> RunStep(Adapter& adapter,
                                           const StepRequest& request) {
  CallContext context;
  context.deadline = absl::Now() + absl::Seconds(10);
  absl::Notification done;
  absl::StatusOr<StepOutcome> result;
  adapter.agency_step()->Execute(
      request, context, [&](absl::StatusOr<Reply<StepOutcome>> reply) {
        result = reply.ok() ? absl::StatusOr<StepOutcome>(reply->value)
                            : absl::StatusOr<StepOutcome>(reply.status());
        done.Notify();
      });
  done.WaitForNotification();
  return result;
}

}  // namespace lienthong::adapters::testing

#endif  // LIENTHONG_TESTS_ADAPTERS_AGENCIES_RUN_STEP_H_
