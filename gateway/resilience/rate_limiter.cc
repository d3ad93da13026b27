#include "gateway/resilience/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace lienthong::resilience {

absl::Status ValidateRateLimit(const RateLimit& limit) {
  if (!(limit.per_second > 0) || std::isinf(limit.per_second)) {
    return absl::InvalidArgumentError(
        "rate limit per_second must be positive and finite");
  }
  if (limit.burst < 1) {
    return absl::InvalidArgumentError("rate limit burst must be at least 1");
  }
  return absl::OkStatus();
}

TokenBucket::TokenBucket(RateLimit limit, Clock* clock)
    : limit_(limit),
      clock_(clock),
      tokens_(limit.burst),
      refilled_at_(clock->Now()) {}

std::optional<absl::Duration> TokenBucket::TryAcquire() {
  absl::MutexLock lock(&mu_);
  // Read under the lock: a caller that read the time before waiting for the
  // lock would bring an older one, a small step back whose interval the
  // bucket would then refill twice.
  const absl::Time now = clock_->Now();
  if (now > refilled_at_) {
    tokens_ = std::min<double>(
        limit_.burst, tokens_ + absl::ToDoubleSeconds(now - refilled_at_) *
                                    limit_.per_second);
  }
  // A clock stepping back refills nothing for the step, and refilling goes
  // on from the new time: waiting for the old one to come round again would
  // refuse the client for as long as the step (an hour, say) while the
  // retry-after hint promises a second.
  refilled_at_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    ++counters_.allowed;
    return std::nullopt;
  }
  ++counters_.limited;
  return absl::Ceil(absl::Seconds((1 - tokens_) / limit_.per_second),
                    absl::Microseconds(1));
}

TokenBucket::Counters TokenBucket::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

absl::Status ValidateClientRateLimiterOptions(
    const ClientRateLimiterOptions& options) {
  for (const auto& [client, limit] : options.clients) {
    absl::Status status = ValidateRateLimit(limit);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", client, ": ", status.message()));
    }
  }
  if (options.default_limit.has_value()) {
    absl::Status status = ValidateRateLimit(*options.default_limit);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("default client limit: ", status.message()));
    }
  }
  return absl::OkStatus();
}

ClientRateLimiter::ClientRateLimiter(ClientRateLimiterOptions options,
                                     Clock* clock)
    : default_limit_(options.default_limit), clock_(clock) {
  for (const auto& [client, limit] : options.clients) {
    buckets_[client] = std::make_unique<TokenBucket>(limit, clock);
  }
}

TokenBucket* ClientRateLimiter::Bucket(absl::string_view client) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = buckets_.find(client);
    if (it != buckets_.end()) return it->second.get();
  }
  if (!default_limit_.has_value()) return nullptr;
  absl::MutexLock lock(&mu_);
  std::unique_ptr<TokenBucket>& bucket = buckets_[client];
  if (bucket == nullptr) {
    bucket = std::make_unique<TokenBucket>(*default_limit_, clock_);
  }
  return bucket.get();
}

std::optional<absl::Duration> ClientRateLimiter::TryAcquire(
    absl::string_view client) {
  TokenBucket* bucket = Bucket(client);
  if (bucket == nullptr) return std::nullopt;  // Unlimited.
  return bucket->TryAcquire();
}

std::vector<ClientRateLimiter::ClientCounters> ClientRateLimiter::counters()
    const {
  std::vector<ClientCounters> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [client, bucket] : buckets_) {
      const TokenBucket::Counters c = bucket->counters();
      out.push_back({client, c.allowed, c.limited});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ClientCounters& a, const ClientCounters& b) {
              return a.client < b.client;
            });
  return out;
}

struct ConcurrencyLimiter::Permit::State {
  explicit State(int64_t max) : max_in_flight(max) {}
  const int64_t max_in_flight;
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> allowed{0};
  std::atomic<int64_t> limited{0};
};

ConcurrencyLimiter::Permit& ConcurrencyLimiter::Permit::operator=(
    Permit&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
  }
  return *this;
}

ConcurrencyLimiter::Permit::~Permit() { Release(); }

void ConcurrencyLimiter::Permit::Release() {
  if (state_ == nullptr) return;
  state_->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  state_.reset();
}

ConcurrencyLimiter::ConcurrencyLimiter(int64_t max_in_flight)
    : state_(std::make_shared<Permit::State>(max_in_flight)) {}

ConcurrencyLimiter::~ConcurrencyLimiter() = default;

std::optional<ConcurrencyLimiter::Permit> ConcurrencyLimiter::TryAcquire() {
  int64_t current = state_->in_flight.load(std::memory_order_relaxed);
  do {
    if (current >= state_->max_in_flight) {
      state_->limited.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
  } while (!state_->in_flight.compare_exchange_weak(current, current + 1,
                                                    std::memory_order_acq_rel));
  state_->allowed.fetch_add(1, std::memory_order_relaxed);
  return Permit(state_);
}

ConcurrencyLimiter::Counters ConcurrencyLimiter::counters() const {
  Counters counters;
  counters.allowed = state_->allowed.load(std::memory_order_relaxed);
  counters.limited = state_->limited.load(std::memory_order_relaxed);
  counters.in_flight = state_->in_flight.load(std::memory_order_relaxed);
  counters.max_in_flight = state_->max_in_flight;
  return counters;
}

}  // namespace lienthong::resilience
