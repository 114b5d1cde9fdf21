#include "util/timer_queue.h"

#include "util/logging.h"

namespace bridge {

TimerQueue::TimerQueue() : thread_([this](std::stop_token stop) { Run(stop); }) {}

TimerQueue::~TimerQueue() {
  thread_.request_stop();
  wake_.notify_all();
}

TimerQueue::TimerId TimerQueue::ScheduleAt(Clock::time_point due, std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  const TimerId id = next_id_++;
  timers_.emplace(std::make_pair(due, id), std::move(callback));
  due_by_id_.emplace(id, due);
  wake_.notify_all();
  return id;
}

bool TimerQueue::Cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  auto it = due_by_id_.find(id);
  if (it == due_by_id_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  due_by_id_.erase(it);
  return true;
}

void TimerQueue::Run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (timers_.empty()) {
      wake_.wait(lock, stop, [this] { return !timers_.empty(); });
      continue;
    }
    auto first = timers_.begin();
    if (first->first.first > Clock::now()) {
      const auto due = first->first.first;
      wake_.wait_until(lock, stop, due, [this, due] {
        return !timers_.empty() && timers_.begin()->first.first < due;
      });
      continue;
    }
    auto callback = std::move(first->second);
    due_by_id_.erase(first->first.second);
    timers_.erase(first);
    lock.unlock();
    try {
      callback();
    } catch (const std::exception& e) {
      Logger("bridge")->error("event=timer_callback_failed error=\"{}\"", e.what());
    }
    lock.lock();
  }
}

}  // namespace bridge
