// SessionCache: one sign-in however many callers wait, refusals by
// generation, failures passed to every waiter.
#include "adapters/dvcqg_portal/session.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/dvcqg_portal/portal_response.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::dvcqg {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;

// Holds each sign-in until the test answers it.
class FakeSignIn {
 public:
  SessionCache::SignIn Function() {
    return [this](absl::Time, SessionCache::Done done) {
      pending_.push_back(std::move(done));
    };
  }
  size_t started() const { return started_ + pending_.size(); }
  void Answer(absl::StatusOr<std::string> result) {
    ASSERT_FALSE(pending_.empty());
    SessionCache::Done done = std::move(pending_.front());
    pending_.erase(pending_.begin());
    ++started_;
    std::move(done)(std::move(result));
  }

 private:
  std::vector<SessionCache::Done> pending_;
  size_t started_ = 0;
};

struct Got {
  std::vector<absl::StatusOr<SessionCache::Session>> sessions;
  SessionCache::Ready Sink() {
    return [this](absl::StatusOr<SessionCache::Session> s) {
      sessions.push_back(std::move(s));
    };
  }
};

TEST(SessionCacheTest, OneSignInForEveryoneWaiting) {
  FakeSignIn sign_in;
  SessionCache cache(sign_in.Function());
  Got got;
  for (int i = 0; i < 5; ++i) cache.Acquire(got.Sink());
  EXPECT_EQ(sign_in.started(), 1u);
  EXPECT_TRUE(got.sessions.empty());
  sign_in.Answer(std::string("s1"));
  ASSERT_EQ(got.sessions.size(), 5u);
  for (const auto& s : got.sessions) {
    ASSERT_THAT(s, IsOk());
    EXPECT_EQ(s->token, "s1");
    EXPECT_EQ(s->generation, 1);
  }
  // Held: answered at once, no sign-in.
  cache.Acquire(got.Sink());
  EXPECT_EQ(got.sessions.size(), 6u);
  EXPECT_EQ(cache.sign_ins(), 1);
}

TEST(SessionCacheTest, RefusalOfAnOldGenerationKeepsTheNewSession) {
  FakeSignIn sign_in;
  SessionCache cache(sign_in.Function());
  Got got;
  cache.Acquire(got.Sink());
  sign_in.Answer(std::string("s1"));
  // Three callers saw s1 refused; the first renews it.
  cache.Refused(1);
  cache.Acquire(got.Sink());
  cache.Refused(1);
  cache.Acquire(got.Sink());
  EXPECT_EQ(sign_in.started(), 2u);
  sign_in.Answer(std::string("s2"));
  // A late refusal of s1 does not throw s2 away.
  cache.Refused(1);
  cache.Acquire(got.Sink());
  ASSERT_EQ(got.sessions.size(), 4u);
  EXPECT_EQ(got.sessions[3]->token, "s2");
  EXPECT_EQ(got.sessions[3]->generation, 2);
  EXPECT_EQ(cache.sign_ins(), 2);
  // Refusing s2 itself does.
  cache.Refused(2);
  cache.Acquire(got.Sink());
  EXPECT_EQ(cache.sign_ins(), 3);
}

TEST(SessionCacheTest, FailedSignInReachesEveryWaiterAndIsTriedAgain) {
  FakeSignIn sign_in;
  SessionCache cache(sign_in.Function());
  Got got;
  cache.Acquire(got.Sink());
  cache.Acquire(got.Sink());
  sign_in.Answer(absl::UnavailableError("refused"));
  ASSERT_EQ(got.sessions.size(), 2u);
  EXPECT_THAT(got.sessions[0], StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_THAT(got.sessions[1], StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  cache.Acquire(got.Sink());
  EXPECT_EQ(sign_in.started(), 2u);
  sign_in.Answer(std::string("s"));
  ASSERT_EQ(got.sessions.size(), 3u);
  EXPECT_THAT(got.sessions[2], IsOk());
}

// Refused credentials pause sign-ins (1 minute, then 2, ...): each retry of
// each waiting change would otherwise sign in with a wrong password again,
// and the portal would lock the account. An unreachable portal does not.
TEST(SessionCacheTest, RefusedCredentialsPauseTheSignIns) {
  FakeSignIn sign_in;
  absl::Time now = absl::FromUnixSeconds(1'900'000'000);
  SessionCache cache(sign_in.Function(), absl::InfiniteDuration(),
                     absl::Seconds(10), [&now] { return now; });
  Got got;
  cache.Acquire(got.Sink());
  sign_in.Answer(CredentialsRefused(absl::UnavailableError("refused")));
  cache.Acquire(got.Sink());  // paused: answered at once, nothing sent
  EXPECT_EQ(sign_in.started(), 1u);
  ASSERT_EQ(got.sessions.size(), 2u);
  EXPECT_THAT(got.sessions[1], StatusIs(absl::StatusCode::kUnavailable,
                                        ::testing::HasSubstr("refused")));
  now += absl::Seconds(61);
  cache.Acquire(got.Sink());
  EXPECT_EQ(sign_in.started(), 2u);
  sign_in.Answer(CredentialsRefused(absl::UnavailableError("refused")));
  now += absl::Seconds(61);  // the second pause is 2 minutes
  cache.Acquire(got.Sink());
  EXPECT_EQ(sign_in.started(), 2u);
  now += absl::Seconds(60);
  cache.Acquire(got.Sink());
  ASSERT_EQ(sign_in.started(), 3u);
  sign_in.Answer(std::string("s"));
  EXPECT_THAT(got.sessions.back(), IsOk());
  // An unreachable portal is tried again at once.
  cache.Refused(got.sessions.back()->generation);
  cache.Acquire(got.Sink());
  sign_in.Answer(absl::UnavailableError("unreachable"));
  cache.Acquire(got.Sink());
  EXPECT_EQ(sign_in.started(), 5u);
}

// A session is used for its maximum age at most (the public client signs in
// every 10 minutes): a portal that shows expiry some way the adapter does
// not read is not used with a dead session for ever.
TEST(SessionCacheTest, ASessionIsUsedForItsMaximumAgeAtMost) {
  FakeSignIn sign_in;
  absl::Time now = absl::FromUnixSeconds(1'900'000'000);
  SessionCache cache(sign_in.Function(), absl::Minutes(10), absl::Seconds(10),
                     [&now] { return now; });
  Got got;
  cache.Acquire(got.Sink());
  sign_in.Answer(std::string("s1"));
  now += absl::Minutes(9);
  cache.Acquire(got.Sink());  // still fresh
  EXPECT_EQ(sign_in.started(), 1u);
  now += absl::Minutes(1);
  cache.Acquire(got.Sink());
  ASSERT_EQ(sign_in.started(), 2u);
  sign_in.Answer(std::string("s2"));
  ASSERT_EQ(got.sessions.size(), 3u);
  ASSERT_THAT(got.sessions[2], IsOk());
  EXPECT_EQ(got.sessions[2]->token, "s2");
  EXPECT_GT(got.sessions[2]->generation, got.sessions[0]->generation);
}

TEST(SessionCacheTest, SignInAnsweredAtOnceMayAcquireAgain) {
  // A sign-in refused on the caller's thread (HTTP client shutting down)
  // calls back inside sign_in; a waiter acquiring again starts a new one.
  int calls = 0;
  SessionCache* cache_ptr = nullptr;
  SessionCache cache([&](absl::Time, SessionCache::Done done) {
    ++calls;
    std::move(done)(absl::CancelledError("shutting down"));
  });
  cache_ptr = &cache;
  int answers = 0;
  cache.Acquire([&](absl::StatusOr<SessionCache::Session> s) {
    ++answers;
    EXPECT_FALSE(s.ok());
    if (answers == 1) {
      cache_ptr->Acquire(
          [&](absl::StatusOr<SessionCache::Session>) { ++answers; });
    }
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(answers, 2);
}

}  // namespace
}  // namespace lienthong::adapters::dvcqg
