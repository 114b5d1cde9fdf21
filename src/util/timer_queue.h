#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "util/time_math.h"

namespace bridge {

/// Runs callbacks at (or shortly after) a point in time on one thread of its
/// own. Used for redelivery backoff and publish deadlines.
///
/// Thread-safety: all methods may be called from any thread, including from a
/// callback. Callbacks must be short and must not block; they run one at a
/// time. The destructor stops the thread; callbacks not yet due are dropped.
class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = std::uint64_t;

  TimerQueue();
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  TimerId ScheduleAt(Clock::time_point due, std::function<void()> callback);
  TimerId ScheduleAfter(Clock::duration delay, std::function<void()> callback) {
    return ScheduleAt(SaturatingAdd(Clock::now(), delay), std::move(callback));
  }
  /// Returns false when the timer already ran or was unknown.
  bool Cancel(TimerId id);

 private:
  void Run(std::stop_token stop);

  std::mutex mutex_;
  std::condition_variable_any wake_;
  // Keyed by (due, id) so that equal due times keep their scheduling order.
  std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> timers_;
  std::map<TimerId, Clock::time_point> due_by_id_;
  TimerId next_id_ = 1;
  std::jthread thread_;  // last: starts after the state above exists
};

}  // namespace bridge
