#include "gateway/resilience/circuit_breaker.h"

#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
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
using ::testing::HasSubstr;

// Options with small numbers, so the scripts stay short; each case changes
// what it tests.
CircuitBreakerOptions Small() {
  CircuitBreakerOptions o;
  o.consecutive_failures = 3;
  o.failure_ratio = 0;  // off unless a case turns it on
  o.min_requests = 10;
  o.window = absl::Seconds(10);
  o.open_duration = absl::Seconds(5);
  o.half_open_probes = 2;
  return o;
}

CircuitBreakerOptions Ratio(double ratio, int min_requests) {
  CircuitBreakerOptions o = Small();
  o.consecutive_failures = 0;
  o.failure_ratio = ratio;
  o.min_requests = min_requests;
  return o;
}

// A script is space-separated steps, each optionally repeated with "*n":
//   ok / fail    Allow() admits; record success / failure
//   deny         Allow() refuses
//   hold         Allow() admits; keep the admission (a call in flight)
//   held_ok / held_fail / held_drop
//                settle the oldest held admission
//   wait=<dur>   advance the clock
//   =<state>     expect state() (closed, open, half_open)
void RunScript(const std::string& name, const CircuitBreakerOptions& options,
               absl::string_view script) {
  FakeClock clock;
  CircuitBreaker breaker("population", options, &clock);
  std::deque<CircuitBreaker::Admission> held;
  int step_no = 0;
  for (absl::string_view token :
       absl::StrSplit(script, ' ', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(token, '*');
    int repeat = 1;
    if (parts.size() == 2) {
      ASSERT_TRUE(absl::SimpleAtoi(parts[1], &repeat)) << token;
    }
    const absl::string_view step = parts[0];
    for (int r = 0; r < repeat; ++r) {
      const std::string where =
          absl::StrCat(name, ": step ", ++step_no, " '", step, "'");
      if (step == "ok" || step == "fail") {
        CircuitBreaker::Admission admission = breaker.Allow();
        ASSERT_TRUE(admission) << where;
        admission.Record(step == "ok");
      } else if (step == "deny") {
        EXPECT_FALSE(breaker.Allow()) << where;
      } else if (step == "hold") {
        held.push_back(breaker.Allow());
        ASSERT_TRUE(held.back()) << where;
      } else if (absl::StartsWith(step, "held_")) {
        ASSERT_FALSE(held.empty()) << where;
        CircuitBreaker::Admission admission = std::move(held.front());
        held.pop_front();
        if (step == "held_ok") admission.Record(true);
        if (step == "held_fail") admission.Record(false);
        // held_drop: destroyed unrecorded.
      } else if (absl::ConsumePrefix(&parts[0], "wait=")) {
        absl::Duration d;
        ASSERT_TRUE(absl::ParseDuration(parts[0], &d)) << where;
        clock.Advance(d);
      } else if (absl::ConsumePrefix(&parts[0], "=")) {
        EXPECT_EQ(BreakerStateName(breaker.state()), parts[0]) << where;
      } else {
        FAIL() << where << ": unknown step";
      }
    }
  }
}

TEST(CircuitBreakerTest, StateMachine) {
  struct Case {
    std::string name;
    CircuitBreakerOptions options;
    std::string script;
  };
  const Case kCases[] = {
      {"consecutive failures open", Small(), "fail*2 =closed fail =open deny"},
      {"a success resets the run", Small(),
       "fail*2 ok fail*2 =closed fail =open"},
      {"consecutive trigger can be off",
       [] {
         CircuitBreakerOptions o = Small();
         o.consecutive_failures = 0;
         return o;
       }(),
       "fail*50 =closed"},
      {"ratio opens once min_requests outcomes", Ratio(0.5, 10),
       "ok*5 fail*4 =closed fail =open"},
      {"ratio below threshold stays closed", Ratio(0.5, 10),
       "ok*6 fail*4 =closed ok fail =closed"},
      {"ratio waits for min_requests", Ratio(0.5, 10),
       "fail*9 =closed fail =open"},
      {"old outcomes age out of the window", Ratio(0.5, 4),
       "fail*2 wait=11s ok*3 fail =closed"},
      {"open fails fast for open_duration", Small(),
       "fail*3 =open deny wait=4999ms deny =open wait=1ms =half_open"},
      {"half-open admits only its probes", Small(),
       "fail*3 wait=5s hold hold deny =half_open held_ok deny =half_open "
       "held_ok =closed ok ok"},
      {"a failed probe reopens", Small(),
       "fail*3 wait=5s hold hold held_fail =open deny held_ok =open "
       "wait=4s deny wait=1s =half_open ok ok =closed"},
      {"a dropped probe frees its slot", Small(),
       "fail*3 wait=5s hold hold deny held_drop hold deny held_ok held_ok "
       "=closed"},
      {"late success from before opening does not close", Small(),
       "hold fail*3 =open held_ok =open deny"},
      {"late failure from before closing does not reopen", Small(),
       "fail*2 hold fail =open wait=5s ok ok =closed held_fail =closed "
       "fail*2 =closed fail =open"},
      {"closing clears the ratio window", Ratio(0.5, 4),
       "ok*2 fail*2 =open wait=5s ok*2 =closed fail =closed"},
      {"closing starts a fresh count", Small(),
       "fail*3 wait=5s ok*2 =closed fail*2 =closed fail =open"},
      // The open time counts from the new time, not until the old one comes
      // round again an hour later.
      {"a clock stepped back keeps the open time", Small(),
       "fail*3 =open wait=-1h deny wait=4999ms deny wait=1ms =half_open"},
  };
  for (const Case& c : kCases) RunScript(c.name, c.options, c.script);
}

TEST(CircuitBreakerTest, ListenerSeesEveryTransitionInOrder) {
  FakeClock clock;
  CircuitBreaker breaker("population", Small(), &clock);
  std::vector<std::string> seen;
  breaker.SetListener([&](BreakerState from, BreakerState to) {
    seen.push_back(
        absl::StrCat(BreakerStateName(from), ">", BreakerStateName(to)));
  });
  for (int i = 0; i < 3; ++i) breaker.Allow().Record(false);
  clock.Advance(absl::Seconds(5));
  breaker.Allow().Record(false);  // The probe fails.
  clock.Advance(absl::Seconds(5));
  breaker.Allow().Record(true);
  breaker.Allow().Record(true);
  EXPECT_THAT(seen,
              ElementsAre("closed>open", "open>half_open", "half_open>open",
                          "open>half_open", "half_open>closed"));
  const CircuitBreaker::Counters c = breaker.counters();
  EXPECT_EQ(c.admitted, 6);
  EXPECT_EQ(c.successes, 2);
  EXPECT_EQ(c.failures, 4);
  EXPECT_EQ(c.opened, 2);
}

TEST(CircuitBreakerTest, CountsFailFastRejectionsAndNamesTheSystem) {
  FakeClock clock;
  CircuitBreaker breaker("c06-population", Small(), &clock);
  for (int i = 0; i < 3; ++i) breaker.Allow().Record(false);
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(breaker.Allow());
  EXPECT_EQ(breaker.counters().rejected, 7);
  EXPECT_THAT(breaker.OpenStatus(), StatusIs(absl::StatusCode::kUnavailable,
                                             HasSubstr("c06-population")));
  EXPECT_EQ(breaker.system(), "c06-population");
}

TEST(CircuitBreakerTest, AdmissionsOutliveTheBreaker) {
  FakeClock clock;
  auto breaker = std::make_unique<CircuitBreaker>("p", Small(), &clock);
  std::vector<std::pair<BreakerState, BreakerState>> changes;
  breaker->SetListener([&changes](BreakerState from, BreakerState to) {
    changes.emplace_back(from, to);
  });
  std::vector<CircuitBreaker::Admission> in_flight;
  for (int i = 0; i < 4; ++i) in_flight.push_back(breaker->Allow());
  for (const auto& admission : in_flight) ASSERT_TRUE(admission);
  breaker.reset();  // A reload replaced it while the calls were in flight.
  // Their outcomes still count in the state they share: a success, then the
  // three failures in a row that open it (Small(): consecutive_failures 3).
  in_flight[0].Record(true);
  for (int i = 1; i < 4; ++i) in_flight[i].Record(false);
  EXPECT_THAT(changes, ElementsAre(std::make_pair(BreakerState::kClosed,
                                                  BreakerState::kOpen)));
}

TEST(CircuitBreakerTest, Validate) {
  EXPECT_THAT(ValidateCircuitBreakerOptions(CircuitBreakerOptions{}), IsOk());
  struct Case {
    std::string field;
    CircuitBreakerOptions options;
  };
  auto with = [](auto change) {
    CircuitBreakerOptions o;
    change(o);
    return o;
  };
  const Case kCases[] = {
      {"consecutive_failures",
       with([](auto& o) { o.consecutive_failures = -1; })},
      {"failure_ratio", with([](auto& o) { o.failure_ratio = 1.5; })},
      {"min_requests", with([](auto& o) { o.min_requests = 0; })},
      {"window", with([](auto& o) { o.window = absl::Milliseconds(1); })},
      {"open_duration",
       with([](auto& o) { o.open_duration = absl::ZeroDuration(); })},
      {"half_open_probes", with([](auto& o) { o.half_open_probes = 0; })},
  };
  for (const Case& c : kCases) {
    EXPECT_THAT(
        ValidateCircuitBreakerOptions(c.options),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
  }
}

// However many threads ask at once, HALF_OPEN admits exactly its probes.
TEST(CircuitBreakerTest, HalfOpenProbeLimitHoldsUnderConcurrency) {
  FakeClock clock;
  CircuitBreakerOptions options = Small();
  options.half_open_probes = 5;
  CircuitBreaker breaker("p", options, &clock);
  for (int i = 0; i < 3; ++i) breaker.Allow().Record(false);
  clock.Advance(absl::Seconds(5));
  constexpr int kThreads = 4;
  std::vector<std::vector<CircuitBreaker::Admission>> admitted(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        CircuitBreaker::Admission a = breaker.Allow();
        if (a) admitted[t].push_back(std::move(a));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  size_t total = 0;
  for (const auto& v : admitted) total += v.size();
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(breaker.state(), BreakerState::kHalfOpen);
  for (auto& v : admitted) {
    for (CircuitBreaker::Admission& a : v) a.Record(true);
  }
  EXPECT_EQ(breaker.state(), BreakerState::kClosed);
}

}  // namespace
}  // namespace lienthong::resilience
