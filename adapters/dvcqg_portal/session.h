// SessionCache: the one portal session that the "dvcqg-portal-rest"
// adapter's calls share. The portal hands out a session at sign-in and
// refuses it at some point (docs/wire-formats.md says how that shows); the
// session is reused until then. A refused session is forgotten, and the
// next caller signs in again; callers that arrive while a sign-in is on its
// way wait for it, so however many calls saw the refusal, one sign-in
// request goes out.
//
//   SessionCache sessions([&](absl::Time deadline, SessionCache::Done done) {
//     ... POST the sign-in, then std::move(done)(session or error) ...
//   });
//   sessions.Acquire([](absl::StatusOr<SessionCache::Session> s) {
//     ... send with s->token; on refusal: sessions.Refused(s->generation) ...
//   });
//
// Thread-safe. Callbacks run with no lock held: at once on the caller's
// thread when a session is held, else on the thread that finished the
// sign-in.
//
// A sign-in the portal refuses for its credentials (AreCredentialsRefused)
// pauses sign-ins: for 1 minute, doubling with each such refusal in a row,
// at most 30; meanwhile Acquire fails at once with that refusal. A wrong or
// rotated password would otherwise be tried every few seconds (each retry
// of each waiting change), and the portal's account locked.
//
// A sign-in runs for its own timeout, not until the deadline of the call
// that started it: it serves every call waiting for it, and one call with
// little time left must not fail it for the others. A call answered after
// its deadline finds its request refused by the HTTP client (the deadline
// has passed), and the session stays held for the next.
#ifndef LIENTHONG_ADAPTERS_DVCQG_PORTAL_SESSION_H_
#define LIENTHONG_ADAPTERS_DVCQG_PORTAL_SESSION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace lienthong::adapters::dvcqg {

class SessionCache {
 public:
  struct Session {
    std::string token;
    // Increases with every sign-in; names the session in Refused().
    int64_t generation = 0;
  };
  using Done = absl::AnyInvocable<void(absl::StatusOr<std::string>) &&>;
  // Signs in, to be answered by `deadline`; calls `done` exactly once with
  // the new session or the failure. Must not call back into the cache
  // synchronously.
  using SignIn = absl::AnyInvocable<void(absl::Time deadline, Done done)>;
  using Ready = absl::AnyInvocable<void(absl::StatusOr<Session>) &&>;

  // A session is used for `max_age` after its sign-in at most; then the
  // next Acquire signs in again.
  explicit SessionCache(SignIn sign_in,
                        absl::Duration max_age = absl::InfiniteDuration(),
                        absl::Duration sign_in_timeout = absl::Seconds(10),
                        std::function<absl::Time()> now = absl::Now)
      : sign_in_(std::move(sign_in)),
        max_age_(max_age),
        sign_in_timeout_(sign_in_timeout),
        now_(std::move(now)) {}

  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;

  // Calls `ready` with the session held, or with the next one once a
  // sign-in (started now, to be answered within the sign-in timeout, unless
  // one is on its way) ends; with the sign-in's failure if it fails (the
  // next Acquire tries again).
  void Acquire(Ready ready);

  // The portal refused the session of `generation`: forget it, unless it
  // has been replaced already.
  void Refused(int64_t generation);

  // Sign-ins started so far.
  int64_t sign_ins() const;

 private:
  void Finish(absl::StatusOr<std::string> result);

  SignIn sign_in_;
  const absl::Duration max_age_;
  const absl::Duration sign_in_timeout_;
  const std::function<absl::Time()> now_;
  mutable absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  absl::Time signed_in_at_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool signing_in_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Ready> waiting_ ABSL_GUARDED_BY(mu_);
  int64_t sign_ins_ ABSL_GUARDED_BY(mu_) = 0;
  // The last sign-in's refusal of the credentials, and until when no other
  // is tried; refusals in a row.
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
  absl::Time paused_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int refusals_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lienthong::adapters::dvcqg

#endif  // LIENTHONG_ADAPTERS_DVCQG_PORTAL_SESSION_H_
