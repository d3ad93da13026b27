// Calls an adapter operation under the route's resilience: per national
// system a circuit breaker and a cap on calls in flight, per route retries
// with backoff within a retry budget, all within the caller's deadline.
#ifndef LIENTHONG_GATEWAY_SERVER_RESILIENT_CALL_H_
#define LIENTHONG_GATEWAY_SERVER_RESILIENT_CALL_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/adapter.h"
#include "adapters/common/retriable.h"
#include "gateway/resilience/circuit_breaker.h"
#include "gateway/resilience/rate_limiter.h"
#include "gateway/resilience/retry.h"

namespace lienthong::server {

// The protections in front of one national system (adapter instance).
struct UpstreamGuard {
  std::string system;
  // What the guard was built from (the adapter instance's settings and the
  // retry budget, serialized): a reload keeps the guard while it is equal.
  std::string settings;
  std::unique_ptr<resilience::CircuitBreaker> breaker;
  std::unique_ptr<resilience::ConcurrencyLimiter> in_flight;
  std::unique_ptr<resilience::RetryBudget> budget;
};

// Whether an outcome counts against the national system's health: it was
// down, failing or too slow. Answers such as NOT_FOUND are healthy.
inline bool IsUpstreamFailure(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kInternal;
}

template <typename T>
using ResilientDone =
    absl::AnyInvocable<void(absl::StatusOr<adapters::Reply<T>>, int attempts) &&>;

// Runs `invoke(attempt_context, callback)` (one adapter call) until it
// succeeds or must stop, then calls `done` once with the first good reply or
// the last failure and the number of attempts. Only `idempotent` calls are
// retried, and only on failures the adapter marked retriable or on
// DEADLINE_EXCEEDED from an attempt with a per-try deadline. Refusals by the
// breaker (UNAVAILABLE naming the system) or the in-flight cap
// (RESOURCE_EXHAUSTED) are final, and not counted as attempts (`attempts`
// is 0 when the first was refused so). `owner` holds what `retrier`, `guard`
// and `invoke` live in (the runtime): it is kept until the last attempt's
// answer has come, which may be after `done` (an attempt the deadline
// abandoned still answers, and a reload may have replaced the runtime).
// `caller_bound`: context.deadline is the caller's own, shorter than the
// route allows the national system; an attempt that runs out of it says
// nothing about the system's health, and neither does a cancelled one nor
// one the adapter refused without sending it (adapters::WasNotSent): the
// breaker records none of them.
template <typename T, typename Invoke>
void ResilientCall(resilience::Retrier& retrier, UpstreamGuard& guard,
                   const adapters::CallContext& context, bool idempotent,
                   std::shared_ptr<const void> owner, Invoke invoke,
                   ResilientDone<T> done, bool caller_bound = false) {
  // A late answer of a timed-out attempt may race the next attempt's. Held
  // by every attempt's callback and by the retrier's call.
  struct Slot {
    std::shared_ptr<const void> owner;
    std::mutex mu;
    std::optional<adapters::Reply<T>> reply;
  };
  auto slot = std::make_shared<Slot>();
  slot->owner = std::move(owner);
  auto attempt = [&guard, context, slot, caller_bound,
                  invoke = std::move(invoke)](
                     absl::Time attempt_deadline,
                     resilience::Retrier::AttemptDone attempt_done) mutable {
    resilience::CircuitBreaker::Admission admission = guard.breaker->Allow();
    if (!admission) {
      std::move(attempt_done)({guard.breaker->OpenStatus(), false, std::nullopt,
                               /*not_sent=*/true});
      return;
    }
    std::optional<resilience::ConcurrencyLimiter::Permit> permit =
        guard.in_flight->TryAcquire();
    if (!permit) {
      std::move(attempt_done)(
          {absl::ResourceExhaustedError(
               absl::StrCat("too many calls in flight to ", guard.system)),
           false, std::nullopt, /*not_sent=*/true});
      return;
    }
    adapters::CallContext attempt_context = context;
    attempt_context.deadline = attempt_deadline;
    const bool per_try = attempt_deadline < context.deadline;
    const bool on_callers_time =
        caller_bound && attempt_deadline >= context.deadline;
    invoke(attempt_context,
           [admission = std::move(admission), permit = std::move(*permit),
            attempt_done = std::move(attempt_done), slot, per_try,
            on_callers_time](
               absl::StatusOr<adapters::Reply<T>> result) mutable {
             const absl::Status status = result.status();
             const bool says_nothing =
                 absl::IsCancelled(status) || adapters::WasNotSent(status) ||
                 (on_callers_time && absl::IsDeadlineExceeded(status));
             if (says_nothing) {
               admission = resilience::CircuitBreaker::Admission();  // dropped
             } else {
               admission.Record(!IsUpstreamFailure(status));
             }
             if (result.ok()) {
               std::lock_guard<std::mutex> lock(slot->mu);
               if (!slot->reply) slot->reply = *std::move(result);
             }
             // The adapter's timer for a per-try deadline races the
             // retrier's watchdog for it (and the HTTP client's, cut to
             // whole milliseconds, often wins): either way the attempt is
             // retriable, as the watchdog marks it. Out of the call's own
             // deadline (which that rounding may report a hair early), it
             // is not, however the adapter marked it: another attempt
             // would have no time to answer.
             const bool retriable = absl::IsDeadlineExceeded(status)
                                        ? per_try
                                        : adapters::IsRetriable(status);
             // Refused before anything went out (the adapter's own
             // checks, a caller that cancelled during the backoff): not
             // counted among the call's attempts.
             std::move(attempt_done)({status, retriable,
                                      adapters::RetryAfter(status),
                                      adapters::WasNotSent(status)});
           });
  };
  retrier.Run(
      resilience::CallOptions{context.deadline, idempotent}, std::move(attempt),
      [slot, done = std::move(done)](absl::Status status, int attempts) mutable {
        if (!status.ok()) {
          std::move(done)(std::move(status), attempts);
          return;
        }
        std::optional<adapters::Reply<T>> reply;
        {
          std::lock_guard<std::mutex> lock(slot->mu);
          reply.swap(slot->reply);
        }
        if (!reply) {
          std::move(done)(absl::InternalError("attempt succeeded without a reply"),
                          attempts);
          return;
        }
        std::move(done)(*std::move(reply), attempts);
      });
}

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_RESILIENT_CALL_H_
