#include "bridge/inbox.h"

#include <algorithm>

#include "bridge/topic_mapper.h"
#include "util/logging.h"

namespace bridge {

Inbox::Inbox(std::unique_ptr<MessageStore> store) : store_(std::move(store)) {
  for (auto& record : store_->LoadAll()) {
    next_seq_ = std::max(next_seq_, record.seq + 1);
    Count(record);
    waiting_.push_back(std::move(record));
  }
}

InboundRecord Inbox::NewRecordLocked(const std::string& filter,
                                     const std::shared_ptr<const MqttMessage>& message) {
  InboundRecord record;
  record.seq = next_seq_++;
  record.filter = filter;
  record.message = message;
  Count(record);
  return record;
}

void Inbox::Count(const InboundRecord& record) {
  pending_messages_ += 1;
  pending_bytes_ += record.message ? record.message->payload.size() : 0;
}

Status Inbox::Accept(MqttMessage message) {
  auto shared = std::make_shared<const MqttMessage>(std::move(message));
  std::vector<std::shared_ptr<InboxSubscriber>> to_wake;
  std::unique_lock lock(mutex_);
  Status status;
  auto keep = [&](InboundRecord record) {
    if (auto saved = store_->Save(record); !saved.ok()) status = saved;
    return record;
  };

  bool matched_a_filter = false;
  for (const auto& filter : known_filters_) {
    if (!TopicMatchesFilter(filter, shared->topic)) continue;
    matched_a_filter = true;
    bool offered = false;
    for (auto& attached : attached_) {
      if (attached.filter != filter) continue;
      attached.subscriber->Offer(keep(NewRecordLocked(filter, shared)));
      to_wake.push_back(attached.subscriber);
      offered = true;
    }
    if (!offered) waiting_.push_back(keep(NewRecordLocked(filter, shared)));
  }
  if (!matched_a_filter) waiting_.push_back(keep(NewRecordLocked({}, shared)));
  lock.unlock();
  for (auto& subscriber : to_wake) subscriber->Wake();
  return status;
}

void Inbox::Attach(const std::string& filter, std::shared_ptr<InboxSubscriber> subscriber) {
  std::unique_lock lock(mutex_);
  if (std::find(known_filters_.begin(), known_filters_.end(), filter) == known_filters_.end()) {
    known_filters_.push_back(filter);
  }
  // Hand over what waits for this filter, plus unrouted messages it matches.
  std::vector<InboundRecord> still_waiting;
  for (auto& record : waiting_) {
    const bool claimable = record.filter == filter ||
                           (record.filter.empty() && TopicMatchesFilter(filter, record.message->topic));
    if (!claimable) {
      still_waiting.push_back(std::move(record));
      continue;
    }
    record.filter = filter;
    subscriber->Offer(std::move(record));
  }
  waiting_ = std::move(still_waiting);
  attached_.push_back({filter, subscriber});
  lock.unlock();
  subscriber->Wake();
}

void Inbox::Detach(const InboxSubscriber* subscriber) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(attached_.begin(), attached_.end(),
                         [subscriber](const Attached& a) { return a.subscriber.get() == subscriber; });
  if (it == attached_.end()) return;
  auto unacked = it->subscriber->TakeUnacked();
  const std::string filter = it->filter;
  attached_.erase(it);

  // Another stream on the same filter already got its own copy of each of
  // these, so they go to the next stream that attaches, not to a sibling.
  for (auto& record : unacked) {
    record.filter = filter;
    waiting_.push_back(std::move(record));
  }
  std::sort(waiting_.begin(), waiting_.end(),
            [](const InboundRecord& a, const InboundRecord& b) { return a.seq < b.seq; });
}

void Inbox::Requeue(InboundRecord record) {
  std::shared_ptr<InboxSubscriber> target;
  {
    std::lock_guard lock(mutex_);
    for (auto& attached : attached_) {
      if (attached.filter == record.filter) {
        target = attached.subscriber;
        target->Offer(std::move(record));
        break;
      }
    }
    if (!target) waiting_.push_back(std::move(record));
  }
  if (target) target->Wake();
}

void Inbox::Acked(const InboundRecord& record) {
  // No inbox lock: the store is thread-safe, and acks arrive from threads
  // that may already hold the lock further up their stack.
  store_->Remove(record.seq);
  pending_messages_ -= 1;
  pending_bytes_ -= record.message ? record.message->payload.size() : 0;
}

std::size_t Inbox::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::vector<InboundRecord> Inbox::TakeWaiting() {
  std::lock_guard lock(mutex_);
  return std::exchange(waiting_, {});
}

void Inbox::AdoptWaiting(std::vector<InboundRecord> records) {
  std::lock_guard lock(mutex_);
  for (auto& record : records) {
    record.seq = next_seq_++;
    Count(record);
    if (auto saved = store_->Save(record); !saved.ok()) {
      Logger("bridge")->error("event=store_save_failed seq={} error=\"{}\"", record.seq, saved.error().message);
    }
    waiting_.push_back(std::move(record));
  }
}

}  // namespace bridge
