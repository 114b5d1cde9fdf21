#include "bridge/offline_outbox.h"

#include "util/logging.h"

namespace bridge {

OfflineOutbox::OfflineOutbox(std::unique_ptr<OutboxStore> store, std::size_t max_messages, MqttClient& client)
    : store_(std::move(store)), max_messages_(max_messages), client_(client) {}

bool OfflineOutbox::Active() {
  std::lock_guard lock(mutex_);
  return draining_ || store_->Count() > 0;
}

Status OfflineOutbox::Accept(const MqttPublish& message) {
  // Under the same lock as SendNext's "nothing left" decision, so a message
  // appended just then is never stranded with no replay running.
  std::lock_guard lock(mutex_);
  if (store_->Count() >= max_messages_) {
    return ResourceExhausted("the offline buffer holds maxOfflineMessages=" + std::to_string(max_messages_) +
                             " messages while the broker is unreachable");
  }
  return store_->Append(message);
}

void OfflineOutbox::Drain() {
  {
    std::lock_guard lock(mutex_);
    if (draining_ || stopped_) return;
    draining_ = true;
  }
  SendNext();
}

void OfflineOutbox::Stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
}

void OfflineOutbox::SendNext() {
  std::optional<OutboxStore::Entry> front;
  {
    std::lock_guard lock(mutex_);
    front = stopped_ ? std::nullopt : store_->Front();
    if (!front) {
      draining_ = false;
      return;
    }
  }
  std::weak_ptr<OfflineOutbox> weak = weak_from_this();
  const auto seq = front->first;
  client_.Publish(std::move(front->second), [weak, seq](Status status) {
    auto self = weak.lock();
    if (!self) return;
    if (!status.ok()) {
      Logger("mqtt")->warn("event=offline_replay_paused pending={} error=\"{}\"", self->store_->Count(),
                           status.error().message);
      std::lock_guard lock(self->mutex_);
      self->draining_ = false;
      return;
    }
    self->store_->Remove(seq);
    self->SendNext();
  });
}

}  // namespace bridge
