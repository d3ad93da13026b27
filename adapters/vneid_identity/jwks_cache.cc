#include "adapters/vneid_identity/jwks_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace lienthong::adapters::vneid {
namespace {

// A failed fetch is not repeated sooner than this.
constexpr absl::Duration kFailureBackoff = absl::Seconds(1);
constexpr int kMaxAttempts = 2;

absl::Status Unavailable(absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("VNeID signing keys unavailable: ", why));
}

}  // namespace

JwksCache::JwksCache(Options options, HttpClient* http,
                     resilience::Clock* clock)
    : options_(std::move(options)), http_(http), clock_(clock) {}

void JwksCache::GetKey(std::string kid, Done done) {
  Get(Waiter{std::move(kid), false, std::move(done)});
}

void JwksCache::Warm(Done done) { Get(Waiter{"", true, std::move(done)}); }

int64_t JwksCache::fetches() const {
  absl::MutexLock lock(&mu_);
  return fetches_;
}

absl::StatusOr<PublicKey> JwksCache::FromHeld(const Waiter& waiter,
                                              const absl::Status& failure,
                                              bool unheld_failed) const {
  if (!loaded_) return failure;
  if (waiter.warm) return PublicKey();
  auto it = keys_.find(waiter.kid);
  if (it == keys_.end()) {
    if (unheld_failed) return failure;
    return absl::UnauthenticatedError("id token signed by an unknown key");
  }
  return it->second;
}

void JwksCache::Get(Waiter waiter) {
  absl::StatusOr<PublicKey> answer;
  bool fetch = false;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    const bool fresh =
        loaded_ && !resilience::Elapsed(loaded_at_, now, options_.max_age);
    if (fresh && (waiter.warm || keys_.count(waiter.kid) > 0)) {
      answer = FromHeld(waiter, absl::OkStatus(), /*unheld_failed=*/false);
    } else if (in_flight_) {
      waiters_.push_back(std::move(waiter));
      return;
    } else {
      // Nothing held yet, or too old: a fetch is due. Fresh keys, unknown
      // kid: maybe a rotation, maybe a forgery, so one is due only once per
      // min_refresh.
      const bool due = !fresh || resilience::Elapsed(last_unknown_kid_fetch_,
                                                     now, options_.min_refresh);
      fetch = due && resilience::Elapsed(last_failure_, now, kFailureBackoff);
      if (fetch) {
        in_flight_ = true;
        if (fresh) unknown_kid_fetch_started_ = now;
        waiters_.push_back(std::move(waiter));
      } else {
        // Due but for the backoff: only the failure keeps an unheld kid
        // from being looked for.
        answer = FromHeld(waiter, Unavailable("a fetch failed just now"),
                          /*unheld_failed=*/due);
      }
    }
  }
  if (fetch) {
    Fetch(absl::Now() + options_.fetch_timeout, 1);
  } else {
    std::move(waiter.done)(std::move(answer));
  }
}

void JwksCache::Fetch(absl::Time deadline, int attempt) {
  {
    absl::MutexLock lock(&mu_);
    ++fetches_;
  }
  HttpRequest request = options_.request;
  request.method = "GET";
  request.body.clear();
  request.deadline = deadline;
  request.headers = {"Accept: application/json"};
  http_->Send(std::move(request), [this, deadline, attempt](
                                      absl::StatusOr<HttpResponse> response) {
    absl::StatusOr<KeySet> keys;
    bool transient = false;
    if (!response.ok()) {
      transient = response.status().code() == absl::StatusCode::kUnavailable;
      keys = response.status().code() == absl::StatusCode::kDeadlineExceeded
                 ? absl::DeadlineExceededError("VNeID did not answer in time")
                 : Unavailable("realm unreachable");
    } else if (response->status != 200) {
      transient = response->status == 502 || response->status == 503 ||
                  response->status == 504;
      keys = Unavailable(absl::StrCat("HTTP ", response->status));
    } else {
      keys = ParseJwkSet(response->body);
      // Nothing it could verify with (an empty set, or only keys of other
      // uses or algorithms): a failed fetch, so that the keys held stay
      // and no authorisation code is spent on a set that verifies nothing.
      if (keys.ok() && keys->empty()) {
        keys = Unavailable("the realm's key set holds no usable key");
      }
    }
    if (!keys.ok() && transient && attempt < kMaxAttempts &&
        absl::Now() < deadline) {
      Fetch(deadline, attempt + 1);
      return;
    }
    Finish(std::move(keys));
  });
}

void JwksCache::Finish(absl::StatusOr<KeySet> keys) {
  std::vector<Waiter> waiters;
  std::vector<absl::StatusOr<PublicKey>> answers;
  {
    absl::MutexLock lock(&mu_);
    in_flight_ = false;
    const absl::Time now = clock_->Now();
    if (keys.ok()) {
      keys_ = *std::move(keys);
      loaded_ = true;
      loaded_at_ = now;
      // Only a fetch that got the realm's keys spends the unknown-kid
      // allowance: after a failed one, a sign-in with a rotated key must
      // not be refused for min_refresh, just the failure backoff.
      if (unknown_kid_fetch_started_.has_value()) {
        last_unknown_kid_fetch_ = *unknown_kid_fetch_started_;
      }
    } else {
      last_failure_ = now;
    }
    unknown_kid_fetch_started_.reset();
    waiters.swap(waiters_);
    const absl::Status failure = keys.ok() ? absl::OkStatus() : keys.status();
    for (const Waiter& waiter : waiters) {
      // A failed fetch did not look for the kids not held: they get its
      // failure, not "unknown key".
      answers.push_back(
          FromHeld(waiter, failure, /*unheld_failed=*/!keys.ok()));
    }
  }
  // The last answer may end the last call holding this adapter: nothing
  // below touches `this`.
  for (size_t i = 0; i < waiters.size(); ++i) {
    std::move(waiters[i].done)(std::move(answers[i]));
  }
}

}  // namespace lienthong::adapters::vneid
