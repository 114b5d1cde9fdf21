#include "util/timer_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace bridge {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;

constexpr auto kDeadline = std::chrono::seconds(10);

/// What the callbacks did, with a way to wait for it without fixed sleeps.
class Log {
 public:
  void Add(std::string event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    changed_.notify_all();
  }
  // Waits until `count` events arrived or the deadline passed.
  std::vector<std::string> WaitFor(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kDeadline, [&] { return events_.size() >= count; });
    return events_;
  }
  std::vector<std::string> Snapshot() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> events_;
};

TEST(TimerQueueTest, RunsCallbacksInDueOrderNotSchedulingOrder) {
  Log log;
  TimerQueue timers;
  const auto base = TimerQueue::Clock::now() + milliseconds(30);
  timers.ScheduleAt(base + milliseconds(20), [&] { log.Add("third"); });
  timers.ScheduleAt(base, [&] { log.Add("first"); });
  timers.ScheduleAt(base + milliseconds(10), [&] { log.Add("second"); });
  EXPECT_THAT(log.WaitFor(3), ElementsAre("first", "second", "third"));
}

TEST(TimerQueueTest, EqualDueTimesRunInSchedulingOrder) {
  Log log;
  TimerQueue timers;
  const auto due = TimerQueue::Clock::now() + milliseconds(10);
  timers.ScheduleAt(due, [&] { log.Add("a"); });
  timers.ScheduleAt(due, [&] { log.Add("b"); });
  timers.ScheduleAt(due, [&] { log.Add("c"); });
  EXPECT_THAT(log.WaitFor(3), ElementsAre("a", "b", "c"));
}

TEST(TimerQueueTest, RunsACallbackAlreadyDue) {
  Log log;
  TimerQueue timers;
  timers.ScheduleAt(TimerQueue::Clock::now() - milliseconds(5), [&] { log.Add("late"); });
  EXPECT_THAT(log.WaitFor(1), ElementsAre("late"));
}

TEST(TimerQueueTest, CancelledCallbackNeverRuns) {
  Log log;
  TimerQueue timers;
  const auto id = timers.ScheduleAfter(milliseconds(20), [&] { log.Add("cancelled"); });
  EXPECT_TRUE(timers.Cancel(id));
  // A later marker proves the queue ran past the cancelled timer's due time.
  timers.ScheduleAfter(milliseconds(40), [&] { log.Add("marker"); });
  EXPECT_THAT(log.WaitFor(1), ElementsAre("marker"));
}

TEST(TimerQueueTest, CancelReturnsFalseAfterTheCallbackRan) {
  Log log;
  TimerQueue timers;
  const auto id = timers.ScheduleAfter(milliseconds(1), [&] { log.Add("ran"); });
  ASSERT_THAT(log.WaitFor(1), ElementsAre("ran"));
  EXPECT_FALSE(timers.Cancel(id));
}

TEST(TimerQueueTest, CancelReturnsFalseForAnUnknownOrAlreadyCancelledId) {
  TimerQueue timers;
  EXPECT_FALSE(timers.Cancel(12345));
  const auto id = timers.ScheduleAfter(std::chrono::hours(1), [] {});
  EXPECT_TRUE(timers.Cancel(id));
  EXPECT_FALSE(timers.Cancel(id));
}

TEST(TimerQueueTest, ACallbackMayScheduleAnother) {
  Log log;
  TimerQueue timers;
  timers.ScheduleAfter(milliseconds(1), [&] {
    log.Add("outer");
    timers.ScheduleAfter(milliseconds(1), [&] { log.Add("inner"); });
  });
  EXPECT_THAT(log.WaitFor(2), ElementsAre("outer", "inner"));
}

TEST(TimerQueueTest, ACallbackMayCancelAnother) {
  Log log;
  TimerQueue timers;
  const auto base = TimerQueue::Clock::now() + milliseconds(10);
  const auto victim = timers.ScheduleAt(base + milliseconds(20), [&] { log.Add("victim"); });
  timers.ScheduleAt(base, [&] { log.Add(timers.Cancel(victim) ? "cancelled" : "too late"); });
  timers.ScheduleAt(base + milliseconds(40), [&] { log.Add("marker"); });
  EXPECT_THAT(log.WaitFor(2), ElementsAre("cancelled", "marker"));
}

TEST(TimerQueueTest, AnEarlierTimerScheduledLaterStillRunsFirst) {
  Log log;
  TimerQueue timers;
  timers.ScheduleAfter(std::chrono::hours(1), [&] { log.Add("far"); });
  timers.ScheduleAfter(milliseconds(5), [&] { log.Add("near"); });
  EXPECT_THAT(log.WaitFor(1), ElementsAre("near"));
}

TEST(TimerQueueTest, AThrowingCallbackDoesNotStopTheQueue) {
  Log log;
  TimerQueue timers;
  const auto base = TimerQueue::Clock::now() + milliseconds(5);
  timers.ScheduleAt(base, [] { throw std::runtime_error("boom"); });
  timers.ScheduleAt(base + milliseconds(5), [&] { log.Add("after"); });
  EXPECT_THAT(log.WaitFor(1), ElementsAre("after"));
}

TEST(TimerQueueTest, DestructorDropsCallbacksNotYetDue) {
  Log log;
  {
    TimerQueue timers;
    timers.ScheduleAfter(std::chrono::hours(1), [&] { log.Add("never"); });
  }
  EXPECT_TRUE(log.Snapshot().empty());
}

}  // namespace
}  // namespace bridge
