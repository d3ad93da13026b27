// Counter, Gauge and Histogram: the three Prometheus metric kinds the gateway
// exports. Each object is one series (one set of label values); a
// Registry's Family creates and owns them (registry.h), and callers cache
// the reference so that the hot path is a few relaxed atomic operations with
// no lock and no map lookup.
//
//   // Once, at start-up or when a route is built:
//   Counter& ok = calls.WithLabels({"Verify", "ubnd-hy", "vneid", "OK"});
//   Histogram& verify_seconds = latency.WithLabels({"Verify", "vneid"});
//   Gauge& in_flight = calls_in_flight.WithLabels({"vneid"});
//   // On every call:
//   in_flight.Increment();  ...  in_flight.Decrement();
//   ok.Increment();
//   verify_seconds.Observe(absl::ToDoubleSeconds(elapsed));
#ifndef LIENTHONG_GATEWAY_METRICS_METRIC_H_
#define LIENTHONG_GATEWAY_METRICS_METRIC_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace lienthong::metrics {

// A monotonic count. Whole increments (calls, retries) take one lock-free
// fetch_add on an integer, so they stay exact past 2^53; fractional ones
// (seconds spent) go to a separate double. Thread-safe.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `n` (default 1). Lock-free, wait-free.
  void Increment(std::uint64_t n = 1) {
    whole_.fetch_add(n, std::memory_order_relaxed);
  }
  // Adds `amount`. Lock-free. Negative, NaN and infinite amounts are
  // ignored: a counter never goes down.
  void IncrementBy(double amount);

  // Returns the current total. Thread-safe.
  double Value() const;
  // Returns the sum of the whole increments alone, exact.
  std::uint64_t WholeValue() const {
    return whole_.load(std::memory_order_relaxed);
  }
  // Returns the sum of the fractional increments alone.
  double FractionalValue() const {
    return fractional_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> whole_{0};
  std::atomic<double> fractional_{0.0};
};

// A value that goes up and down (calls in flight, breaker state), or that is
// computed when scraped (days until a certificate expires). Thread-safe.
class Gauge {
 public:
  // Called at scrape time on the scraping thread. It must be thread-safe and
  // quick, and must not call the Registry that owns this gauge.
  using Callback = std::function<double()>;

  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  // Sets, raises or lowers the stored value. Lock-free. Ignored for the
  // exported value while a callback is set.
  void Set(double value) {
    bits_.store(ToBits(value), std::memory_order_relaxed);
  }
  void Increment(double amount = 1.0);
  void Decrement(double amount = 1.0) { Increment(-amount); }

  // Makes the gauge report `callback()` instead of its stored value; an
  // empty callback goes back to the stored value. Once SetCallback returns,
  // the previous callback is not running and is never called again, so the
  // owner of whatever it captured may then destroy it. Thread-safe.
  void SetCallback(Callback callback);

  // Returns the callback's value when one is set, else the stored value.
  // Thread-safe.
  double Value() const;

 private:
  static std::uint64_t ToBits(double value);
  static double FromBits(std::uint64_t bits);

  std::atomic<std::uint64_t> bits_{0};  // a double's bits; 0 is +0.0
  std::atomic<bool> has_callback_{false};
  mutable absl::Mutex callback_mu_;
  Callback callback_ ABSL_GUARDED_BY(callback_mu_);
};

// Returns the default latency buckets, in seconds: 0.5 ms to 30 s, roughly
// 1-2.5-5 per decade. Suits calls to national systems and our own handling.
std::vector<double> DefaultLatencyBuckets();

// Counts observations into fixed buckets (upper bounds fixed at creation,
// shared by the family) and keeps their sum. Thread-safe; Observe is
// lock-free.
class Histogram {
 public:
  // A consistent-enough copy for rendering and tests: `cumulative[i]` counts
  // observations <= bounds[i]; the last entry (one more than the bounds) is
  // the +Inf bucket and equals `count`.
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;
    std::uint64_t count = 0;
    double sum = 0.0;
  };

  // REQUIRES: `bounds` strictly increasing and finite, and outliving this
  // object (the Family keeps them).
  explicit Histogram(absl::Span<const double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records `value` in the first bucket whose bound is >= value (+Inf when
  // none). NaN is ignored. Lock-free.
  void Observe(double value);

  // Returns the counts and sum. Buckets are read one by one while others may
  // observe, but count is derived from the buckets, so the +Inf bucket and
  // count always agree. Thread-safe.
  Snapshot Collect() const;

  absl::Span<const double> bounds() const { return bounds_; }

 private:
  const absl::Span<const double> bounds_;
  // Per-bucket (not cumulative) counts; the extra last slot is for values
  // above every bound.
  const std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

}  // namespace lienthong::metrics

#endif  // LIENTHONG_GATEWAY_METRICS_METRIC_H_
