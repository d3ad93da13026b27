#include "gateway/resilience/rate_limiter.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::resilience {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::HasSubstr;

// Steps: "ok" (a token is taken), "limited=<dur>" (refused with that
// retry-after), "+<dur>" / "-<dur>" (move the clock).
TEST(TokenBucketTest, Script) {
  struct Case {
    std::string name;
    RateLimit limit;
    std::string script;
  };
  const Case kCases[] = {
      {"burst then limited", {2, 3}, "ok ok ok limited=500ms"},
      {"refills at the rate",
       {2, 3},
       "ok ok ok +250ms limited=250ms +250ms ok limited=500ms"},
      {"refill stops at the burst", {10, 2}, "ok ok +10s ok ok limited=100ms"},
      {"slower than one per second",
       {0.5, 1},
       "ok limited=2s +1s limited=1s +1s ok"},
      {"retry-after rounds up to a microsecond", {3, 1}, "ok limited=333334us"},
      {"a clock stepping back refills nothing for the step",
       {1, 1},
       "ok -1s limited=1s +500ms limited=500ms +500ms ok limited=1s"},
      {"refilling goes on from a clock stepped back an hour",
       {1, 1},
       "ok -1h limited=1s +1s ok"},
  };
  for (const Case& c : kCases) {
    FakeClock clock;
    TokenBucket bucket(c.limit, &clock);
    int allowed = 0, limited = 0;
    for (absl::string_view step :
         absl::StrSplit(c.script, ' ', absl::SkipEmpty())) {
      const std::string where = absl::StrCat(c.name, ": '", step, "'");
      absl::Duration d;
      if (step == "ok") {
        EXPECT_EQ(bucket.TryAcquire(), std::nullopt) << where;
        ++allowed;
      } else if (absl::ConsumePrefix(&step, "limited=")) {
        ASSERT_TRUE(absl::ParseDuration(step, &d)) << where;
        EXPECT_EQ(bucket.TryAcquire(), d) << where;
        ++limited;
      } else if (absl::ConsumePrefix(&step, "+")) {
        ASSERT_TRUE(absl::ParseDuration(step, &d)) << where;
        clock.Advance(d);
      } else if (absl::ConsumePrefix(&step, "-")) {
        ASSERT_TRUE(absl::ParseDuration(step, &d)) << where;
        clock.Advance(-d);
      } else {
        FAIL() << where << ": unknown step";
      }
    }
    EXPECT_EQ(bucket.counters().allowed, allowed) << c.name;
    EXPECT_EQ(bucket.counters().limited, limited) << c.name;
  }
}

TEST(TokenBucketTest, ConcurrentCallersShareExactlyTheBurst) {
  FakeClock clock;  // Frozen: no refill.
  TokenBucket bucket({1, 100}, &clock);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (!bucket.TryAcquire().has_value()) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 100);
  EXPECT_EQ(bucket.counters().limited, 300);
}

TEST(RateLimitTest, Validate) {
  EXPECT_THAT(ValidateRateLimit({5, 1}), IsOk());
  EXPECT_THAT(
      ValidateRateLimit({0, 1}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("per_second")));
  EXPECT_THAT(ValidateRateLimit({5, 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("burst")));
  ClientRateLimiterOptions options;
  options.clients["portal-1022"] = {5, 0};
  EXPECT_THAT(
      ValidateClientRateLimiterOptions(options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("portal-1022")));
  options.clients["portal-1022"] = {5, 5};
  options.default_limit = RateLimit{-1, 5};
  EXPECT_THAT(
      ValidateClientRateLimiterOptions(options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("default")));
}

TEST(ClientRateLimiterTest, ClientsAreIsolated) {
  FakeClock clock;
  ClientRateLimiterOptions options;
  options.clients["dvc-hungyen"] = {1, 2};
  options.clients["portal-1022"] = {1, 2};
  ClientRateLimiter limiter(options, &clock);
  EXPECT_EQ(limiter.TryAcquire("dvc-hungyen"), std::nullopt);
  EXPECT_EQ(limiter.TryAcquire("dvc-hungyen"), std::nullopt);
  EXPECT_EQ(limiter.TryAcquire("dvc-hungyen"), absl::Seconds(1));
  EXPECT_EQ(limiter.TryAcquire("portal-1022"), std::nullopt);
  EXPECT_EQ(limiter.TryAcquire("portal-1022"), std::nullopt);
  EXPECT_THAT(limiter.counters(), ElementsAre(FieldsAre("dvc-hungyen", 2, 1),
                                              FieldsAre("portal-1022", 2, 0)));
}

TEST(ClientRateLimiterTest, UnlistedClientsAreUnlimitedByDefault) {
  FakeClock clock;
  ClientRateLimiterOptions options;
  options.clients["dvc-hungyen"] = {1, 1};
  ClientRateLimiter limiter(options, &clock);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(limiter.TryAcquire("district-app"), std::nullopt);
  }
  EXPECT_THAT(limiter.counters(), ElementsAre(FieldsAre("dvc-hungyen", 0, 0)));
}

TEST(ClientRateLimiterTest, UnlistedClientsGetTheirOwnDefaultBucket) {
  FakeClock clock;
  ClientRateLimiterOptions options;
  options.default_limit = RateLimit{2, 1};
  ClientRateLimiter limiter(options, &clock);
  EXPECT_EQ(limiter.TryAcquire("b-app"), std::nullopt);
  EXPECT_EQ(limiter.TryAcquire("b-app"), absl::Milliseconds(500));
  EXPECT_EQ(limiter.TryAcquire("a-app"), std::nullopt);  // Not b's bucket.
  EXPECT_THAT(limiter.counters(),
              ElementsAre(FieldsAre("a-app", 1, 0), FieldsAre("b-app", 1, 1)));
}

TEST(ConcurrencyLimiterTest, CapsCallsInFlight) {
  ConcurrencyLimiter limiter(2);
  std::optional<ConcurrencyLimiter::Permit> a = limiter.TryAcquire();
  std::optional<ConcurrencyLimiter::Permit> b = limiter.TryAcquire();
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(limiter.TryAcquire().has_value());
  EXPECT_EQ(limiter.counters().in_flight, 2);
  a.reset();
  EXPECT_EQ(limiter.counters().in_flight, 1);
  std::optional<ConcurrencyLimiter::Permit> c = limiter.TryAcquire();
  ASSERT_TRUE(c.has_value());
  // Moving a permit onto a held one releases the held one.
  *b = std::move(*c);
  EXPECT_EQ(limiter.counters().in_flight, 1);
  const ConcurrencyLimiter::Counters counters = limiter.counters();
  EXPECT_EQ(counters.allowed, 3);
  EXPECT_EQ(counters.limited, 1);
  EXPECT_EQ(counters.max_in_flight, 2);
}

TEST(ConcurrencyLimiterTest, PermitMayOutliveTheLimiter) {
  auto limiter = std::make_unique<ConcurrencyLimiter>(1);
  std::optional<ConcurrencyLimiter::Permit> permit = limiter->TryAcquire();
  ASSERT_TRUE(permit.has_value());
  limiter.reset();
  permit.reset();
}

TEST(ConcurrencyLimiterTest, CapHoldsUnderConcurrency) {
  constexpr int kCap = 3;
  ConcurrencyLimiter limiter(kCap);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        std::optional<ConcurrencyLimiter::Permit> permit = limiter.TryAcquire();
        if (!permit.has_value()) continue;
        const int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        inside.fetch_sub(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(most.load(), kCap);
  EXPECT_EQ(limiter.counters().in_flight, 0);
  EXPECT_EQ(limiter.counters().allowed + limiter.counters().limited, 30000);
}

}  // namespace
}  // namespace lienthong::resilience
