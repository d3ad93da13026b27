// JwksCache: the realm's signing keys (its JWK Set), fetched over HTTPS when
// first needed, kept, and fetched again when they are older than `max_age`
// or a token names a key id the cache does not hold. The realm rotates keys
// by publishing a new one and signing with it, so an unknown kid is worth
// one look; but anyone can put any kid in a forged token, so:
//  - at most one fetch is in flight; calls that need it wait for it;
//  - a fetch because of an unknown kid happens at most once per
//    `min_refresh` (the first load and `max_age` refreshes do not count), and
//    a failed fetch is not repeated within a second; calls that may not
//    fetch are answered from the keys held.
// A fetch that fails with a connection error or HTTP 502/503/504 is tried
// once more at once (a GET of public keys is safe to repeat). When a fetch
// fails, keys already held still serve (stale-if-error).
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWKS_CACHE_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWKS_CACHE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapters/common/http/http_client.h"
#include "adapters/vneid_identity/jwk.h"
#include "gateway/resilience/clock.h"

namespace lienthong::adapters::vneid {

class JwksCache {
 public:
  struct Options {
    // The GET to send: url and TLS files (method, body and deadline are set
    // here).
    HttpRequest request;
    absl::Duration min_refresh = absl::Seconds(30);
    absl::Duration max_age = absl::Hours(1);
    // A fetch gives up after this, or the deadline of the call that started
    // it, whichever is sooner.
    absl::Duration fetch_timeout = absl::Seconds(10);
  };
  // Receives a key, or for Warm() a null key meaning "keys are held".
  using Done = absl::AnyInvocable<void(absl::StatusOr<PublicKey>) &&>;

  // REQUIRES: `http` and `clock` outlive the cache, and so do the calls in
  // flight (the adapter is kept alive by the calls using it).
  JwksCache(Options options, HttpClient* http, resilience::Clock* clock);

  // Calls `done` with the key named `kid`: at once when held and fresh,
  // else after a fetch (or at once from the keys held, when no fetch may
  // start). Fails with UNAUTHENTICATED "id token signed by an unknown key"
  // when the realm's keys are known but none is `kid`; UNAVAILABLE "VNeID
  // signing keys unavailable: <why>" / DEADLINE_EXCEEDED when no keys could
  // be had. `done` runs on the caller's thread or the HTTP client's.
  // Thread-safe.
  void GetKey(std::string kid, absl::Time deadline, Done done);

  // Calls `done` with a null key once fresh keys are held (fetching them
  // when there are none or they are older than max_age), or with keys held
  // from before when a fetch failed; fails like GetKey when none are held.
  // Lets a sign-in learn that the realm is unreachable before its code is
  // spent. Thread-safe.
  void Warm(absl::Time deadline, Done done);

  // HTTP fetches started so far (each attempt counts). Thread-safe.
  int64_t fetches() const;

 private:
  struct Waiter {
    std::string kid;
    bool warm = false;
    Done done;
  };

  void Get(Waiter waiter, absl::Time deadline);
  // What the keys held answer `waiter`; `failure` is the error when none
  // are held.
  absl::StatusOr<PublicKey> FromHeld(const Waiter& waiter,
                                     const absl::Status& failure) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fetch(absl::Time deadline, int attempt);
  void Finish(absl::StatusOr<KeySet> keys);

  const Options options_;
  HttpClient* const http_;
  resilience::Clock* const clock_;

  mutable absl::Mutex mu_;
  KeySet keys_ ABSL_GUARDED_BY(mu_);
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time loaded_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_unknown_kid_fetch_ ABSL_GUARDED_BY(mu_) =
      absl::InfinitePast();
  absl::Time last_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  int64_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWKS_CACHE_H_
