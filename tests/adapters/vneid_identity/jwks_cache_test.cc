// JwksCache against a fake HTTP client that holds each fetch until the test
// answers it, on a fake clock: single flight, the unknown-kid rate limit,
// rotation, max age, stale-if-error, the retry of a failed fetch and what a
// failed fetch answers a kid not held.
#include "adapters/vneid_identity/jwks_cache.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/jwt_signer.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;

// Holds every request until Answer() is called; counts them.
class HeldHttp final : public HttpClient {
 public:
  void Send(HttpRequest request, HttpCallback done) override {
    absl::MutexLock lock(&mu_);
    urls_.push_back(request.url);
    deadlines_.push_back(request.deadline);
    held_.push_back(std::move(done));
  }
  int sent() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(urls_.size());
  }
  int held() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(held_.size());
  }
  // Answers the oldest held request.
  void Answer(absl::StatusOr<HttpResponse> response) {
    HttpCallback done;
    {
      absl::MutexLock lock(&mu_);
      ASSERT_FALSE(held_.empty());
      done = std::move(held_.front());
      held_.pop_front();
    }
    std::move(done)(std::move(response));
  }
  std::vector<std::string> urls() const {
    absl::MutexLock lock(&mu_);
    return urls_;
  }
  std::vector<absl::Time> deadlines() const {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> urls_;
  std::vector<absl::Time> deadlines_;
  std::deque<HttpCallback> held_;
};

HttpResponse Ok(const std::string& body) {
  HttpResponse r;
  r.status = 200;
  r.body = body;
  return r;
}

HttpResponse Status(long status) {
  HttpResponse r;
  r.status = status;
  return r;
}

// What a GetKey/Warm call got, once it got it.
struct Result {
  bool done = false;
  absl::StatusOr<PublicKey> key = absl::UnknownError("not answered");
};

class JwksCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* kid : {"k1", "k2"}) {
      keys_.push_back(*sim::GenerateRsaKey(2048));
      jwks_.push_back(*sim::RsaPublicJwk(keys_.back().get(), kid));
    }
  }

  void SetUp() override {
    JwksCache::Options options;
    options.request.url =
        "https://sso/realms/citizen/protocol/openid-connect/certs";
    options.min_refresh = absl::Seconds(30);
    options.max_age = absl::Hours(1);
    options.fetch_timeout = absl::Seconds(10);
    cache_ = std::make_unique<JwksCache>(options, &http_, &clock_);
  }

  // A JWK Set of the test keys named.
  static std::string Set(std::vector<int> which) {
    std::vector<std::string> keys;
    for (int i : which) keys.push_back(jwks_[i]);
    return absl::StrCat("{\"keys\":[", absl::StrJoin(keys, ","), "]}");
  }

  std::shared_ptr<Result> Get(const std::string& kid) {
    auto result = std::make_shared<Result>();
    cache_->GetKey(kid, [result](absl::StatusOr<PublicKey> key) {
      result->done = true;
      result->key = std::move(key);
    });
    return result;
  }

  std::shared_ptr<Result> Warm() {
    auto result = std::make_shared<Result>();
    cache_->Warm([result](absl::StatusOr<PublicKey> key) {
      result->done = true;
      result->key = std::move(key);
    });
    return result;
  }

  // Loads {k1} through a first fetch.
  void Load() {
    auto first = Get("k1");
    http_.Answer(Ok(Set({0})));
    ASSERT_TRUE(first->done);
    ASSERT_THAT(first->key.status(), IsOk());
  }

  static std::vector<sim::RsaKey> keys_;
  static std::vector<std::string> jwks_;
  HeldHttp http_;
  resilience::FakeClock clock_;
  std::unique_ptr<JwksCache> cache_;
};
std::vector<sim::RsaKey> JwksCacheTest::keys_;
std::vector<std::string> JwksCacheTest::jwks_;

TEST_F(JwksCacheTest, ConcurrentCallsShareOneFetch) {
  std::vector<std::shared_ptr<Result>> results;
  for (int i = 0; i < 20; ++i) results.push_back(Get("k1"));
  EXPECT_EQ(http_.sent(), 1);
  for (const auto& r : results) EXPECT_FALSE(r->done);
  http_.Answer(Ok(Set({0})));
  for (const auto& r : results) {
    ASSERT_TRUE(r->done);
    ASSERT_THAT(r->key.status(), IsOk());
    EXPECT_NE(r->key->get(), nullptr);
  }
  // Held keys answer at once.
  auto later = Get("k1");
  EXPECT_TRUE(later->done);
  EXPECT_EQ(http_.sent(), 1);
  EXPECT_EQ(http_.urls()[0],
            "https://sso/realms/citizen/protocol/openid-connect/certs");
}

TEST_F(JwksCacheTest, AnUnknownKidRefetchesAtMostOncePerMinRefresh) {
  Load();
  std::vector<std::shared_ptr<Result>> forged;
  for (int i = 0; i < 20; ++i)
    forged.push_back(Get(absl::StrCat("forged-", i)));
  EXPECT_EQ(http_.sent(), 2);  // one refetch for all twenty
  http_.Answer(Ok(Set({0})));
  for (const auto& r : forged) {
    ASSERT_TRUE(r->done);
    EXPECT_THAT(r->key.status(), StatusIs(absl::StatusCode::kUnauthenticated,
                                          "id token signed by an unknown key"));
  }
  // Within min_refresh: refused from the keys held, no fetch.
  clock_.Advance(absl::Seconds(29));
  auto again = Get("forged-again");
  ASSERT_TRUE(again->done);
  EXPECT_THAT(again->key.status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "id token signed by an unknown key"));
  EXPECT_EQ(http_.sent(), 2);
  // Known keys still answer.
  EXPECT_THAT(Get("k1")->key.status(), IsOk());
  clock_.Advance(absl::Seconds(1));
  auto after = Get("forged-later");
  EXPECT_EQ(http_.sent(), 3);
  http_.Answer(Ok(Set({0})));
  EXPECT_THAT(after->key.status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "id token signed by an unknown key"));
}

// A clock stepped back does not hold off a rotation's keys for the step
// plus min_refresh: the keys are fetched again at once; the next fetch for
// an unknown kid restarts min_refresh from the new time.
TEST_F(JwksCacheTest, KeysAreRefetchedAtOnceWhenTheClockStepsBack) {
  Load();
  auto forged = Get("forged");
  EXPECT_EQ(http_.sent(), 2);
  http_.Answer(Ok(Set({0})));
  ASSERT_TRUE(forged->done);

  clock_.Advance(-absl::Hours(24));
  auto rotated = Get("k2");
  EXPECT_EQ(http_.sent(), 3);
  http_.Answer(Ok(Set({0, 1})));
  ASSERT_TRUE(rotated->done);
  EXPECT_THAT(rotated->key.status(), IsOk());
  auto forged_again = Get("forged-again");
  EXPECT_EQ(http_.sent(), 4);
  http_.Answer(Ok(Set({0, 1})));
  ASSERT_TRUE(forged_again->done);
  clock_.Advance(absl::Seconds(29));
  EXPECT_FALSE(Get("forged-later")->key.ok());
  EXPECT_EQ(http_.sent(), 4);
}

TEST_F(JwksCacheTest, ARotatedKeyIsFetchedOnceAndThenHeld) {
  Load();
  auto rotated = Get("k2");
  EXPECT_EQ(http_.sent(), 2);
  http_.Answer(Ok(Set({0, 1})));
  ASSERT_TRUE(rotated->done);
  EXPECT_THAT(rotated->key.status(), IsOk());
  EXPECT_THAT(Get("k2")->key.status(), IsOk());
  EXPECT_THAT(Get("k1")->key.status(), IsOk());
  EXPECT_EQ(http_.sent(), 2);
}

// The realm rotated to k2 and fails just then. The sign-in with k2 learns
// that the realm failed, not that its token is forged, and the failed fetch
// does not use up the unknown-kid allowance: k2 is looked for again as soon
// as the failure backoff (1 s) is over, not min_refresh (30 s) later.
TEST_F(JwksCacheTest, AFailedFetchForAnUnknownKidIsUnavailableAndRetriedSoon) {
  Load();
  auto rotated = Get("k2");
  EXPECT_EQ(http_.sent(), 2);
  http_.Answer(Status(503));  // retried once at once ...
  EXPECT_EQ(http_.sent(), 3);
  http_.Answer(Status(503));  // ... and given up
  ASSERT_TRUE(rotated->done);
  EXPECT_THAT(rotated->key.status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       "VNeID signing keys unavailable: HTTP 503"));
  // The key held still serves.
  EXPECT_THAT(Get("k1")->key.status(), IsOk());
  // Within the failure backoff: no fetch, and still not called forged.
  clock_.Advance(absl::Milliseconds(500));
  auto soon = Get("k2");
  ASSERT_TRUE(soon->done);
  EXPECT_THAT(
      soon->key.status(),
      StatusIs(absl::StatusCode::kUnavailable,
               "VNeID signing keys unavailable: a fetch failed just now"));
  EXPECT_EQ(http_.sent(), 3);
  // After it: fetched again, and the rotated key is found.
  clock_.Advance(absl::Seconds(2));
  auto later = Get("k2");
  EXPECT_EQ(http_.sent(), 4);
  http_.Answer(Ok(Set({0, 1})));
  ASSERT_TRUE(later->done);
  ASSERT_THAT(later->key.status(), IsOk());
  EXPECT_NE(later->key->get(), nullptr);
  // That fetch got the keys, so it spent the allowance.
  auto forged = Get("forged");
  ASSERT_TRUE(forged->done);
  EXPECT_THAT(forged->key.status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "id token signed by an unknown key"));
  EXPECT_EQ(http_.sent(), 4);
}

// Calls waiting on one failed fetch: a kid held is served from the keys
// held, a kid not held gets the fetch's own failure.
TEST_F(JwksCacheTest, AFailedFetchServesHeldKidsAndFailsTheOthers) {
  Load();
  clock_.Advance(absl::Hours(1));
  auto stale = Get("k1");  // too old: starts a fetch
  auto unheld = Get("k2");
  auto warm = Warm();
  EXPECT_EQ(http_.sent(), 2);
  http_.Answer(absl::DeadlineExceededError("slow"));  // not retried
  ASSERT_TRUE(stale->done);
  EXPECT_THAT(stale->key.status(), IsOk());
  ASSERT_TRUE(unheld->done);
  EXPECT_THAT(unheld->key.status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       "VNeID did not answer in time"));
  ASSERT_TRUE(warm->done);
  EXPECT_THAT(warm->key.status(), IsOk());
  EXPECT_EQ(http_.sent(), 2);
}

// The fetch serves every call waiting for it: the call that happened to
// start it, out of time, neither shortens it nor stops its retry.
TEST_F(JwksCacheTest, TheSharedFetchRunsForItsOwnTimeout) {
  // Not the deadline of the call that started it: one call with little
  // time left must not fail it for the others waiting on it.
  const absl::Time before = absl::Now();
  auto first = Get("k1");
  auto second = Get("k1");
  ASSERT_EQ(http_.sent(), 1);
  EXPECT_GE(http_.deadlines()[0], before + absl::Seconds(10));
  http_.Answer(Status(503));  // retried: the fetch still has time
  ASSERT_EQ(http_.sent(), 2);
  http_.Answer(Ok(Set({0})));
  ASSERT_TRUE(second->done);
  EXPECT_THAT(second->key.status(), IsOk());
  ASSERT_TRUE(first->done);
  EXPECT_THAT(first->key.status(), IsOk());
}

TEST_F(JwksCacheTest, OldKeysAreRefetchedAndServeWhileTheRealmFails) {
  Load();
  clock_.Advance(absl::Hours(1));
  auto stale = Get("k1");
  EXPECT_EQ(http_.sent(), 2);  // too old: refetched before use
  http_.Answer(Status(503));   // retried once at once ...
  EXPECT_EQ(http_.sent(), 3);
  http_.Answer(Status(503));  // ... and given up: stale-if-error
  ASSERT_TRUE(stale->done);
  EXPECT_THAT(stale->key.status(), IsOk());
  // A dropped key goes at the next successful fetch.
  clock_.Advance(absl::Seconds(1));
  auto next = Get("k1");
  http_.Answer(Ok(Set({1})));
  EXPECT_THAT(next->key.status(),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "id token signed by an unknown key"));
}

// A set with no usable key (a realm's glitch) is a failed fetch: the keys
// held stay, and a sign-in is not sent on to spend its code for nothing.
TEST_F(JwksCacheTest, ASetWithoutUsableKeysKeepsTheKeysHeld) {
  Load();
  clock_.Advance(absl::Hours(1));
  auto stale = Get("k1");
  http_.Answer(Ok(R"({"keys":[]})"));
  ASSERT_TRUE(stale->done);
  ASSERT_THAT(stale->key.status(), IsOk());
  EXPECT_NE(stale->key->get(), nullptr);
}

TEST_F(JwksCacheTest,
       WithoutKeysAFailedFetchIsUnavailableAndNotRepeatedAtOnce) {
  auto first = Warm();
  http_.Answer(absl::UnavailableError("connection refused"));
  http_.Answer(absl::UnavailableError("connection refused"));
  ASSERT_TRUE(first->done);
  EXPECT_THAT(first->key.status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       "VNeID signing keys unavailable: realm unreachable"));
  EXPECT_EQ(http_.sent(), 2);
  auto soon = Get("k1");
  ASSERT_TRUE(soon->done);
  EXPECT_THAT(
      soon->key.status(),
      StatusIs(absl::StatusCode::kUnavailable,
               "VNeID signing keys unavailable: a fetch failed just now"));
  EXPECT_EQ(http_.sent(), 2);
  clock_.Advance(absl::Seconds(1));
  auto later = Warm();
  EXPECT_EQ(http_.sent(), 3);
  http_.Answer(Ok(Set({0})));
  ASSERT_TRUE(later->done);
  EXPECT_THAT(later->key.status(), IsOk());
  EXPECT_EQ(later->key->get(), nullptr);  // Warm answers no key
}

TEST_F(JwksCacheTest, FailuresThatAreNotTransientAreNotRetried) {
  struct Case {
    absl::StatusOr<HttpResponse> answer;
    absl::StatusCode code;
    const char* message;
  } const kCases[] = {
      {Status(404), absl::StatusCode::kUnavailable,
       "VNeID signing keys unavailable: HTTP 404"},
      {Ok("<html>"), absl::StatusCode::kUnavailable,
       "VNeID sent malformed signing keys: not a JWK Set"},
      {Ok(R"({"keys":[]})"), absl::StatusCode::kUnavailable,
       "VNeID signing keys unavailable: the realm's key set holds no usable "
       "key"},
      {absl::DeadlineExceededError("slow"), absl::StatusCode::kDeadlineExceeded,
       "VNeID did not answer in time"},
  };
  for (const Case& c : kCases) {
    SetUp();
    int before = http_.sent();
    auto result = Get("k1");
    http_.Answer(c.answer);
    ASSERT_TRUE(result->done) << c.message;
    EXPECT_THAT(result->key.status(), StatusIs(c.code, c.message));
    EXPECT_EQ(http_.sent(), before + 1) << c.message;
  }
}

TEST_F(JwksCacheTest, WarmWithFreshKeysMakesNoFetch) {
  Load();
  auto warm = Warm();
  ASSERT_TRUE(warm->done);
  EXPECT_THAT(warm->key.status(), IsOk());
  EXPECT_EQ(http_.sent(), 1);
}

}  // namespace
}  // namespace lienthong::adapters::vneid
