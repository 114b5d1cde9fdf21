#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "mqtt/mqtt_client.h"

namespace bridge {

/// Backpressure towards the broker. MQTT 3.1.1 has no flow control and Paho
/// PUBACKs whatever our handler returns from, so the only way to stop taking
/// messages is to leave: above the bounds the gate disconnects (a persistent
/// session keeps the messages queued at the broker), and once the runtime
/// has acked the inbox down to 90 % of both bounds it connects again.
///
/// Disconnect and Connect block, and must not run on Paho's thread (where
/// Update is called from), so a worker thread of the gate's own runs them.
/// While the gate is closed, publishes fail with UNAVAILABLE (or go to the
/// offline buffer).
///
/// Thread-safety: Update may be called from any thread; Stop before the
/// client goes away.
class IntakeGate {
 public:
  struct Bounds {
    std::size_t max_messages;
    std::size_t max_bytes;
  };
  IntakeGate(Bounds bounds, MqttClient& client, std::chrono::milliseconds connect_timeout, std::string instance);
  ~IntakeGate();

  /// Re-evaluates the gate for the inbox's current pending totals.
  void Update(std::size_t pending_messages, std::size_t pending_bytes);
  void Stop();

 private:
  void Run(std::stop_token stop);

  const Bounds bounds_;
  MqttClient& client_;
  const std::chrono::milliseconds connect_timeout_;
  const std::string instance_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  bool want_closed_ = false;
  bool closed_ = false;
  std::jthread worker_;  // last: starts after the state above exists
};

}  // namespace bridge
