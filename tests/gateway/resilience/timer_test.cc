#include "gateway/resilience/timer.h"

#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/resilience/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lienthong::resilience {
namespace {

using ::testing::ElementsAre;

// A callback that notes whether it ran and, through `alive`, whether it has
// been destroyed.
struct Probe {
  std::shared_ptr<int> token = std::make_shared<int>(0);
  std::weak_ptr<int> alive = token;
  std::shared_ptr<bool> ran = std::make_shared<bool>(false);

  TimerQueue::Callback Callback() {
    return [token = std::move(token), ran = ran] { *ran = true; };
  }
};

TEST(TimerQueueTest, RunsDueCallbacksInTimeOrderThenSchedulingOrder) {
  TimerQueue timers;
  // Hold the timer thread so that every callback below is pending, and due,
  // when it looks: the order then depends on the queue alone.
  absl::Notification gate;
  timers.Schedule(absl::InfinitePast(),
                  [&gate] { gate.WaitForNotification(); });
  absl::Mutex mu;
  std::vector<int> order;
  absl::BlockingCounter done(6);
  const absl::Time base = absl::Now() - absl::Seconds(10);
  const int kOffsetsMs[] = {40, 0, 30, 10, 20, 10};
  for (int i = 0; i < 6; ++i) {
    timers.Schedule(base + absl::Milliseconds(kOffsetsMs[i]), [&, i] {
      absl::MutexLock lock(&mu);
      order.push_back(i);
      done.DecrementCount();
    });
  }
  gate.Notify();
  done.Wait();
  EXPECT_THAT(order, ElementsAre(1, 3, 5, 4, 2, 0));
}

TEST(TimerQueueTest, EarlierTimerScheduledDuringAWaitRunsFirst) {
  TimerQueue timers;
  Probe late;
  timers.Schedule(absl::Now() + absl::Hours(1), late.Callback());
  absl::Notification ran;
  timers.Schedule(absl::Now() + absl::Milliseconds(5),
                  [&ran] { ran.Notify(); });
  ran.WaitForNotification();
  EXPECT_FALSE(*late.ran);
  EXPECT_EQ(timers.pending(), 1u);
}

// The thread sleeps until the earliest timer it saw, cancelled or not; what
// is scheduled after a cancellation must still run on time, whether it is
// due before that wake-up (the thread is woken) or after it (it is not).
TEST(TimerQueueTest, TimersScheduledAfterACancelledOneRun) {
  TimerQueue timers;
  const absl::Duration kCases[][2] = {
      // {the cancelled timer is due in, the next one in}
      {absl::Milliseconds(20), absl::Milliseconds(60)},
      {absl::Hours(1), absl::Milliseconds(5)},
  };
  for (const auto& [cancelled_in, next_in] : kCases) {
    Probe cancelled;
    TimerHandle handle =
        timers.Schedule(absl::Now() + cancelled_in, cancelled.Callback());
    ASSERT_TRUE(handle.Cancel());
    absl::Notification ran;
    timers.Schedule(absl::Now() + next_in, [&ran] { ran.Notify(); });
    EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(30)))
        << "cancelled in " << cancelled_in << ", next in " << next_in;
    EXPECT_FALSE(*cancelled.ran);
    EXPECT_EQ(timers.pending(), 0u);
  }
}

TEST(TimerQueueTest, CallbacksMayScheduleMore) {
  TimerQueue timers;
  absl::Notification done;
  int hops = 0;
  std::function<void()> hop = [&] {
    if (++hops == 3) {
      done.Notify();
    } else {
      timers.Schedule(absl::Now(), [&hop] { hop(); });
    }
  };
  timers.Schedule(absl::Now(), [&hop] { hop(); });
  done.WaitForNotification();
  EXPECT_EQ(hops, 3);
}

TEST(TimerQueueTest, CancelRemovesAndDestroysAPendingCallback) {
  TimerQueue timers;
  Probe probe;
  TimerHandle handle =
      timers.Schedule(absl::Now() + absl::Hours(1), probe.Callback());
  EXPECT_FALSE(probe.alive.expired());
  EXPECT_TRUE(handle.Cancel());
  EXPECT_TRUE(probe.alive.expired());
  EXPECT_FALSE(*probe.ran);
  EXPECT_FALSE(handle.Cancel());
  EXPECT_EQ(timers.pending(), 0u);
  EXPECT_FALSE(TimerHandle().Cancel());
}

TEST(TimerQueueTest, CancelAfterRunningReturnsFalse) {
  FakeClock clock;
  TimerQueue timers(&clock, TimerQueue::Mode::kManual);
  Probe probe;
  TimerHandle handle = timers.Schedule(clock.Now(), probe.Callback());
  EXPECT_EQ(timers.RunDue(), 1u);
  EXPECT_TRUE(*probe.ran);
  EXPECT_FALSE(handle.Cancel());
}

TEST(TimerQueueTest, ManualModeRunsOnlyWhatIsDue) {
  FakeClock clock;
  TimerQueue timers(&clock, TimerQueue::Mode::kManual);
  std::vector<int> order;
  const absl::Time t0 = clock.Now();
  timers.Schedule(t0 + absl::Seconds(2), [&] { order.push_back(2); });
  timers.Schedule(t0 + absl::Seconds(1), [&] {
    order.push_back(1);
    // Due now: runs within the same RunDue().
    timers.Schedule(t0, [&] { order.push_back(10); });
  });
  EXPECT_EQ(timers.RunDue(), 0u);
  EXPECT_EQ(timers.NextTimerTime(), t0 + absl::Seconds(1));
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(timers.RunDue(), 2u);
  EXPECT_THAT(order, ElementsAre(1, 10));
  EXPECT_EQ(timers.NextTimerTime(), t0 + absl::Seconds(2));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(timers.RunDue(), 1u);
  EXPECT_EQ(timers.NextTimerTime(), std::nullopt);
}

TEST(TimerQueueTest, ShutdownDropsPendingCallbacksWithoutRunningThem) {
  TimerQueue timers;
  Probe pending;
  TimerHandle handle =
      timers.Schedule(absl::Now() + absl::Hours(1), pending.Callback());
  timers.Shutdown();
  EXPECT_TRUE(pending.alive.expired());
  EXPECT_FALSE(*pending.ran);
  EXPECT_FALSE(handle.Cancel());

  Probe late;
  TimerHandle none = timers.Schedule(absl::InfinitePast(), late.Callback());
  EXPECT_TRUE(late.alive.expired());
  EXPECT_FALSE(*late.ran);
  EXPECT_FALSE(none.Cancel());
  timers.Shutdown();  // Idempotent.
}

TEST(TimerQueueTest, ShutdownFromACallbackDoesNotDeadlock) {
  auto timers = std::make_unique<TimerQueue>();
  absl::Notification done;
  Probe pending;
  timers->Schedule(absl::Now() + absl::Hours(1), pending.Callback());
  timers->Schedule(absl::Now(), [&] {
    timers->Shutdown();
    done.Notify();
  });
  done.WaitForNotification();
  EXPECT_TRUE(pending.alive.expired());
  timers.reset();  // Joins the thread.
}

}  // namespace
}  // namespace lienthong::resilience
