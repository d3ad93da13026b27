#include "gateway/resilience/retry.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gateway/resilience/timer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/resilience/simulation.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::resilience {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::_;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::Lt;
using ::testing::SizeIs;

CallOptions Read(absl::Time deadline = absl::InfiniteFuture()) {
  return {deadline, /*idempotent=*/true};
}

RetryBudgetOptions Budget(double ratio, double min_retries_per_second) {
  RetryBudgetOptions options;
  options.ratio = ratio;
  options.min_retries_per_second = min_retries_per_second;
  return options;
}

AttemptOutcome Ok() { return {absl::OkStatus(), false, std::nullopt}; }
AttemptOutcome Busy(std::optional<absl::Duration> retry_after = std::nullopt) {
  return {absl::UnavailableError("upstream busy"), true, retry_after};
}
AttemptOutcome Fatal() {
  return {absl::NotFoundError("no such citizen"), false, std::nullopt};
}

TEST(RetryPolicyTest, Validate) {
  struct Case {
    std::string name;
    std::function<void(RetryPolicy&)> change;
    bool ok;
  };
  const Case kCases[] = {
      {"defaults", [](RetryPolicy&) {}, true},
      {"single attempt", [](RetryPolicy& p) { p.max_attempts = 1; }, true},
      {"zero attempts", [](RetryPolicy& p) { p.max_attempts = 0; }, false},
      {"negative backoff",
       [](RetryPolicy& p) { p.initial_backoff = -absl::Milliseconds(1); },
       false},
      {"max below initial",
       [](RetryPolicy& p) { p.max_backoff = absl::Milliseconds(10); }, false},
      {"shrinking multiplier", [](RetryPolicy& p) { p.multiplier = 0.5; },
       false},
      {"negative per-try",
       [](RetryPolicy& p) { p.per_try_timeout = -absl::Seconds(1); }, false},
  };
  for (const Case& c : kCases) {
    RetryPolicy policy;
    c.change(policy);
    EXPECT_EQ(ValidateRetryPolicy(policy).ok(), c.ok) << c.name;
  }
}

TEST(RetryPolicyTest, BackoffCeilingGrowsExponentiallyToTheCap) {
  struct Case {
    absl::Duration initial, max;
    double multiplier;
    int retry;
    absl::Duration want;
  };
  const absl::Duration ms = absl::Milliseconds(1);
  const Case kCases[] = {
      {50 * ms, absl::Seconds(2), 2, 0, 50 * ms},
      {50 * ms, absl::Seconds(2), 2, 1, 100 * ms},
      {50 * ms, absl::Seconds(2), 2, 5, 1600 * ms},
      {50 * ms, absl::Seconds(2), 2, 6, absl::Seconds(2)},
      {50 * ms, absl::Seconds(2), 2, 1000, absl::Seconds(2)},
      {10 * ms, absl::Seconds(1), 3, 2, 90 * ms},
      {10 * ms, absl::Seconds(1), 1, 9, 10 * ms},
  };
  for (const Case& c : kCases) {
    RetryPolicy policy;
    policy.initial_backoff = c.initial;
    policy.max_backoff = c.max;
    policy.multiplier = c.multiplier;
    EXPECT_EQ(BackoffCeiling(policy, c.retry), c.want)
        << c.initial << " x" << c.multiplier << "^" << c.retry;
  }
}

TEST(RetryBudgetTest, Validate) {
  RetryBudgetOptions good;
  EXPECT_THAT(ValidateRetryBudgetOptions(good), IsOk());
  RetryBudgetOptions bad = good;
  bad.ratio = -0.1;
  EXPECT_THAT(ValidateRetryBudgetOptions(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ratio")));
  bad = good;
  bad.window = absl::ZeroDuration();
  EXPECT_THAT(
      ValidateRetryBudgetOptions(bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("window")));
}

TEST(RetryBudgetTest, FloorLetsLowTrafficRetry) {
  FakeClock clock;
  RetryBudget budget(Budget(0.2, 1), &clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.TryWithdraw()) << i;
  EXPECT_FALSE(budget.TryWithdraw());
  EXPECT_EQ(budget.counters().retries, 10);
  EXPECT_EQ(budget.counters().exhausted, 1);
}

TEST(RetryBudgetTest, RatioOfRequestsOverTheSlidingWindow) {
  FakeClock clock;
  RetryBudget budget(Budget(0.2, 0), &clock);
  for (int i = 0; i < 100; ++i) budget.RecordRequest();
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(budget.TryWithdraw()) << i;
  EXPECT_FALSE(budget.TryWithdraw());
  // Half a window later the requests still count...
  clock.Advance(absl::Seconds(5));
  EXPECT_FALSE(budget.TryWithdraw());
  for (int i = 0; i < 5; ++i) budget.RecordRequest();
  EXPECT_TRUE(budget.TryWithdraw());
  // ...a window later only the 5 recent requests do (and the 1 recent retry).
  clock.Advance(absl::Seconds(6));
  EXPECT_FALSE(budget.TryWithdraw());
  EXPECT_EQ(budget.counters().requests, 105);
  EXPECT_EQ(budget.counters().retries, 21);
}

TEST(RetryBudgetTest, RetriesAgeOutAWindowAfterTheClockStepsBackAnHour) {
  FakeClock clock;
  RetryBudget budget(Budget(0.2, 1), &clock);  // 10 retries per 10 s
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.TryWithdraw()) << i;
  clock.Advance(-absl::Hours(1));
  // The step itself frees nothing...
  EXPECT_FALSE(budget.TryWithdraw());
  clock.Advance(absl::Seconds(9));
  EXPECT_FALSE(budget.TryWithdraw());
  // ...but a window after it the retries have aged out, not an hour after.
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(budget.TryWithdraw());
}

// Harness: a manual timer queue on a fake clock and a scripted upstream that
// answers each attempt at once with the next outcome (the last one repeats),
// or never when the script is empty.
class RetrierTest : public ::testing::Test {
 protected:
  struct Result {
    bool done = false;
    int done_calls = 0;
    absl::Status status;
    int attempts = 0;
    absl::Time at;
  };

  Retrier::Attempt Scripted(std::vector<AttemptOutcome> outcomes) {
    return [this, outcomes = std::move(outcomes)](
               absl::Time attempt_deadline, Retrier::AttemptDone done) mutable {
      starts_.push_back(clock_.Now());
      attempt_deadlines_.push_back(attempt_deadline);
      if (outcomes.empty()) {
        held_.push_back(std::move(done));  // Hangs.
        return;
      }
      const size_t i = std::min(starts_.size(), outcomes.size()) - 1;
      std::move(done)(outcomes[i]);
    };
  }

  Retrier::Done Capture(Result* result) {
    return [this, result](absl::Status status, int attempts) {
      result->done = true;
      ++result->done_calls;
      result->status = std::move(status);
      result->attempts = attempts;
      result->at = clock_.Now();
    };
  }

  void RunAll() { sim::RunUntil(clock_, timers_); }

  FakeClock clock_;
  TimerQueue timers_{&clock_, TimerQueue::Mode::kManual};
  std::vector<absl::Time> starts_;
  std::vector<absl::Time> attempt_deadlines_;
  std::vector<Retrier::AttemptDone> held_;
};

TEST_F(RetrierTest, RetriesOnlyRetriableOutcomesOfIdempotentCalls) {
  struct Case {
    std::string name;
    bool idempotent;
    std::vector<AttemptOutcome> outcomes;
    absl::StatusCode want_code;
    int want_attempts;
  };
  const Case kCases[] = {
      {"success first", true, {Ok()}, absl::StatusCode::kOk, 1},
      {"busy then success",
       true,
       {Busy(), Busy(), Ok()},
       absl::StatusCode::kOk,
       3},
      {"busy until attempts run out",
       true,
       {Busy()},
       absl::StatusCode::kUnavailable,
       3},
      {"non-retriable failure",
       true,
       {Fatal()},
       absl::StatusCode::kNotFound,
       1},
      {"busy then non-retriable",
       true,
       {Busy(), Fatal()},
       absl::StatusCode::kNotFound,
       2},
      {"write is never retried",
       false,
       {Busy(), Ok()},
       absl::StatusCode::kUnavailable,
       1},
      {"OK marked retriable is final",
       true,
       {{absl::OkStatus(), true, std::nullopt}},
       absl::StatusCode::kOk,
       1},
  };
  for (const Case& c : kCases) {
    starts_.clear();
    Retrier retrier(RetryPolicy{}, &timers_, nullptr, &clock_, 1);
    Result result;
    retrier.Run(CallOptions{clock_.Now() + absl::Seconds(10), c.idempotent},
                Scripted(c.outcomes), Capture(&result));
    RunAll();
    EXPECT_EQ(result.done_calls, 1) << c.name;
    EXPECT_EQ(result.status.code(), c.want_code) << c.name;
    EXPECT_EQ(result.attempts, c.want_attempts) << c.name;
    EXPECT_EQ(retrier.counters().retries, c.want_attempts - 1) << c.name;
    EXPECT_EQ(timers_.pending(), 0u) << c.name;
  }
}

TEST_F(RetrierTest, BackoffIsFullJitterWithinTheCeiling) {
  RetryPolicy policy;
  policy.max_attempts = 6;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Milliseconds(1000);
  Retrier retrier(policy, &timers_, nullptr, &clock_, 42);
  constexpr int kCalls = 2000;
  // waits[n] holds every wait before retry n.
  std::vector<std::vector<absl::Duration>> waits(policy.max_attempts - 1);
  for (int call = 0; call < kCalls; ++call) {
    starts_.clear();
    Result result;
    retrier.Run(Read(), Scripted({Busy()}), Capture(&result));
    RunAll();
    ASSERT_EQ(result.attempts, policy.max_attempts);
    for (size_t n = 0; n + 1 < starts_.size(); ++n) {
      waits[n].push_back(starts_[n + 1] - starts_[n]);
    }
  }
  for (size_t n = 0; n < waits.size(); ++n) {
    const absl::Duration ceiling = BackoffCeiling(policy, n);
    EXPECT_THAT(waits[n], Each(Le(ceiling))) << "retry " << n;
    double sum = 0;
    int lower_half = 0;
    for (absl::Duration w : waits[n]) {
      EXPECT_GE(w, absl::ZeroDuration());
      sum += absl::FDivDuration(w, ceiling);
      if (w < ceiling / 2) ++lower_half;
    }
    // Uniform on [0, 1]: mean 1/2 (sd of the mean ~0.0065), half below 1/2.
    EXPECT_NEAR(sum / kCalls, 0.5, 0.03) << "retry " << n;
    EXPECT_NEAR(static_cast<double>(lower_half) / kCalls, 0.5, 0.05)
        << "retry " << n;
    std::vector<absl::Duration> sorted = waits[n];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_GT(std::unique(sorted.begin(), sorted.end()) - sorted.begin(),
              kCalls * 9 / 10)
        << "retry " << n << ": waits are not spread";
  }
}

TEST_F(RetrierTest, HonoursRetryAfter) {
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(10);
  policy.max_backoff = absl::Milliseconds(10);
  Retrier retrier(policy, &timers_, nullptr, &clock_, 1);
  Result result;
  retrier.Run(Read(clock_.Now() + absl::Seconds(10)),
              Scripted({Busy(absl::Seconds(3)), Ok()}), Capture(&result));
  RunAll();
  EXPECT_THAT(result.status, IsOk());
  ASSERT_THAT(starts_, SizeIs(2));
  // The jittered backoff (<= 10ms) is shorter: the Retry-After wins.
  EXPECT_EQ(starts_[1] - starts_[0], absl::Seconds(3));
}

TEST_F(RetrierTest, GivesUpAtOnceWhenRetryAfterPassesTheDeadline) {
  Retrier retrier(RetryPolicy{}, &timers_, nullptr, &clock_, 1);
  const absl::Time t0 = clock_.Now();
  Result result;
  retrier.Run(Read(t0 + absl::Seconds(2)),
              Scripted({Busy(absl::Seconds(5)), Ok()}), Capture(&result));
  // Answered without waiting: no timer is left to run.
  EXPECT_TRUE(result.done);
  EXPECT_THAT(result.status,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("busy")));
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(result.at, t0);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(RetrierTest, NeverStartsAnAttemptAtOrAfterTheDeadline) {
  RetryPolicy policy;
  policy.max_attempts = 20;
  policy.initial_backoff = absl::Milliseconds(40);
  policy.max_backoff = absl::Milliseconds(400);
  Retrier retrier(policy, &timers_, nullptr, &clock_, 7);
  for (int call = 0; call < 200; ++call) {
    starts_.clear();
    attempt_deadlines_.clear();
    const absl::Time deadline = clock_.Now() + absl::Milliseconds(300);
    Result result;
    retrier.Run(Read(deadline), Scripted({Busy()}), Capture(&result));
    RunAll();
    ASSERT_TRUE(result.done);
    EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kUnavailable, _));
    EXPECT_LE(result.at, deadline);
    EXPECT_THAT(starts_, Each(Lt(deadline)));
    EXPECT_THAT(attempt_deadlines_, Each(Le(deadline)));
  }
}

TEST_F(RetrierTest, PerTryTimeoutBoundsEachAttemptAndIsRetried) {
  RetryPolicy policy;
  policy.per_try_timeout = absl::Milliseconds(100);
  Retrier retrier(policy, &timers_, nullptr, &clock_, 1);
  const absl::Time deadline = clock_.Now() + absl::Seconds(1);
  Result result;
  retrier.Run(Read(deadline), Scripted({}), Capture(&result));
  RunAll();
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kDeadlineExceeded,
                                      HasSubstr("per-try timeout")));
  EXPECT_EQ(result.attempts, 3);
  ASSERT_THAT(starts_, SizeIs(3));
  for (size_t i = 0; i < starts_.size(); ++i) {
    EXPECT_EQ(attempt_deadlines_[i], starts_[i] + absl::Milliseconds(100));
  }
  EXPECT_LT(result.at, deadline);
  // A hung attempt that answers late changes nothing: no new attempt, no
  // second Done.
  std::move(held_[0])(Ok());
  std::move(held_[2])(Busy());
  RunAll();
  EXPECT_THAT(starts_, SizeIs(3));
  EXPECT_EQ(result.done_calls, 1);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded);
}

// A call that is never retried (a write, or one attempt allowed) keeps its
// whole deadline: a per-try timeout would only cut its one attempt short
// while the upstream may still act on it (a one-time code consumed).
TEST_F(RetrierTest, PerTryTimeoutLeavesACallThatIsNeverRetriedAlone) {
  struct Case {
    std::string name;
    bool idempotent;
    int max_attempts;
  };
  const Case kCases[] = {{"write", false, 3}, {"one attempt", true, 1}};
  for (const Case& c : kCases) {
    attempt_deadlines_.clear();
    held_.clear();
    RetryPolicy policy;
    policy.max_attempts = c.max_attempts;
    policy.per_try_timeout = absl::Milliseconds(100);
    Retrier retrier(policy, &timers_, nullptr, &clock_, 1);
    const absl::Time t0 = clock_.Now();
    const absl::Time deadline = t0 + absl::Seconds(1);
    Result result;
    retrier.Run(CallOptions{deadline, c.idempotent}, Scripted({}),
                Capture(&result));
    sim::RunUntil(clock_, timers_, t0 + absl::Milliseconds(300));
    ASSERT_FALSE(result.done) << c.name;
    ASSERT_THAT(held_, SizeIs(1)) << c.name;
    std::move(held_[0])(Ok());  // The answer, at 300 ms.
    RunAll();
    EXPECT_THAT(result.status, IsOk()) << c.name;
    EXPECT_EQ(result.attempts, 1) << c.name;
    EXPECT_EQ(attempt_deadlines_[0], deadline) << c.name;
    EXPECT_EQ(timers_.pending(), 0u) << c.name;
  }
}

TEST_F(RetrierTest, LateAnswerOfATimedOutAttemptIsIgnored) {
  RetryPolicy policy;
  policy.per_try_timeout = absl::Milliseconds(100);
  policy.initial_backoff = absl::Milliseconds(500);
  policy.max_backoff = absl::Milliseconds(500);
  Retrier retrier(policy, &timers_, nullptr, &clock_, 1);
  const absl::Time t0 = clock_.Now();
  Result result;
  retrier.Run(Read(t0 + absl::Seconds(10)), Scripted({}), Capture(&result));
  sim::RunUntil(clock_, timers_, t0 + absl::Milliseconds(100));
  ASSERT_EQ(timers_.pending(), 1u);  // The retry after the per-try timeout.
  std::move(held_[0])(Busy());       // Must not schedule a second retry.
  EXPECT_EQ(timers_.pending(), 1u);
  RunAll();
  EXPECT_THAT(starts_, SizeIs(3));
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(result.done_calls, 1);
}

TEST_F(RetrierTest, HungUpstreamGetsDeadlineExceededAtTheDeadline) {
  Retrier retrier(RetryPolicy{}, &timers_, nullptr, &clock_, 1);
  const absl::Time deadline = clock_.Now() + absl::Milliseconds(500);
  Result result;
  retrier.Run(Read(deadline), Scripted({}), Capture(&result));
  RunAll();
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kDeadlineExceeded, _));
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(result.at, deadline);
  EXPECT_EQ(attempt_deadlines_[0], deadline);
}

TEST_F(RetrierTest, DeadlinePassingDuringTheWaitEndsTheCall) {
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Milliseconds(100);
  Retrier retrier(policy, &timers_, nullptr, &clock_, 1);
  const absl::Time deadline = clock_.Now() + absl::Seconds(1);
  Result result;
  retrier.Run(Read(deadline), Scripted({Busy()}), Capture(&result));
  ASSERT_FALSE(result.done);
  clock_.SetTime(deadline);  // The timer fires late, e.g. an overloaded host.
  timers_.RunDue();
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kDeadlineExceeded,
                                      HasSubstr("waiting to retry")));
  EXPECT_EQ(result.attempts, 1);
}

TEST_F(RetrierTest, DeadlineAlreadyPassedMakesNoAttempt) {
  Retrier retrier(RetryPolicy{}, &timers_, nullptr, &clock_, 1);
  Result result;
  retrier.Run(Read(clock_.Now()), Scripted({Ok()}), Capture(&result));
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kDeadlineExceeded, _));
  EXPECT_EQ(result.attempts, 0);
  EXPECT_THAT(starts_, SizeIs(0));
}

TEST_F(RetrierTest, ShutdownDuringTheWaitCancelsTheCall) {
  Retrier retrier(RetryPolicy{}, &timers_, nullptr, &clock_, 1);
  Result result;
  retrier.Run(Read(), Scripted({Busy()}), Capture(&result));
  ASSERT_FALSE(result.done);
  timers_.Shutdown();
  EXPECT_EQ(result.done_calls, 1);
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kCancelled, _));
  EXPECT_EQ(result.attempts, 1);
}

TEST_F(RetrierTest, AttemptThatDropsItsCallbackCancelsTheCall) {
  Retrier retrier(RetryPolicy{}, &timers_, nullptr, &clock_, 1);
  Result result;
  retrier.Run(
      Read(), [](absl::Time, Retrier::AttemptDone) { /* drops it */ },
      Capture(&result));
  EXPECT_EQ(result.done_calls, 1);
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kCancelled, _));
}

TEST_F(RetrierTest, EmptyBudgetStopsRetries) {
  RetryBudget budget(Budget(0, 0), &clock_);
  Retrier retrier(RetryPolicy{}, &timers_, &budget, &clock_, 1);
  Result result;
  retrier.Run(Read(), Scripted({Busy(), Ok()}), Capture(&result));
  RunAll();
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kUnavailable, _));
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(retrier.counters().budget_exhausted, 1);
  EXPECT_EQ(budget.counters().requests, 1);
}

// With every attempt failing, the budget holds retries to about its ratio:
// the upstream sees ~1.2x the traffic rather than max_attempts (3x).
TEST_F(RetrierTest, BudgetHoldsRetriesNearTheRatioUnderTotalFailure) {
  RetryBudgetOptions options;  // 20%, floor 10/s, 10 s window
  RetryBudget budget(options, &clock_);
  Retrier retrier(RetryPolicy{}, &timers_, &budget, &clock_, 3);
  constexpr int kCalls = 20000;
  const absl::Duration kSpacing = absl::Milliseconds(1);  // 1000 calls/s
  const absl::Time t0 = clock_.Now();
  int finished = 0;
  for (int i = 0; i < kCalls; ++i) {
    timers_.Schedule(t0 + i * kSpacing, [&] {
      retrier.Run(
          Read(clock_.Now() + absl::Seconds(5)),
          [](absl::Time, Retrier::AttemptDone done) {
            std::move(done)(Busy());
          },
          [&](absl::Status status, int) {
            EXPECT_FALSE(status.ok());
            ++finished;
          });
    });
  }
  RunAll();
  ASSERT_EQ(finished, kCalls);
  const double seconds = absl::ToDoubleSeconds(kCalls * kSpacing);
  const int64_t retries = retrier.counters().retries;
  const double bound = options.ratio * kCalls +
                       options.min_retries_per_second *
                           (seconds + absl::ToDoubleSeconds(options.window));
  EXPECT_LE(retries, bound);
  EXPECT_GE(retries, 0.9 * options.ratio * kCalls);
  EXPECT_EQ(budget.counters().retries, retries);
  EXPECT_GT(retrier.counters().budget_exhausted, kCalls / 2);
  RecordProperty("retries", static_cast<int>(retries));
}

// A fixed set of threads running posted tasks; the destructor runs what is
// left and joins them.
class Workers {
 public:
  explicit Workers(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~Workers() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }
  void Post(absl::AnyInvocable<void() &&> task) {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }

 private:
  void Loop() {
    for (;;) {
      absl::AnyInvocable<void() &&> task;
      {
        absl::MutexLock lock(&mu_, absl::Condition(this, &Workers::Ready));
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      std::move(task)();
    }
  }
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || !tasks_.empty();
  }

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// Real threads: a real timer thread and upstream answers from other threads.
// Checks that each call finishes exactly once (and gives TSAN something).
TEST(RetrierThreadsTest, ConcurrentCallsFinishExactlyOnce) {
  TimerQueue timers;
  RetryPolicy policy;
  policy.max_attempts = 4;
  policy.initial_backoff = absl::Microseconds(100);
  policy.max_backoff = absl::Milliseconds(1);
  Retrier retrier(policy, &timers, nullptr, RealClock(), 5);
  Workers upstream(2);  // Destroyed (drained, joined) before the Retrier.
  constexpr int kCalls = 400;
  absl::BlockingCounter all_done(kCalls);
  std::vector<std::atomic<int>> done_calls(kCalls);
  std::atomic<int> ok{0};
  std::atomic<int> next_answer{0};
  auto call = [&](int i) {
    retrier.Run(
        Read(absl::Now() + absl::Seconds(60)),
        [&](absl::Time, Retrier::AttemptDone done) {
          // Every third answer fails; answers come from other threads.
          const bool fail = next_answer.fetch_add(1) % 3 == 0;
          upstream.Post([done = std::move(done), fail]() mutable {
            std::move(done)(fail ? Busy() : Ok());
          });
        },
        [&, i](absl::Status status, int) {
          if (status.ok()) ok.fetch_add(1);
          if (done_calls[i].fetch_add(1) == 0) all_done.DecrementCount();
        });
  };
  std::thread a([&] {
    for (int i = 0; i < kCalls; i += 2) call(i);
  });
  std::thread b([&] {
    for (int i = 1; i < kCalls; i += 2) call(i);
  });
  a.join();
  b.join();
  all_done.Wait();
  for (int i = 0; i < kCalls; ++i) EXPECT_EQ(done_calls[i].load(), 1) << i;
  EXPECT_GT(ok.load(), kCalls * 9 / 10);
  EXPECT_EQ(retrier.counters().calls, kCalls);
}

}  // namespace
}  // namespace lienthong::resilience
