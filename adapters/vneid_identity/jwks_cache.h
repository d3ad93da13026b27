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
// fails, keys already held still serve (stale-if-error), but a kid not
// among them gets the fetch's failure, not "unknown key": the realm's keys
// could not be looked at, and a rotation would look the same as a forgery.
// Nor does a failed fetch count against `min_refresh`, so that the rotated
// key is looked for again once the failure backoff is over.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWKS_CACHE_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWKS_CACHE_H_

#include <cstdint>
#include <optional>
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
    // A fetch gives up after this. Not the deadline of the call that
    // started it: the fetch serves every call waiting for it, and one call
    // with little time left must not fail it for the others.
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
  // be had, or when `kid` is not held and the fetch to look for it failed
  // (or one failed just now). A fetch runs for Options::fetch_timeout
  // whatever the caller's deadline, so `done` may run after it: the
  // caller's resilience layer answers its call at the deadline and drops a
  // late answer. `done` runs on the caller's thread or the HTTP client's.
  // Thread-safe.
  void GetKey(std::string kid, Done done);

  // Calls `done` with a null key once fresh keys are held (fetching them
  // when there are none or they are older than max_age), or with keys held
  // from before when a fetch failed; fails like GetKey when none are held.
  // Lets a sign-in learn that the realm is unreachable before its code is
  // spent. Thread-safe.
  void Warm(Done done);

  // HTTP fetches started so far (each attempt counts). Thread-safe.
  int64_t fetches() const;

 private:
  struct Waiter {
    std::string kid;
    bool warm = false;
    Done done;
  };

  void Get(Waiter waiter);
  // What the keys held answer `waiter`; `failure` is the error when none
  // are held, and also when `waiter.kid` is not held and `unheld_failed`:
  // a failure kept the cache from looking for it, so it is not known to be
  // forged.
  absl::StatusOr<PublicKey> FromHeld(const Waiter& waiter,
                                     const absl::Status& failure,
                                     bool unheld_failed) const
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
  // When the last unknown-kid fetch that succeeded started.
  absl::Time last_unknown_kid_fetch_ ABSL_GUARDED_BY(mu_) =
      absl::InfinitePast();
  // When the fetch in flight started, if it is for an unknown kid.
  std::optional<absl::Time> unknown_kid_fetch_started_ ABSL_GUARDED_BY(mu_);
  absl::Time last_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  int64_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_JWKS_CACHE_H_
