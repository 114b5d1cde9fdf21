#include "bridge/stream_delivery.h"

#include <algorithm>

#include "util/time_math.h"

namespace bridge {

std::chrono::milliseconds RedeliveryPolicy::DelayAfter(std::uint32_t attempts) const {
  if (attempts == 0) return std::chrono::milliseconds(0);
  auto delay = initial_delay;
  for (std::uint32_t i = 1; i < attempts && delay < max_delay; ++i) delay *= 2;
  return std::min(delay, max_delay);
}

StreamDelivery::StreamDelivery(std::size_t window, RedeliveryPolicy policy)
    : window_(std::max<std::size_t>(window, 1)), policy_(policy) {}

void StreamDelivery::Enqueue(InboundRecord record) { ready_.push_back(std::move(record)); }

void StreamDelivery::PromoteDueRecords(Clock::time_point now) {
  // Redeliveries go ahead of fresh records: they are older.
  std::vector<InboundRecord> due;
  while (!backing_off_.empty() && backing_off_.begin()->first <= now) {
    due.push_back(std::move(backing_off_.begin()->second));
    backing_off_.erase(backing_off_.begin());
  }
  for (auto it = due.rbegin(); it != due.rend(); ++it) ready_.push_front(std::move(*it));
}

std::optional<StreamDelivery::Delivery> StreamDelivery::NextToSend(Clock::time_point now) {
  PromoteDueRecords(now);
  if (ready_.empty() || in_flight_.size() >= window_) return std::nullopt;
  InboundRecord record = std::move(ready_.front());
  ready_.pop_front();
  ++record.attempts;
  // seq identifies the message, the counter the attempt: an ack for an
  // earlier attempt of a redelivered message is then simply unknown.
  std::string id = std::to_string(record.seq) + "-" + std::to_string(next_delivery_++);
  auto [it, inserted] = in_flight_.emplace(std::move(id), std::move(record));
  return Delivery{it->first, &it->second};
}

StreamDelivery::AckResult StreamDelivery::OnAck(const std::string& id, bool is_error,
                                                Clock::time_point now) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return {};
  InboundRecord record = std::move(it->second);
  in_flight_.erase(it);
  if (!is_error) return {AckOutcome::kAcked, std::move(record)};
  if (policy_.max_redeliveries > 0 && record.attempts > policy_.max_redeliveries) {
    return {AckOutcome::kExhausted, std::move(record)};
  }
  const auto due = SaturatingAdd(now, policy_.DelayAfter(record.attempts));
  backing_off_.emplace(due, std::move(record));
  return {AckOutcome::kNacked, {}};
}

std::optional<InboundRecord> StreamDelivery::Discard(const std::string& id) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return std::nullopt;
  InboundRecord record = std::move(it->second);
  in_flight_.erase(it);
  return record;
}

std::optional<StreamDelivery::Clock::time_point> StreamDelivery::NextRedeliveryDue() const {
  if (backing_off_.empty()) return std::nullopt;
  return backing_off_.begin()->first;
}

std::vector<InboundRecord> StreamDelivery::TakeAll() {
  std::vector<InboundRecord> all;
  all.reserve(in_flight_.size() + backing_off_.size() + ready_.size());
  // Oldest first, roughly: in flight were sent before the rest.
  std::vector<InboundRecord> flying;
  for (auto& [id, record] : in_flight_) flying.push_back(std::move(record));
  std::sort(flying.begin(), flying.end(),
            [](const InboundRecord& a, const InboundRecord& b) { return a.seq < b.seq; });
  for (auto& record : flying) all.push_back(std::move(record));
  for (auto& [due, record] : backing_off_) all.push_back(std::move(record));
  for (auto& record : ready_) all.push_back(std::move(record));
  in_flight_.clear();
  backing_off_.clear();
  ready_.clear();
  return all;
}

}  // namespace bridge
