#include "gateway/sync/delivery_worker.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "gateway/log/log.h"
#include "gateway/sync/dossier_status.h"
#include "gateway/validation/citizen_id.h"
#include "gateway/validation/codes.h"

namespace lienthong::sync {

using adapters::PortalOutcome;
using resilience::BreakerState;

DeliveryWorkerOptions::DeliveryWorkerOptions() {
  backoff.max_attempts = 1;  // unused
  backoff.initial_backoff = absl::Seconds(1);
  backoff.max_backoff = absl::Minutes(5);
  backoff.multiplier = 2;
  breaker.consecutive_failures = 5;
  breaker.failure_ratio = 0.5;
  breaker.min_requests = 20;
  breaker.window = absl::Seconds(10);
  breaker.open_duration = absl::Seconds(2);
  breaker.half_open_probes = 1;
}

absl::Status ValidateDeliveryWorkerOptions(const DeliveryWorkerOptions& options) {
  if (options.max_in_flight < 1) {
    return absl::InvalidArgumentError("max_in_flight must be at least 1");
  }
  if (options.give_up_after <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("give_up_after must be positive");
  }
  if (options.attempt_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("attempt_timeout must be positive");
  }
  if (options.delivered_retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("delivered_retention must be positive");
  }
  if (options.prune_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("prune_interval must be positive");
  }
  if (options.prune_batch < 1) {
    return absl::InvalidArgumentError("prune_batch must be at least 1");
  }
  if (options.stop_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("stop_grace must not be negative");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("clock is required");
  }
  if (absl::Status s = resilience::ValidateRetryPolicy(options.backoff);
      !s.ok()) {
    return s;
  }
  return resilience::ValidateCircuitBreakerOptions(options.breaker);
}

// What the pump and the adapters' callbacks share. Callbacks hold it, so a
// late answer after the worker is gone lands here harmlessly.
struct DeliveryWorker::Shared {
  struct Completion {
    int64_t id;
    absl::StatusOr<adapters::Reply<PortalOutcome>> answer;
  };

  absl::Mutex mu;
  std::vector<Completion> completions ABSL_GUARDED_BY(mu);
  bool wake ABSL_GUARDED_BY(mu) = false;
  bool recovered ABSL_GUARDED_BY(mu) = false;
  bool stop ABSL_GUARDED_BY(mu) = false;
  // The stop not yet seen by the pump: news once, not on every wait while
  // the deliveries still out are awaited (the pump would spin).
  bool stop_news ABSL_GUARDED_BY(mu) = false;

  bool HasNews() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return wake || recovered || stop_news || !completions.empty();
  }
  void Complete(int64_t id,
                absl::StatusOr<adapters::Reply<PortalOutcome>> answer) {
    absl::MutexLock lock(&mu);
    completions.push_back({id, std::move(answer)});
  }
  void Wake() {
    absl::MutexLock lock(&mu);
    wake = true;
  }
  void Recovered() {
    absl::MutexLock lock(&mu);
    recovered = true;
  }
};

DeliveryWorker::DeliveryWorker(Outbox* outbox, adapters::PortalAdapter* portal,
                               DeliveryWorkerOptions options)
    : outbox_(outbox),
      portal_(portal),
      options_(std::move(options)),
      breaker_("national-portal", options_.breaker, options_.clock),
      shared_(std::make_shared<Shared>()),
      rng_(options_.seed.has_value() ? *options_.seed
                                     : std::random_device{}()) {
  std::weak_ptr<Shared> weak = shared_;
  // Whether a probe failed since the breaker opened: only then was the
  // portal down, not just some items failing on their own (a few dossiers
  // it chokes on open the breaker too). Retries are made due at once only
  // after an outage: after items' own failures they would come straight
  // back, open the breaker again and flap it every open_duration for as
  // long as they are retried.
  auto probe_failed = std::make_shared<std::atomic<bool>>(false);
  breaker_.SetListener([weak, probe_failed](BreakerState from,
                                            BreakerState to) {
    if (to == BreakerState::kOpen && from == BreakerState::kClosed) {
      probe_failed->store(false);
      log::Warning("portal sync: the portal is failing; deliveries paused, "
                   "probing");
    }
    if (to == BreakerState::kOpen && from == BreakerState::kHalfOpen) {
      probe_failed->store(true);
    }
    if (to == BreakerState::kClosed) {
      log::Info("portal sync: the portal answers again; deliveries resumed");
      if (probe_failed->exchange(false)) {
        if (auto shared = weak.lock()) shared->Recovered();
      }
    }
  });
}

DeliveryWorker::~DeliveryWorker() { Stop(); }

void DeliveryWorker::Start() {
  std::weak_ptr<Shared> weak = shared_;
  outbox_->SetWorkListener([weak] {
    if (auto shared = weak.lock()) shared->Wake();
  });
  shared_->Wake();
  pump_ = std::thread([this] { Loop(); });
}

void DeliveryWorker::Stop() {
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->stop = true;
    shared_->stop_news = true;
  }
  if (pump_.joinable()) pump_.join();
  outbox_->SetWorkListener(nullptr);
}

void DeliveryWorker::Wake() { shared_->Wake(); }

DeliveryWorker::Counters DeliveryWorker::counters() const {
  Counters c;
  c.attempts = attempts_.load(std::memory_order_relaxed);
  c.delivered = delivered_.load(std::memory_order_relaxed);
  c.retries = retries_.load(std::memory_order_relaxed);
  c.dead = dead_.load(std::memory_order_relaxed);
  c.in_flight = in_flight_.load(std::memory_order_relaxed);
  c.pruned = pruned_.load(std::memory_order_relaxed);
  return c;
}

void DeliveryWorker::Loop() {
  absl::Time wait_until = absl::Now();  // real time
  absl::Time stop_by = absl::InfiniteFuture();
  for (;;) {
    std::vector<Shared::Completion> completions;
    bool recovered = false;
    bool stopping = false;
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->mu.AwaitWithDeadline(
          absl::Condition(shared_.get(), &Shared::HasNews),
          wait_until);
      completions.swap(shared_->completions);
      shared_->wake = false;
      recovered = std::exchange(shared_->recovered, false);
      stopping = shared_->stop;
      shared_->stop_news = false;
    }
    if (stopping && stop_by == absl::InfiniteFuture()) {
      stop_by = absl::Now() + options_.stop_grace;
    }
    if (recovered) {
      // Not before an attempt that timed out may have been applied.
      const absl::Time due = std::max(options_.clock->Now(), timed_out_settle_);
      if (absl::Status s = outbox_->ExpediteRetries(due); !s.ok()) {
        log::Error("portal sync: cannot reschedule retries",
                   {{"reason", s.message()}});
      }
    }
    for (Shared::Completion& c : completions) {
      auto it = flying_.find(c.id);
      if (it == flying_.end()) continue;
      std::optional<DeliveryResult> result =
          Judge(it->second, std::move(c.answer));
      if (!result.has_value()) continue;  // a fallback update went out
      unrecorded_.push_back(std::move(*result));
      flying_.erase(it);
    }
    in_flight_.store(static_cast<int64_t>(flying_.size()),
                     std::memory_order_relaxed);
    if (stopping && (flying_.empty() || absl::Now() >= stop_by)) break;

    bool refused = false;
    const bool store_failed = !ClaimAndSend(stopping, &refused);

    // When to look again without news.
    const absl::Time real_now = absl::Now();
    const absl::Time prune_at =
        stopping ? absl::InfiniteFuture() : Prune(real_now);
    if (stopping) {
      wait_until = stop_by;
    } else if (store_failed) {
      wait_until = real_now + absl::Seconds(1);
    } else if (static_cast<int>(flying_.size()) >= options_.max_in_flight) {
      wait_until = absl::InfiniteFuture();  // a completion will wake us
    } else if (refused) {
      wait_until = real_now + std::max(absl::Milliseconds(20),
                                       options_.breaker.open_duration / 4);
    } else if (std::optional<absl::Time> next = outbox_->NextDue()) {
      wait_until = real_now + (*next - options_.clock->Now());
    } else {
      wait_until = absl::InfiniteFuture();
    }
    wait_until = std::min(wait_until, prune_at);
  }
  if (!unrecorded_.empty()) {
    if (absl::Status s = outbox_->FinishAndClaim(unrecorded_, 0).status();
        !s.ok()) {
      log::Error("portal sync: outcomes not recorded; the items will be sent "
                 "again",
                 {{"reason", s.message()}});
    }
    unrecorded_.clear();
  }
  in_flight_.store(0, std::memory_order_relaxed);
  flying_.clear();  // what is still out stays in flight in the store
}

bool DeliveryWorker::ClaimAndSend(bool stopping, bool* refused) {
  // Admissions first: the breaker decides how many may go out now.
  std::vector<resilience::CircuitBreaker::Admission> admissions;
  const absl::Time now = options_.clock->Now();
  std::optional<absl::Time> due = outbox_->NextDue();
  if (!stopping && due.has_value() && *due <= now) {
    while (static_cast<int>(flying_.size() + admissions.size()) <
           options_.max_in_flight) {
      resilience::CircuitBreaker::Admission admission = breaker_.Allow();
      if (!admission) {
        *refused = true;
        break;
      }
      admissions.push_back(std::move(admission));
    }
  }
  if (unrecorded_.empty() && admissions.empty()) return true;
  // Counted from before the claim: under a PostgreSQL lease, which starts
  // when the claim statement runs, a slow commit must not lengthen the
  // flight past the share of the lease it is given.
  const absl::Time deadline = absl::Now() + options_.attempt_timeout;
  absl::StatusOr<std::vector<OutboxItem>> claimed =
      outbox_->FinishAndClaim(unrecorded_, static_cast<int>(admissions.size()));
  if (!claimed.ok()) {
    if (const absl::Time now = absl::Now();
        log::Due(store_error_logged_, now, absl::Minutes(1))) {
      store_error_logged_ = now;
      log::Error("portal sync: the outbox cannot be written; retrying",
                 {{"reason", claimed.status().message()}});
    }
    return false;
  }
  unrecorded_.clear();
  for (size_t i = 0; i < claimed->size(); ++i) {
    OutboxItem& item = (*claimed)[i];
    const int64_t id = item.id;
    InFlight& flight = flying_[id];
    flight.item = std::move(item);
    flight.admission = std::move(admissions[i]);
    flight.deadline = deadline;
    Dispatch(flight, /*fallback=*/false);
  }
  in_flight_.store(static_cast<int64_t>(flying_.size()),
                   std::memory_order_relaxed);
  return true;
}

absl::Time DeliveryWorker::Prune(absl::Time real_now) {
  if (real_now < next_prune_) return next_prune_;
  absl::StatusOr<PruneProgress> step = outbox_->PruneDelivered(
      options_.clock->Now() - options_.delivered_retention,
      options_.prune_batch);
  if (!step.ok()) {
    if (log::Due(prune_error_logged_, real_now, absl::Minutes(10))) {
      prune_error_logged_ = real_now;
      log::Error("portal sync: cannot prune delivered items; trying later",
                 {{"reason", step.status().message()}});
    }
    next_prune_ = real_now + options_.prune_interval;
    return next_prune_;
  }
  if (step->deleted > 0) {
    pruned_.fetch_add(step->deleted, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->Pruned(step->deleted);
  }
  // The pass goes on at the next turn of the pump, after whatever news came
  // in meanwhile; once done, the next pass waits its interval.
  next_prune_ = step->pass_done ? real_now + options_.prune_interval : real_now;
  return next_prune_;
}

void DeliveryWorker::Dispatch(InFlight& flight, bool fallback) {
  OutboxItem& item = flight.item;
  // The portal knows procedures by their national code: mapped now, with
  // the mapping in force when the item goes out.
  if (item.kind == ItemKind::kProcedure &&
      item.procedure.national_code().empty()) {
    item.procedure.set_code(item.key);
    item.procedure.set_national_code(options_.procedure_codes.National(item.key));
  }
  if (item.kind == ItemKind::kDossier && item.registration &&
      validation::IsProcedureCode(item.dossier.procedure_code())) {
    item.dossier.set_procedure_code(
        options_.procedure_codes.National(item.dossier.procedure_code()));
  }
  adapters::CallContext context;
  context.deadline = flight.deadline;
  context.caller = "portal-sync";
  context.trace_id = item.idempotency_key;
  std::shared_ptr<Shared> shared = shared_;
  auto done = [shared, id = item.id](
                  absl::StatusOr<adapters::Reply<PortalOutcome>> answer) {
    shared->Complete(id, std::move(answer));
  };
  attempts_.fetch_add(1, std::memory_order_relaxed);
  if (item.kind == ItemKind::kDossier && item.registration) {
    portal_->RegisterDossier(item.dossier, item.idempotency_key, context,
                             std::move(done));
  } else if (item.kind == ItemKind::kDossier) {
    // Claimed before and not delivered: an attempt may have arrived, and
    // the portal may not honour the idempotency key; the adapter looks.
    portal_->PushDossierStatus(item.dossier, item.idempotency_key,
                               item.maybe_sent, context, std::move(done));
  } else if (item.withdraw) {
    portal_->WithdrawProcedure(item.procedure, item.idempotency_key, context,
                               std::move(done));
  } else if (fallback) {
    portal_->UpdateProcedure(item.procedure,
                             absl::StrCat(item.idempotency_key, "-u"), context,
                             std::move(done));
  } else if (item.portal_has_procedure) {
    portal_->UpdateProcedure(item.procedure, item.idempotency_key, context,
                             std::move(done));
  } else {
    portal_->CreateProcedure(item.procedure, item.idempotency_key, context,
                             std::move(done));
  }
}

std::optional<DeliveryResult> DeliveryWorker::Judge(
    InFlight& flight,
    absl::StatusOr<adapters::Reply<PortalOutcome>> answer) {
  const OutboxItem& item = flight.item;
  DeliveryResult result;
  result.id = item.id;
  const absl::Time now = options_.clock->Now();
  if (answer.ok()) {
    if (flight.admission) flight.admission.Record(true);
    const PortalOutcome& outcome = answer->value;
    switch (outcome.kind) {
      case PortalOutcome::Kind::kAlreadyExists:
        if (item.kind == ItemKind::kProcedure && !item.withdraw &&
            !flight.sent_fallback_update) {
          flight.sent_fallback_update = true;
          Dispatch(flight, /*fallback=*/true);
          return std::nullopt;
        }
        // The portal has it: as good as applied.
        [[fallthrough]];
      case PortalOutcome::Kind::kApplied:
        result.kind = DeliveryResult::Kind::kDelivered;
        delivered_.fetch_add(1, std::memory_order_relaxed);
        if (metrics_ != nullptr) metrics_->Delivered(item.kind);
        return result;
      case PortalOutcome::Kind::kRejected:
        result.kind = DeliveryResult::Kind::kDead;
        result.refused = true;
        // A dossier's refusal may quote the citizen's ID: kept masked,
        // like the notes the gateway sends.
        result.message =
            absl::StrCat("the portal refused it: ",
                         item.kind == ItemKind::kDossier
                             ? validation::MaskCitizenIdsInText(outcome.reason)
                             : outcome.reason);
        dead_.fetch_add(1, std::memory_order_relaxed);
        if (metrics_ != nullptr) {
          metrics_->Failed(item.kind, /*dead_letter=*/true);
        }
        LogDeadLetter(item, result.message);
        return result;
    }
  }
  const absl::Status& status = answer.status();
  if (status.code() == absl::StatusCode::kCancelled) {
    // The HTTP client is shutting down: nothing was decided.
    result.kind = DeliveryResult::Kind::kRelease;
    return result;
  }
  if (!adapters::IsRetriable(status)) {
    result.kind = DeliveryResult::Kind::kDead;
    result.message = std::string(status.message());
    dead_.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->Failed(item.kind, /*dead_letter=*/true);
    LogDeadLetter(item, result.message);
    return result;
  }
  if (flight.admission) flight.admission.Record(false);
  if (item.first_failure.has_value() &&
      now - *item.first_failure >= options_.give_up_after) {
    result.kind = DeliveryResult::Kind::kDead;
    result.message = absl::StrCat("the portal kept failing for ",
                                  absl::FormatDuration(now - *item.first_failure),
                                  "; last: ", status.message());
    dead_.fetch_add(1, std::memory_order_relaxed);
    if (metrics_ != nullptr) metrics_->Failed(item.kind, /*dead_letter=*/true);
    LogDeadLetter(item, result.message);
    return result;
  }
  absl::Duration wait = Backoff(item.attempts);
  // An attempt that timed out may still be under way at the portal, where
  // the look before sending again would not find it yet (and the portal
  // keeps no idempotency keys): the next waits as long as it was given.
  if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    wait = std::max(wait, options_.attempt_timeout);
    timed_out_settle_ =
        std::max(timed_out_settle_, now + options_.attempt_timeout);
  }
  if (std::optional<absl::Duration> asked = adapters::RetryAfter(status)) {
    wait = std::max(wait, *asked);
  }
  result.kind = DeliveryResult::Kind::kRetry;
  result.next_attempt = now + wait;
  result.message = std::string(status.message());
  retries_.fetch_add(1, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->Failed(item.kind, /*dead_letter=*/false);
  return result;
}

void DeliveryWorker::LogDeadLetter(const OutboxItem& item,
                                   absl::string_view reason) {
  // A dossier's dead letter may be refused for its personal data, which
  // the portal's reason may quote: the reason stays in the dead-letter
  // list, out of the logs.
  log::Warning("portal sync: dead letter",
               {{"kind", item.registration ? "registration"
                                            : ItemKindName(item.kind)},
                {"code", item.key},
                {"reason", item.kind == ItemKind::kDossier
                               ? absl::string_view("see the dead-letter list")
                               : reason}});
}

absl::Duration DeliveryWorker::Backoff(int attempts) {
  const absl::Duration ceiling =
      resilience::BackoffCeiling(options_.backoff, std::min(attempts, 60));
  return ceiling * std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

}  // namespace lienthong::sync
