// Registry: the gateway's Prometheus metrics, rendered in the text exposition
// format 0.0.4 for the admin endpoint's /metrics. Family<T>: one metric name
// with its help text and label names, owning one series per set of label
// values.
//
// Register each family once at start-up, look up each series once, and keep
// the reference: series live as long as the Registry, so the hot path is an
// atomic update with no lock and no map lookup.
//
//   metrics::Registry registry;
//   metrics::Family<metrics::Counter>& calls = registry.AddCounter(
//       "lienthong_calls_total", "Calls by method, client, system and code.",
//       {"method", "client", "system", "code"});
//   metrics::Counter& ok =
//       calls.WithLabels({"Verify", "ubnd-hy", "vneid", "OK"});
//   ok.Increment();  // on every call: one relaxed atomic add
//   std::string text = registry.Render();
//
// LABEL CARDINALITY: every distinct set of label values is a series kept in
// memory for the life of the process and by Prometheus for months. Label
// values must come from small closed sets (method names, configured client
// and system names, status codes, breaker states). NEVER use a citizen ID
// (số định danh / CMND), a name, a dossier number (MaHoSo), a request id or
// any other personal or per-request value as a label: that leaks personal
// data to everyone who can read the metrics and grows without bound. As a
// last guard a family holds at most kMaxSeriesPerFamily series; updates to
// label sets beyond that are dropped (logged once per family).
#ifndef LIENTHONG_GATEWAY_METRICS_REGISTRY_H_
#define LIENTHONG_GATEWAY_METRICS_REGISTRY_H_

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "gateway/metrics/metric.h"

namespace lienthong::metrics {

// Most series one family holds; see LABEL CARDINALITY above.
inline constexpr std::size_t kMaxSeriesPerFamily = 10000;

class Registry;

namespace internal {

class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  // Appends the family's HELP, TYPE and sample lines; nothing when it has no
  // series yet.
  virtual void Render(std::string* out) const = 0;
};

// Orders label-value tuples and lets a std::map find a stored
// std::vector<std::string> key from a span of string_views without copying.
struct LabelValuesLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i) {
      const int c = absl::string_view(a[i]).compare(absl::string_view(b[i]));
      if (c != 0) return c < 0;
    }
    return a.size() < b.size();
  }
};

}  // namespace internal

// One metric name and its series. T is Counter, Gauge or Histogram. Created
// only by Registry; lives as long as it.
template <typename T>
class Family final : public internal::FamilyBase {
 public:
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // Returns the series for `label_values`, given in the order the label
  // names were declared, creating it (at zero) on first use. The reference
  // stays valid for the Registry's lifetime: look it up once and keep it.
  // Past kMaxSeriesPerFamily series, returns a shared series that is never
  // rendered. Thread-safe (takes the family's lock).
  // REQUIRES: label_values.size() == label_names().size(); a mismatch is a
  // programming error and aborts the process with a message naming the
  // family.
  T& WithLabels(absl::Span<const absl::string_view> label_values);

  // Returns the only series of a family declared without labels.
  // REQUIRES: label_names() is empty.
  T& Get() { return WithLabels({}); }

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Returns how many series exist (the unrendered overflow series aside).
  // Thread-safe.
  std::size_t size() const;

 private:
  friend class Registry;

  struct Series {
    std::string labels;  // rendered: method="Verify",code="OK"
    std::unique_ptr<T> metric;
  };

  Family(std::string name, std::string help,
         std::vector<std::string> label_names, std::vector<double> bounds);

  std::unique_ptr<T> NewMetric() const;
  void Render(std::string* out) const override;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;   // histograms only
  const std::vector<std::string> le_;  // histograms: rendered bounds, +Inf
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, Series, internal::LabelValuesLess> series_
      ABSL_GUARDED_BY(mu_);
  std::unique_ptr<T> overflow_ ABSL_GUARDED_BY(mu_);
};

// Owns metric families and renders them. Thread-safe: families may be added
// while others update series and while a scrape renders.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Register a family and return it; it lives as long as the Registry. A
  // counter's name should end in _total; a histogram of durations should end
  // in _seconds. `help` may be any UTF-8 text.
  //
  // Fail with INVALID_ARGUMENT when `name` or a label name is invalid
  // (exposition.h), a label name repeats, a histogram declares the label
  // "le", or histogram buckets are not finite and strictly increasing; with
  // ALREADY_EXISTS when the name, or a sample name it produces (a
  // histogram's _bucket, _sum, _count), is already in use. Thread-safe.
  absl::StatusOr<Family<Counter>*> TryAddCounter(
      absl::string_view name, absl::string_view help,
      std::vector<std::string> label_names = {});
  absl::StatusOr<Family<Gauge>*> TryAddGauge(
      absl::string_view name, absl::string_view help,
      std::vector<std::string> label_names = {});
  // `buckets` are upper bounds; the +Inf bucket is implicit.
  absl::StatusOr<Family<Histogram>*> TryAddHistogram(
      absl::string_view name, absl::string_view help,
      std::vector<std::string> label_names = {},
      std::vector<double> buckets = DefaultLatencyBuckets());

  // As the Try versions, for names fixed in the code: an error there is a
  // programming error, so these abort the process with the error's message.
  Family<Counter>& AddCounter(absl::string_view name, absl::string_view help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(absl::string_view name, absl::string_view help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(
      absl::string_view name, absl::string_view help,
      std::vector<std::string> label_names = {},
      std::vector<double> buckets = DefaultLatencyBuckets());

  // Returns every family with at least one series, sorted by name, in the
  // Prometheus text format 0.0.4 (serve it with kTextContentType): HELP and
  // TYPE lines, then samples with labels in declared order, series sorted by
  // label values. Runs gauge callbacks. Thread-safe.
  std::string Render() const;

 private:
  template <typename T>
  absl::StatusOr<Family<T>*> Add(absl::string_view name, absl::string_view help,
                                 std::vector<std::string> label_names,
                                 std::vector<double> buckets);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<internal::FamilyBase>, std::less<>>
      families_ ABSL_GUARDED_BY(mu_);
  // Every family and sample name in use, so that, say, a gauge "x_count"
  // cannot collide with the histogram "x".
  absl::flat_hash_set<std::string> names_ ABSL_GUARDED_BY(mu_);
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace lienthong::metrics

#endif  // LIENTHONG_GATEWAY_METRICS_REGISTRY_H_
