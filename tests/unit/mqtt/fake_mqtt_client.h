#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mqtt/mqtt_client.h"

namespace bridge::testing {

/// A hand-written MqttClient for unit tests. It records what the code under
/// test asked for and lets the test play the broker: complete publishes and
/// subscribes through their stored `done`, inject messages and connection
/// changes through the stored handlers.
///
/// The recorded state lives in a shared `State`, so the test keeps a handle to
/// it after moving the client into the code under test. Recording is guarded
/// by a mutex, because publishes may complete on the TimerQueue's thread; the
/// test itself completes callbacks from its own thread, outside the lock.
class FakeMqttClient final : public MqttClient {
 public:
  struct Subscription {
    std::string filter;
    int qos = 0;
    SubscribeDone done;
  };
  struct PublishCall {
    MqttPublish message;
    PublishDone done;
  };
  struct State {
    std::mutex mutex;
    Status connect_result;  // what Connect returns; OK by default
    MessageHandler on_message;
    ConnectionHandler on_connection;
    std::vector<PublishCall> publishes;
    std::vector<Subscription> subscribes;
    std::vector<std::string> unsubscribes;
    int connects = 0;
    int disconnects = 0;
    bool connected = false;
  };

  explicit FakeMqttClient(std::shared_ptr<State> state) : state_(std::move(state)) {}

  void SetMessageHandler(MessageHandler handler) override {
    std::lock_guard lock(state_->mutex);
    state_->on_message = std::move(handler);
  }
  void SetConnectionHandler(ConnectionHandler handler) override {
    std::lock_guard lock(state_->mutex);
    state_->on_connection = std::move(handler);
  }

  Status Connect(std::chrono::milliseconds) override {
    std::lock_guard lock(state_->mutex);
    ++state_->connects;
    state_->connected = state_->connect_result.ok();
    return state_->connect_result;
  }
  void Publish(MqttPublish message, PublishDone done) override {
    std::lock_guard lock(state_->mutex);
    state_->publishes.push_back({std::move(message), std::move(done)});
  }
  void Subscribe(const std::string& filter, int qos, SubscribeDone done) override {
    std::lock_guard lock(state_->mutex);
    state_->subscribes.push_back({filter, qos, std::move(done)});
  }
  void Unsubscribe(const std::string& filter) override {
    std::lock_guard lock(state_->mutex);
    state_->unsubscribes.push_back(filter);
  }
  bool IsConnected() const override {
    std::lock_guard lock(state_->mutex);
    return state_->connected;
  }
  void Disconnect(std::chrono::milliseconds) override {
    std::lock_guard lock(state_->mutex);
    ++state_->disconnects;
    state_->connected = false;
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bridge::testing
