// SyncMetrics: the portal synchronisation's metric families
// (lienthong_portal_sync_*), served on the gateway's /metrics:
//
//   lienthong_portal_sync_outbox_depth     gauge: items waiting for delivery
//                                          (pending or in flight)
//   lienthong_portal_sync_dead_letters     gauge: dead letters
//   lienthong_portal_sync_delivered_total{kind}
//                                          items the portal acknowledged
//   lienthong_portal_sync_delivery_failures_total{kind,outcome}
//                                          failed attempts; outcome "retry"
//                                          (tried again later) or
//                                          "dead_letter"
//   lienthong_portal_sync_pruned_total     delivered items deleted
//   lienthong_portal_sync_catalogue_procedures
//                                          gauge: procedures in the national
//                                          catalogue in use (0: none read)
//   lienthong_portal_sync_catalogue_checks_skipped_total
//                                          procedure codes not checked, as no
//                                          national catalogue had been read
//
// kind is "procedure" or "dossier". Labels never hold a dossier or procedure
// code (see the cardinality rules in gateway/metrics/registry.h).
//
// The gauges read the outbox when scraped (Outbox::OpenCounts); the counters
// are added to by the delivery worker.
#ifndef LIENTHONG_GATEWAY_SYNC_SYNC_METRICS_H_
#define LIENTHONG_GATEWAY_SYNC_SYNC_METRICS_H_

#include <cstdint>
#include <memory>

#include "gateway/metrics/registry.h"
#include "gateway/sync/national_catalogue.h"
#include "gateway/sync/outbox.h"

namespace lienthong::sync {

class SyncMetrics {
 public:
  // Registers the families in `registry`, every series at zero. Aborts when
  // a name is taken (a programming error: register once per registry).
  // REQUIRES: `registry` outlives every use of the counters.
  explicit SyncMetrics(metrics::Registry& registry);
  // Detaches the gauges from the outbox (they read 0 from then on), so the
  // registry may outlive this object and the outbox.
  ~SyncMetrics();

  SyncMetrics(const SyncMetrics&) = delete;
  SyncMetrics& operator=(const SyncMetrics&) = delete;

  // Makes the gauges read `outbox` (null: read 0). Thread-safe.
  // REQUIRES: `outbox` outlives this object or the next WatchOutbox call.
  void WatchOutbox(const Outbox* outbox);

  // Count one outcome. Lock-free, thread-safe.
  void Delivered(ItemKind kind);
  void Failed(ItemKind kind, bool dead_letter);
  void Pruned(int64_t items);
  void CatalogueCheckSkipped();

  // Makes the catalogue gauge read `catalogue` (null: read 0). Thread-safe.
  // REQUIRES: `catalogue` outlives this object or the next call.
  void WatchCatalogue(const NationalCatalogue* catalogue);

 private:
  struct Source;
  static int Index(ItemKind kind) {
    return kind == ItemKind::kProcedure ? 0 : 1;
  }

  std::shared_ptr<Source> source_;
  metrics::Counter* delivered_[2];
  metrics::Counter* retried_[2];
  metrics::Counter* dead_lettered_[2];
  metrics::Counter* pruned_;
  metrics::Counter* checks_skipped_;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_SYNC_METRICS_H_
