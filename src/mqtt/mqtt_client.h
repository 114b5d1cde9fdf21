#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "util/result.h"

namespace bridge {

/// One inbound MQTT message, owned by value.
struct MqttMessage {
  std::string topic;
  std::string payload;  // raw bytes; may contain NULs
  int qos = 0;
  bool retained = false;
  bool duplicate = false;
};

/// Outbound publish request.
struct MqttPublish {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = false;
};

/// The narrow port between the bridge and an MQTT client library. The one
/// real implementation wraps Paho (paho_mqtt_client.h); tests use a fake.
///
/// Thread-safety: every method may be called from any thread. Callbacks run on
/// the client library's thread and must not block: for Paho that thread is
/// shared by every client in the process and also runs keepalive.
/// No library exception ever crosses this interface.
class MqttClient {
 public:
  using PublishDone = std::function<void(Status)>;
  using SubscribeDone = std::function<void(Status)>;
  /// Called for every inbound message. For QoS1 the broker receives the
  /// PUBACK only after this handler returns (Paho C >= 1.3.10, see README),
  /// so the handler must return only once the bridge owns the message.
  using MessageHandler = std::function<void(MqttMessage&&)>;
  /// Called with true after every (re)connect and false on connection loss.
  using ConnectionHandler = std::function<void(bool connected)>;

  virtual ~MqttClient() = default;

  /// Must be set before Connect().
  virtual void SetMessageHandler(MessageHandler handler) = 0;
  virtual void SetConnectionHandler(ConnectionHandler handler) = 0;

  /// Blocks until connected or `timeout` passes. After a successful first
  /// connect the client reconnects by itself with capped exponential backoff.
  virtual Status Connect(std::chrono::milliseconds timeout) = 0;

  /// Starts a publish; `done` runs once, on the library's thread or inline,
  /// after the broker's PUBACK (QoS1) or the hand-off to the socket (QoS0),
  /// or with the error. Many publishes may be in flight at once.
  virtual void Publish(MqttPublish message, PublishDone done) = 0;

  /// Starts a subscription; `done` runs once with the SUBACK's verdict.
  virtual void Subscribe(const std::string& filter, int qos, SubscribeDone done) = 0;
  virtual void Unsubscribe(const std::string& filter) = 0;

  virtual bool IsConnected() const = 0;

  /// Disconnects cleanly, waiting at most `timeout`. Stops reconnecting.
  virtual void Disconnect(std::chrono::milliseconds timeout) = 0;
};

}  // namespace bridge
