// NonceStore: the nonces of the sign-ins the gateway accepted, remembered
// until the ID token carrying each expires, so that the same nonce (and so a
// replayed authorisation response) is accepted once. OpenID Connect Core
// section 15.5.2 ("Nonce Implementation Notes").
//
// Nonces are kept as SHA-256 digests: fixed size, and nothing a portal chose
// is held in memory as given.
#ifndef LIENTHONG_ADAPTERS_VNEID_IDENTITY_NONCE_STORE_H_
#define LIENTHONG_ADAPTERS_VNEID_IDENTITY_NONCE_STORE_H_

#include <cstddef>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace lienthong::adapters::vneid {

class NonceStore {
 public:
  // Marks `nonce` used until `forget_after` (the token's expiry plus the
  // clock skew), first forgetting the nonces whose time has passed at `now`.
  // Returns OK the first time; UNAUTHENTICATED "nonce already used" while it
  // is remembered; RESOURCE_EXHAUSTED when `capacity` unexpired nonces are
  // held already. The capacity is the calling adapter's: a nonce is never
  // forgotten before its token expires, so a smaller capacity than the
  // store holds (a reload lowered it) refuses sign-ins until enough expire.
  // Thread-safe. REQUIRES: capacity > 0.
  absl::Status Use(absl::string_view nonce, absl::Time forget_after,
                   absl::Time now, size_t capacity);

  // Unexpired nonces held. Thread-safe.
  size_t size() const;

  // The store of the sign-ins to `issuer` for `client_id`: the one a live
  // adapter already holds, else a new one. A reload rebuilds the adapters
  // while the old ones still serve, so the nonces used before it stay used
  // after it: a new store would forget them and let their responses be
  // replayed. Getting it changes nothing, so a reload that fails after
  // building the new adapter leaves the running one as it was.
  // Thread-safe.
  static std::shared_ptr<NonceStore> Shared(const std::string& issuer,
                                            const std::string& client_id);

 private:
  using Entry = std::pair<absl::Time, std::string>;  // forget_after, digest
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.first > b.first;
    }
  };

  void ForgetExpired(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> used_ ABSL_GUARDED_BY(mu_);
  // The soonest to forget on top.
  std::priority_queue<Entry, std::vector<Entry>, Later> expiry_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace lienthong::adapters::vneid

#endif  // LIENTHONG_ADAPTERS_VNEID_IDENTITY_NONCE_STORE_H_
