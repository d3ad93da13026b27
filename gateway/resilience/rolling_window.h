// RollingWindow: two event counters summed over a sliding time window, kept
// in ten buckets so that old events age out a bucket at a time. Used by the
// retry budget (requests, retries) and the circuit breaker (successes,
// failures). Internal to gateway/resilience.
#ifndef LIENTHONG_GATEWAY_RESILIENCE_ROLLING_WINDOW_H_
#define LIENTHONG_GATEWAY_RESILIENCE_ROLLING_WINDOW_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "absl/time/time.h"

namespace lienthong::resilience::internal {

// Not thread-safe: the owner locks.
class RollingWindow {
 public:
  static constexpr int kBuckets = 10;
  using Counts = std::array<int64_t, 2>;

  // REQUIRES: window >= 10ns.
  explicit RollingWindow(absl::Duration window) : width_(window / kBuckets) {}

  void Add(absl::Time now, int counter) {
    const int64_t index = Index(now);
    Bucket& bucket = buckets_[index % kBuckets];
    if (bucket.index != index) bucket = Bucket{index, {0, 0}};
    ++bucket.counts[counter];
  }

  // Returns both counters summed over the buckets within the window.
  Counts Sum(absl::Time now) {
    const int64_t index = Index(now);
    Counts sum = {0, 0};
    for (const Bucket& bucket : buckets_) {
      if (bucket.index > index - kBuckets) {
        sum[0] += bucket.counts[0];
        sum[1] += bucket.counts[1];
      }
    }
    return sum;
  }

  void Clear() { buckets_.fill(Bucket{}); }

 private:
  struct Bucket {
    int64_t index = std::numeric_limits<int64_t>::min();
    Counts counts = {0, 0};
  };

  // Bucket number of `now`; a clock that steps back reuses the newest bucket
  // rather than reviving old ones. A step back of a whole window or more (an
  // NTP step, a restored VM snapshot) would leave every event counted until
  // the old time came round again, an hour say: the window's own time goes
  // on from where it was instead, and the events age out as they would have.
  // Smaller steps, and callers whose times arrive a little out of order, only
  // keep the newest bucket a while longer.
  int64_t Index(absl::Time now) {
    now += stepped_back_;
    if (now <= latest_ - kBuckets * width_) {
      stepped_back_ += latest_ - now;
      now = latest_;
    }
    latest_ = std::max(latest_, now);
    absl::Duration unused;
    const int64_t index = absl::IDivDuration(
        std::max(now - absl::UnixEpoch(), absl::ZeroDuration()), width_,
        &unused);
    newest_ = std::max(newest_, index);
    return newest_;
  }

  const absl::Duration width_;
  int64_t newest_ = 0;
  // The latest time seen, and what Index() adds to the clock's time for the
  // large steps back it has seen.
  absl::Time latest_ = absl::InfinitePast();
  absl::Duration stepped_back_;
  std::array<Bucket, kBuckets> buckets_;
};

}  // namespace lienthong::resilience::internal

#endif  // LIENTHONG_GATEWAY_RESILIENCE_ROLLING_WINDOW_H_
