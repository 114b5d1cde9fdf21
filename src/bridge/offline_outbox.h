#pragma once

#include <memory>
#include <mutex>

#include "bridge/outbox_store.h"
#include "mqtt/mqtt_client.h"

namespace bridge {

/// With `offlineBuffer: true`: publishes accepted while the broker is
/// unreachable, stored durably, and replayed in order once it is back.
///
/// While anything is stored or being replayed, new publishes join the end of
/// the line too, so the broker sees them in the order Publish returned OK.
/// Replay sends one message at a time and removes it only after its PUBACK;
/// a failure stops the replay until the next connect.
///
/// Thread-safety: all methods may be called from any thread.
class OfflineOutbox : public std::enable_shared_from_this<OfflineOutbox> {
 public:
  OfflineOutbox(std::unique_ptr<OutboxStore> store, std::size_t max_messages, MqttClient& client);

  /// Whether a publish must go through the outbox to keep the order.
  bool Active();
  /// Stores a publish; RESOURCE_EXHAUSTED when `max_messages` are stored.
  Status Accept(const MqttPublish& message);
  /// Starts replaying, if not already; call after every (re)connect.
  void Drain();
  /// No more replay: the client is about to go away.
  void Stop();

 private:
  void SendNext();

  std::unique_ptr<OutboxStore> store_;
  const std::size_t max_messages_;
  MqttClient& client_;
  std::mutex mutex_;
  bool draining_ = false;
  bool stopped_ = false;
};

}  // namespace bridge
