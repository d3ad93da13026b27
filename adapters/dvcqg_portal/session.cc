#include "adapters/dvcqg_portal/session.h"

#include <algorithm>
#include <utility>

#include "adapters/dvcqg_portal/portal_response.h"

namespace lienthong::adapters::dvcqg {

void SessionCache::Acquire(Ready ready) {
  Session held;
  absl::Status paused;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = now_();
    if (!token_.empty() && now - signed_in_at_ >= max_age_) token_.clear();
    if (token_.empty() && !signing_in_ && now < paused_until_) {
      paused = refusal_;
    } else if (token_.empty()) {
      waiting_.push_back(std::move(ready));
      if (signing_in_) return;
      signing_in_ = true;
      ++sign_ins_;
    } else {
      held = Session{token_, generation_};
    }
  }
  if (!paused.ok()) {
    std::move(ready)(std::move(paused));
    return;
  }
  if (!held.token.empty()) {
    std::move(ready)(std::move(held));
    return;
  }
  // The one sign-in for everybody waiting. sign_in_ is called without the
  // lock; only the caller that set signing_in_ gets here.
  sign_in_(absl::Now() + sign_in_timeout_,
           [this](absl::StatusOr<std::string> result) {
             Finish(std::move(result));
           });
}

void SessionCache::Finish(absl::StatusOr<std::string> result) {
  std::vector<Ready> waiting;
  absl::StatusOr<Session> outcome;
  {
    absl::MutexLock lock(&mu_);
    signing_in_ = false;
    if (result.ok()) {
      token_ = *std::move(result);
      signed_in_at_ = now_();
      ++generation_;
      outcome = Session{token_, generation_};
      refusals_ = 0;
    } else {
      outcome = result.status();
      if (AreCredentialsRefused(result.status())) {
        refusals_ = std::min(refusals_ + 1, 6);  // 1, 2, 4, ... 30 minutes
        refusal_ = result.status();
        paused_until_ =
            now_() + std::min(absl::Minutes(1) * (1 << (refusals_ - 1)),
                              absl::Minutes(30));
      }
    }
    waiting.swap(waiting_);
  }
  for (Ready& ready : waiting) std::move(ready)(outcome);
}

void SessionCache::Refused(int64_t generation) {
  absl::MutexLock lock(&mu_);
  if (generation == generation_) token_.clear();
}

int64_t SessionCache::sign_ins() const {
  absl::MutexLock lock(&mu_);
  return sign_ins_;
}

}  // namespace lienthong::adapters::dvcqg
