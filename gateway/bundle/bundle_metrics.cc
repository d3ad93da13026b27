#include "gateway/bundle/bundle_metrics.h"

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/bundle/orchestrator.h"

namespace lienthong::bundle {
namespace {

constexpr lienthong::v1::BundleKind kKinds[] = {lienthong::v1::BIRTH,
                                                lienthong::v1::DEATH};
constexpr lienthong::v1::BundleState kOpenStates[] = {
    lienthong::v1::BUNDLE_RUNNING, lienthong::v1::BUNDLE_WAITING_FOR_OFFICER};

std::string Lower(absl::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(c));
  return out;
}

std::string KindLabel(lienthong::v1::BundleKind kind) {
  return Lower(lienthong::v1::BundleKind_Name(kind));
}

// BUNDLE_WAITING_FOR_OFFICER -> "waiting_for_officer".
std::string StateLabel(lienthong::v1::BundleState state) {
  std::string name = Lower(lienthong::v1::BundleState_Name(state));
  return name.substr(name.find('_') + 1);
}

}  // namespace

// What the gauges read: the orchestrator's counts, computed at most every
// 200 ms however many series a scrape reads. Held by the callbacks, so a
// scrape after the BundleMetrics is gone reads zeros.
struct BundleMetrics::Source {
  absl::Mutex mu;
  CountsSource counts ABSL_GUARDED_BY(mu);
  OrchestratorCounts cached ABSL_GUARDED_BY(mu);
  absl::Time at ABSL_GUARDED_BY(mu) = absl::InfinitePast();

  OrchestratorCounts Read() {
    absl::MutexLock lock(&mu);
    if (!counts) return {};
    const absl::Time now = absl::Now();
    if (now - at > absl::Milliseconds(200)) {
      cached = counts();
      at = now;
    }
    return cached;
  }
};

BundleMetrics::BundleMetrics(metrics::Registry& registry,
                             const std::vector<std::string>& step_names,
                             CountsSource source)
    : source_(std::make_shared<Source>()) {
  {
    absl::MutexLock lock(&source_->mu);
    source_->counts = std::move(source);
  }
  std::shared_ptr<Source> s = source_;
  auto& open = registry.AddGauge(
      "lienthong_bundles_open",
      "Bundles of interconnected procedures running or waiting for an "
      "officer, by kind and state.",
      {"kind", "state"});
  auto& overdue = registry.AddGauge(
      "lienthong_bundles_overdue",
      "Open bundles past their deadline in working days, by kind.", {"kind"});
  for (lienthong::v1::BundleKind kind : kKinds) {
    for (lienthong::v1::BundleState state : kOpenStates) {
      open.WithLabels({KindLabel(kind), StateLabel(state)})
          .SetCallback([s, kind, state] {
            auto counts = s->Read().open;
            auto it = counts.find({kind, state});
            return it == counts.end() ? 0.0 : static_cast<double>(it->second);
          });
    }
    overdue.WithLabels({KindLabel(kind)}).SetCallback([s, kind] {
      auto counts = s->Read().overdue;
      auto it = counts.find(kind);
      return it == counts.end() ? 0.0 : static_cast<double>(it->second);
    });
  }
  auto& steps_overdue = registry.AddGauge(
      "lienthong_bundle_steps_overdue",
      "Steps not done past their own deadline in working days, by step.",
      {"step"});
  for (const std::string& step : step_names) {
    steps_overdue.WithLabels({step}).SetCallback([s, step] {
      auto counts = s->Read().steps_overdue;
      auto it = counts.find(step);
      return it == counts.end() ? 0.0 : static_cast<double>(it->second);
    });
  }
  registry
      .AddGauge("lienthong_bundle_progress_pending",
                "Bundle progress updates not yet handed to the portal "
                "synchronisation.")
      .Get()
      .SetCallback([s] { return static_cast<double>(s->Read().progress_pending); });
  started_ = &registry.AddCounter("lienthong_bundles_started_total",
                                  "Bundles started, by kind.", {"kind"});
  finished_ = &registry.AddCounter(
      "lienthong_bundles_finished_total",
      "Bundles ended, by kind and final state (completed or stopped).",
      {"kind", "state"});
  step_calls_ = &registry.AddCounter(
      "lienthong_bundle_step_calls_total",
      "Calls to agencies for bundle steps, by adapter, operation and outcome "
      "(done, refused, invalid, unconfigured, retry).",
      {"adapter", "operation", "outcome"});
}

BundleMetrics::~BundleMetrics() {
  absl::MutexLock lock(&source_->mu);
  source_->counts = nullptr;
}

void BundleMetrics::Started(lienthong::v1::BundleKind kind) {
  started_->WithLabels({KindLabel(kind)}).Increment();
}

void BundleMetrics::Finished(lienthong::v1::BundleKind kind,
                             lienthong::v1::BundleState state) {
  finished_->WithLabels({KindLabel(kind), StateLabel(state)}).Increment();
}

void BundleMetrics::StepCall(absl::string_view adapter,
                             absl::string_view operation,
                             absl::string_view outcome) {
  step_calls_->WithLabels({adapter, operation, outcome}).Increment();
}

}  // namespace lienthong::bundle
