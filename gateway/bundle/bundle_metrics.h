// BundleMetrics: the bundles' metric families on the gateway's /metrics.
//
//   lienthong_bundles_open{kind,state}        gauge: bundles running or
//                                             waiting for an officer
//   lienthong_bundles_overdue{kind}           gauge: open bundles past their
//                                             working-day deadline
//   lienthong_bundle_steps_overdue{step}      gauge: steps not done past
//                                             their own deadline
//   lienthong_bundle_progress_pending         gauge: progress updates not yet
//                                             handed to the portal sync
//   lienthong_bundles_started_total{kind}
//   lienthong_bundles_finished_total{kind,state}   COMPLETED or STOPPED
//   lienthong_bundle_step_calls_total{adapter,operation,outcome}
//       outcome: done, refused, invalid (could not be sent as is),
//       unconfigured (its adapter is no longer in the config), retry
//       (failed transiently; sent again later)
//
// Labels come from closed sets (kinds, states, configured step and
// adapter names, operations), never from a bundle or dossier.
#ifndef LIENTHONG_GATEWAY_BUNDLE_BUNDLE_METRICS_H_
#define LIENTHONG_GATEWAY_BUNDLE_BUNDLE_METRICS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "gateway/metrics/registry.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::bundle {

struct OrchestratorCounts;

class BundleMetrics {
 public:
  using CountsSource = std::function<OrchestratorCounts()>;

  // Registers the families in `registry`; the gauges call `source` when
  // scraped (for the step names and kinds of `definitions`). Aborts when a
  // name is taken (register once per registry). REQUIRES: `registry`
  // outlives the counters' use.
  BundleMetrics(metrics::Registry& registry,
                const std::vector<std::string>& step_names,
                CountsSource source);
  // Detaches the gauges from the source (they read 0 from then on).
  ~BundleMetrics();

  // Lock-free, thread-safe.
  void Started(lienthong::v1::BundleKind kind);
  void Finished(lienthong::v1::BundleKind kind, lienthong::v1::BundleState state);
  void StepCall(absl::string_view adapter, absl::string_view operation,
                absl::string_view outcome);

 private:
  struct Source;
  std::shared_ptr<Source> source_;
  metrics::Family<metrics::Counter>* started_;
  metrics::Family<metrics::Counter>* finished_;
  metrics::Family<metrics::Counter>* step_calls_;
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_BUNDLE_METRICS_H_
