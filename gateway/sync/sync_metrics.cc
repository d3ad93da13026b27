#include "gateway/sync/sync_metrics.h"

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace lienthong::sync {

// What the gauge callbacks read. They hold it, so a scrape after this object
// (or the outbox) is gone finds a null outbox instead of a dangling one.
struct SyncMetrics::Source {
  absl::Mutex mu;
  const Outbox* outbox ABSL_GUARDED_BY(mu) = nullptr;
  const NationalCatalogue* catalogue ABSL_GUARDED_BY(mu) = nullptr;

  OutboxCounts Read() {
    absl::MutexLock lock(&mu);
    return outbox == nullptr ? OutboxCounts{} : outbox->OpenCounts();
  }
};

SyncMetrics::SyncMetrics(metrics::Registry& registry)
    : source_(std::make_shared<Source>()) {
  std::shared_ptr<Source> source = source_;
  registry
      .AddGauge("lienthong_portal_sync_outbox_depth",
                "Items in the portal outbox waiting for delivery (pending or "
                "in flight; dead letters not included).")
      .Get()
      .SetCallback([source] {
        OutboxCounts counts = source->Read();
        return static_cast<double>(counts.pending + counts.in_flight);
      });
  registry
      .AddGauge("lienthong_portal_sync_dead_letters",
                "Portal outbox items the portal refused or that failed for "
                "too long, waiting for an operator (RetryDeadLetters).")
      .Get()
      .SetCallback(
          [source] { return static_cast<double>(source->Read().dead); });
  metrics::Family<metrics::Counter>& delivered = registry.AddCounter(
      "lienthong_portal_sync_delivered_total",
      "Portal outbox items the national portal acknowledged, by kind.",
      {"kind"});
  metrics::Family<metrics::Counter>& failures = registry.AddCounter(
      "lienthong_portal_sync_delivery_failures_total",
      "Failed deliveries to the national portal, by kind and outcome: retry "
      "(tried again later) or dead_letter (refused, or failing for too long).",
      {"kind", "outcome"});
  for (ItemKind kind : {ItemKind::kProcedure, ItemKind::kDossier}) {
    const absl::string_view name = ItemKindName(kind);
    delivered_[Index(kind)] = &delivered.WithLabels({name});
    retried_[Index(kind)] = &failures.WithLabels({name, "retry"});
    dead_lettered_[Index(kind)] = &failures.WithLabels({name, "dead_letter"});
  }
  registry
      .AddGauge("lienthong_portal_sync_catalogue_procedures",
                "Procedures in the national procedure database as last read "
                "(0: never read; pushes then go unchecked).")
      .Get()
      .SetCallback([source] {
        absl::MutexLock lock(&source->mu);
        return source->catalogue == nullptr
                   ? 0.0
                   : static_cast<double>(source->catalogue->size());
      });
  checks_skipped_ =
      &registry
           .AddCounter("lienthong_portal_sync_catalogue_checks_skipped_total",
                       "Procedure codes pushed or published without a check "
                       "against the national catalogue, none having been "
                       "read.")
           .Get();
  pruned_ = &registry
                 .AddCounter("lienthong_portal_sync_pruned_total",
                             "Delivered items deleted from the portal outbox "
                             "after portal_sync.delivered_retention_hours.")
                 .Get();
}

SyncMetrics::~SyncMetrics() {
  WatchOutbox(nullptr);
  WatchCatalogue(nullptr);
}

void SyncMetrics::WatchCatalogue(const NationalCatalogue* catalogue) {
  absl::MutexLock lock(&source_->mu);
  source_->catalogue = catalogue;
}

void SyncMetrics::CatalogueCheckSkipped() { checks_skipped_->Increment(); }

void SyncMetrics::WatchOutbox(const Outbox* outbox) {
  absl::MutexLock lock(&source_->mu);
  source_->outbox = outbox;
}

void SyncMetrics::Delivered(ItemKind kind) {
  delivered_[Index(kind)]->Increment();
}

void SyncMetrics::Failed(ItemKind kind, bool dead_letter) {
  (dead_letter ? dead_lettered_ : retried_)[Index(kind)]->Increment();
}

void SyncMetrics::Pruned(int64_t items) {
  if (items > 0) pruned_->Increment(static_cast<std::uint64_t>(items));
}

}  // namespace lienthong::sync
