#include "gateway/metrics/metric.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace lienthong::metrics {
namespace {

// std::atomic<double> has no fetch_add before C++20.
void AtomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount,
                                       std::memory_order_relaxed)) {
  }
}

}  // namespace

void Counter::IncrementBy(double amount) {
  if (!(amount > 0.0) || std::isinf(amount)) return;  // also rejects NaN
  AtomicAdd(fractional_, amount);
}

double Counter::Value() const {
  return static_cast<double>(WholeValue()) + FractionalValue();
}

std::uint64_t Gauge::ToBits(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

double Gauge::FromBits(std::uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

void Gauge::Increment(double amount) {
  std::uint64_t current = bits_.load(std::memory_order_relaxed);
  while (!bits_.compare_exchange_weak(
      current, ToBits(FromBits(current) + amount), std::memory_order_relaxed)) {
  }
}

void Gauge::SetCallback(Callback callback) {
  absl::MutexLock lock(&callback_mu_);
  has_callback_.store(static_cast<bool>(callback), std::memory_order_release);
  callback_ = std::move(callback);
}

double Gauge::Value() const {
  if (has_callback_.load(std::memory_order_acquire)) {
    // The lock makes SetCallback wait for a scrape that is running the old
    // callback (see SetCallback's promise).
    absl::MutexLock lock(&callback_mu_);
    if (callback_) return callback_();
  }
  return FromBits(bits_.load(std::memory_order_relaxed));
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,   0.5,   1.0,    2.5,   5.0,  10.0,  30.0};
}

Histogram::Histogram(absl::Span<const double> bounds)
    : bounds_(bounds),
      counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  // Buckets are few (about 15): a binary search costs about four compares.
  const std::size_t index =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

}  // namespace lienthong::metrics
