// Admission limits: TokenBucket (a rate with a burst), ClientRateLimiter (one
// bucket per calling provincial system, so one noisy client cannot starve the
// others) and ConcurrencyLimiter (a cap on calls in flight to one national
// system). Each keeps counters for metrics.
//
//   if (std::optional<absl::Duration> wait = limiter.TryAcquire(client)) {
//     // RESOURCE_EXHAUSTED, with *wait as the retry-after hint.
//   }
//   std::optional<ConcurrencyLimiter::Permit> permit = in_flight.TryAcquire();
//   if (!permit) { /* fail the call */ }  // else the permit rides along
#ifndef LIENTHONG_GATEWAY_RESILIENCE_RATE_LIMITER_H_
#define LIENTHONG_GATEWAY_RESILIENCE_RATE_LIMITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"

namespace lienthong::resilience {

struct RateLimit {
  double per_second = 10;  // steady rate
  int burst = 10;          // tokens when full
};

// Returns OK, or INVALID_ARGUMENT naming the first bad field. Thread-safe.
absl::Status ValidateRateLimit(const RateLimit& limit);

// Starts full. Thread-safe.
class TokenBucket {
 public:
  struct Counters {
    int64_t allowed = 0;
    int64_t limited = 0;
  };

  // REQUIRES: ValidateRateLimit(limit).ok(); `clock` outlives the bucket.
  explicit TokenBucket(RateLimit limit, Clock* clock = RealClock());

  // Takes a token. Returns nullopt when one was available; otherwise how long
  // until one will be (rounded up to a microsecond), the caller's retry-after
  // hint. Thread-safe.
  std::optional<absl::Duration> TryAcquire();

  // Returns the totals since construction. Thread-safe.
  Counters counters() const;

 private:
  const RateLimit limit_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time refilled_at_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
};

struct ClientRateLimiterOptions {
  // Limits by client id (the identity from the client certificate).
  absl::flat_hash_map<std::string, RateLimit> clients;
  // For a client not listed: nullopt leaves it unlimited; otherwise it gets
  // its own bucket with this limit, made on its first call.
  std::optional<RateLimit> default_limit;
};

// Returns OK, or INVALID_ARGUMENT naming the client with a bad limit.
// Thread-safe.
absl::Status ValidateClientRateLimiterOptions(
    const ClientRateLimiterOptions& options);

// Immutable configuration; replace the whole limiter on reload (buckets
// start full again). Thread-safe.
class ClientRateLimiter {
 public:
  struct ClientCounters {
    std::string client;
    int64_t allowed = 0;
    int64_t limited = 0;
  };

  // REQUIRES: ValidateClientRateLimiterOptions(options).ok(); `clock`
  // outlives the limiter.
  explicit ClientRateLimiter(ClientRateLimiterOptions options,
                             Clock* clock = RealClock());

  // Returns nullopt when `client` may make a call now, else its retry-after.
  // Clients with buckets never affect one another. Thread-safe.
  std::optional<absl::Duration> TryAcquire(absl::string_view client);

  // Returns the counters of every client that has a bucket, by client id.
  // Thread-safe.
  std::vector<ClientCounters> counters() const;

 private:
  TokenBucket* Bucket(absl::string_view client);

  const std::optional<RateLimit> default_limit_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  // Buckets are never removed, so pointers to them stay valid. Lazily added
  // default buckets grow with the number of distinct authenticated clients.
  absl::flat_hash_map<std::string, std::unique_ptr<TokenBucket>> buckets_
      ABSL_GUARDED_BY(mu_);
};

// Caps the calls in flight to one national system. Lock-free; thread-safe.
// Permits share the limiter's state, so they may outlive the limiter.
class ConcurrencyLimiter {
 public:
  struct Counters {
    int64_t allowed = 0;
    int64_t limited = 0;
    int64_t in_flight = 0;
    int64_t max_in_flight = 0;
  };

  // One call's place in flight, released when destroyed. Move-only.
  class Permit {
   public:
    Permit(Permit&& other) noexcept = default;
    Permit& operator=(Permit&& other) noexcept;
    ~Permit();

   private:
    friend class ConcurrencyLimiter;
    struct State;
    explicit Permit(std::shared_ptr<State> state) : state_(std::move(state)) {}
    void Release();

    std::shared_ptr<State> state_;
  };

  // REQUIRES: max_in_flight >= 1.
  explicit ConcurrencyLimiter(int64_t max_in_flight);
  ~ConcurrencyLimiter();

  // Returns a permit when fewer than max_in_flight are held; nullopt
  // otherwise (the caller fails the call: there is no queue). Thread-safe.
  std::optional<Permit> TryAcquire();

  // Returns the totals since construction and the calls in flight now.
  // Thread-safe.
  Counters counters() const;

 private:
  std::shared_ptr<Permit::State> state_;
};

}  // namespace lienthong::resilience

#endif  // LIENTHONG_GATEWAY_RESILIENCE_RATE_LIMITER_H_
