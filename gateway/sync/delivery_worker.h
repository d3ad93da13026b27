// DeliveryWorker: takes due items from the Outbox and delivers them to the
// national portal through a PortalAdapter, asynchronously: one pump thread
// talks to the local store, the adapter's callbacks report back, and no
// thread ever waits on the portal.
//
// - Up to max_in_flight deliveries at once across keys, never two of one key
//   (the Outbox hands out only the first open item of a key).
// - A retriable failure (portal down, HTTP 503, timeout, unreadable answer)
//   puts the item back with exponential backoff and full jitter
//   (resilience::BackoffCeiling of `backoff`; at least the portal's
//   Retry-After). An item failing for longer than give_up_after becomes a
//   dead letter.
// - A circuit breaker (resilience::CircuitBreaker) watches the portal as a
//   whole: when it opens, deliveries pause and only probes go out. When a
//   probe succeeds after one failed, the outage is over and every
//   backed-off item is due at once (Outbox::ExpediteRetries), instead of
//   each sitting out a backoff earned while the portal was down (at once,
//   or attempt_timeout after the last attempt that timed out, which the
//   portal may still be applying); when the
//   first probe succeeds, the failures that opened it were items' own
//   (the portal serves the rest), and those items keep their backoff.
// - A dossier's registration goes to PortalAdapter::RegisterDossier, a step
//   of its progress to PushDossierStatus, told whether an earlier attempt
//   may have arrived (OutboxItem::maybe_sent), so the adapter can look
//   before sending it again.
// - "Already exists" to a create (error_code -1) sends an update of the same
//   item, under its own derived key ("<key>-u") and by the create's
//   deadline; a permanent rejection
//   makes a dead letter with the portal's reason (logged without it for
//   dossiers: it may quote personal data).
// - Every prune_interval it goes once through the outbox deleting delivered
//   items and finished jobs older than delivered_retention
//   (Outbox::PruneDelivered), one small batch per turn of the pump, so
//   deliveries go on in between.
//
//   DeliveryWorker worker(outbox.get(), adapter->portal(), options);
//   worker.Start();
//   ...
//   worker.Stop();  // waits for deliveries in flight (bounded)
#ifndef LIENTHONG_GATEWAY_SYNC_DELIVERY_WORKER_H_
#define LIENTHONG_GATEWAY_SYNC_DELIVERY_WORKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "gateway/resilience/circuit_breaker.h"
#include "gateway/resilience/clock.h"
#include "gateway/resilience/retry.h"
#include "gateway/sync/outbox.h"
#include "gateway/sync/procedure_codes.h"
#include "gateway/sync/sync_metrics.h"

namespace lienthong::sync {

struct DeliveryWorkerOptions {
  DeliveryWorkerOptions();

  // Deliveries in flight at once, across keys. >= 1.
  int max_in_flight = 16;
  // An item that keeps failing retriably for this long is dead-lettered.
  absl::Duration give_up_after = absl::Hours(24);
  // Backoff between attempts of one item (max_attempts and per_try_timeout
  // are not used: give_up_after bounds the attempts). Defaults: 1 s,
  // doubling, at most 5 min.
  resilience::RetryPolicy backoff;
  // The portal-wide breaker. Defaults: opens after 5 failures in a row or
  // half of at least 20 in 10 s; probes with 1 call every 2 s.
  resilience::CircuitBreakerOptions breaker;
  // Each delivery attempt must be answered by then; a create and the
  // update it falls back to count as one attempt.
  absl::Duration attempt_timeout = absl::Seconds(10);
  // Delivered items are deleted from the outbox once delivered this long
  // ago, and finished sync jobs once finished this long ago (see
  // Outbox::PruneDelivered for what is kept regardless).
  absl::Duration delivered_retention = absl::Hours(168);
  // A pruning pass starts at most this often, and examines at most
  // prune_batch items per step (one step per turn of the pump).
  absl::Duration prune_interval = absl::Minutes(1);
  int prune_batch = 500;
  // Stop() waits at most this long for deliveries in flight; those still
  // out stay in flight in the store and are sent again after a restart.
  absl::Duration stop_grace = absl::Seconds(15);
  // Retry times are read from this clock. Waiting is in real time, so with a
  // FakeClock call Wake() after moving it.
  resilience::Clock* clock = resilience::RealClock();
  // Fixes the jitter sequence for tests.
  std::optional<uint64_t> seed;
  // Maps the province's procedure codes to national ones (MaTTHC) when an
  // item goes out: a procedure's without a national code, a registration's.
  ProcedureCodeMap procedure_codes;
};

// Returns OK, or INVALID_ARGUMENT naming the first bad option.
absl::Status ValidateDeliveryWorkerOptions(const DeliveryWorkerOptions& options);

class DeliveryWorker {
 public:
  struct Counters {
    int64_t attempts = 0;   // calls sent to the portal (fallback updates too)
    int64_t delivered = 0;
    int64_t retries = 0;    // retriable failures
    int64_t dead = 0;       // dead letters made
    int64_t in_flight = 0;  // items out now
    int64_t pruned = 0;     // delivered items deleted from the outbox
  };

  // REQUIRES: ValidateDeliveryWorkerOptions(options).ok(); `outbox`,
  // `portal` and the clock outlive the worker.
  DeliveryWorker(Outbox* outbox, adapters::PortalAdapter* portal,
                 DeliveryWorkerOptions options);
  // Stop()s.
  ~DeliveryWorker();

  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  // Starts the pump thread and subscribes to the outbox's new work.
  // REQUIRES: called once.
  void Start();

  // Stops taking items, waits up to stop_grace for deliveries in flight and
  // records their outcomes, then joins the pump thread. Idempotent.
  // REQUIRES: not called concurrently with Start().
  void Stop();

  // Counts outcomes in `metrics` too (null: not). REQUIRES: called before
  // Start(); `metrics` outlives the worker's Stop().
  void SetMetrics(SyncMetrics* metrics) { metrics_ = metrics; }

  // Makes the pump look for due items now (and prune when a pass is due).
  // Thread-safe.
  void Wake();

  // Returns the totals since Start(). Thread-safe.
  Counters counters() const;

  // The portal breaker's state. Thread-safe.
  resilience::BreakerState breaker_state() const { return breaker_.state(); }

  // The options it runs with. Thread-safe.
  const DeliveryWorkerOptions& options() const { return options_; }

 private:
  struct Shared;
  struct InFlight {
    OutboxItem item;
    resilience::CircuitBreaker::Admission admission;
    bool sent_fallback_update = false;
    // attempt_timeout from before the item was claimed, for the first
    // attempt and the fallback update alike: it bounds the item's whole
    // flight (under a PostgreSQL lease, a fresh one would outlast it).
    absl::Time deadline = absl::InfiniteFuture();
  };

  void Loop();
  // Sends the item's call (the fallback update when `fallback`).
  void Dispatch(InFlight& flight, bool fallback);
  // Turns a delivery's answer into its result; nullopt when a fallback
  // update went out instead.
  std::optional<DeliveryResult> Judge(
      InFlight& flight,
      absl::StatusOr<adapters::Reply<adapters::PortalOutcome>> answer);
  absl::Duration Backoff(int attempts);
  static void LogDeadLetter(const OutboxItem& item, absl::string_view reason);
  // Claims as many due items as the breaker admits (none when `stopping`)
  // and sends them, recording the outcomes waiting in unrecorded_ in the
  // same outbox write. Returns false when the outbox could not be written
  // (logged at most once a minute); sets `*refused` when the breaker
  // refused an admission.
  bool ClaimAndSend(bool stopping, bool* refused);
  // Runs one pruning step when one is due; returns when the next is.
  absl::Time Prune(absl::Time real_now);

  Outbox* const outbox_;
  adapters::PortalAdapter* const portal_;
  const DeliveryWorkerOptions options_;
  resilience::CircuitBreaker breaker_;
  std::shared_ptr<Shared> shared_;
  std::thread pump_;

  // Pump thread only.
  std::mt19937_64 rng_;
  absl::flat_hash_map<int64_t, InFlight> flying_;
  std::vector<DeliveryResult> unrecorded_;
  absl::Time next_prune_ = absl::InfinitePast();  // real time
  absl::Time prune_error_logged_ = absl::InfinitePast();
  absl::Time store_error_logged_ = absl::InfinitePast();
  // attempt_timeout after the last attempt that timed out (clock time):
  // an outage's end makes retries due no sooner.
  absl::Time timed_out_settle_ = absl::InfinitePast();
  SyncMetrics* metrics_ = nullptr;

  std::atomic<int64_t> attempts_{0};
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> dead_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> pruned_{0};
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_DELIVERY_WORKER_H_
