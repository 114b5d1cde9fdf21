#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mqtt/mqtt_client.h"
#include "util/result.h"

namespace bridge::testing {

/// A plain MQTT client for tests, built on the bridge's own MqttClient
/// (MakePahoMqttClient): publishes and waits for the PUBACK, subscribes and
/// waits for the SUBACK, and records every message it receives.
/// Thread-safe.
class TestMqttPeer {
 public:
  /// Connects within `deadline`; nullptr (with the reason on stderr) on failure.
  static std::unique_ptr<TestMqttPeer> Connect(const std::string& url, const std::string& client_id,
                                               bool clean_session = true,
                                               std::chrono::milliseconds deadline = std::chrono::seconds(5));
  ~TestMqttPeer();

  /// Waits for the SUBACK.
  Status Subscribe(const std::string& filter, int qos = 1,
                   std::chrono::milliseconds deadline = std::chrono::seconds(5));
  /// Waits for the PUBACK (QoS1) or the hand-off (QoS0).
  Status Publish(const std::string& topic, const std::string& payload, int qos = 1, bool retain = false,
                 std::chrono::milliseconds deadline = std::chrono::seconds(5));

  /// Waits until at least `n` messages have arrived, or the deadline; returns
  /// everything received so far either way (check the size).
  std::vector<MqttMessage> WaitForMessages(size_t n, std::chrono::milliseconds deadline);
  std::vector<MqttMessage> Messages() const;
  void ClearMessages();

  MqttClient& client() { return *client_; }

 private:
  TestMqttPeer() = default;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<MqttMessage> messages_;
  std::unique_ptr<MqttClient> client_;
};

/// Waits for a callback-style result (Publish/Subscribe `done`) with a deadline.
/// DeadlineExceeded if `done` did not run in time.
class StatusWaiter {
 public:
  /// A callback to hand to Publish/Subscribe; keeps the waiter's state alive.
  std::function<void(Status)> Callback();
  Status Wait(std::chrono::milliseconds deadline);

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int calls = 0;
    Status status;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace bridge::testing
