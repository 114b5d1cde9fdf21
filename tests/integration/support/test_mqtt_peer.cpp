#include "test_mqtt_peer.h"

#include <iostream>

#include "mqtt/paho_mqtt_client.h"

namespace bridge::testing {

std::function<void(Status)> StatusWaiter::Callback() {
  return [state = state_](Status status) {
    std::lock_guard lock(state->mu);
    ++state->calls;
    if (!state->done) state->status = std::move(status);
    state->done = true;
    state->cv.notify_all();
  };
}

Status StatusWaiter::Wait(std::chrono::milliseconds deadline) {
  std::unique_lock lock(state_->mu);
  if (!state_->cv.wait_for(lock, deadline, [this] { return state_->done; })) {
    return DeadlineExceeded("callback did not run within " + std::to_string(deadline.count()) + " ms");
  }
  return state_->status;
}

std::unique_ptr<TestMqttPeer> TestMqttPeer::Connect(const std::string& url, const std::string& client_id,
                                                    bool clean_session, std::chrono::milliseconds deadline) {
  MqttConnectionSettings settings;
  settings.server_uri = url;
  settings.client_id = client_id;
  settings.clean_session = clean_session;
  auto client = MakePahoMqttClient(std::move(settings));
  if (!client.ok()) {
    std::cerr << "TestMqttPeer: " << client.error().message << "\n";
    return nullptr;
  }
  std::unique_ptr<TestMqttPeer> peer(new TestMqttPeer());
  peer->client_ = std::move(client).value();
  TestMqttPeer* raw = peer.get();
  peer->client_->SetMessageHandler([raw](MqttMessage&& message) {
    std::lock_guard lock(raw->mu_);
    raw->messages_.push_back(std::move(message));
    raw->cv_.notify_all();
  });
  const Status status = peer->client_->Connect(deadline);
  if (!status.ok()) {
    std::cerr << "TestMqttPeer: " << status.error().message << "\n";
    return nullptr;
  }
  return peer;
}

TestMqttPeer::~TestMqttPeer() {
  // Disconnect before the members the handler touches go away.
  if (client_) client_->Disconnect(std::chrono::seconds(2));
  client_.reset();
}

Status TestMqttPeer::Subscribe(const std::string& filter, int qos, std::chrono::milliseconds deadline) {
  StatusWaiter waiter;
  client_->Subscribe(filter, qos, waiter.Callback());
  return waiter.Wait(deadline);
}

Status TestMqttPeer::Publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                             std::chrono::milliseconds deadline) {
  StatusWaiter waiter;
  client_->Publish(MqttPublish{topic, payload, qos, retain}, waiter.Callback());
  return waiter.Wait(deadline);
}

std::vector<MqttMessage> TestMqttPeer::WaitForMessages(size_t n, std::chrono::milliseconds deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, deadline, [&] { return messages_.size() >= n; });
  return messages_;
}

std::vector<MqttMessage> TestMqttPeer::Messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

void TestMqttPeer::ClearMessages() {
  std::lock_guard lock(mu_);
  messages_.clear();
}

}  // namespace bridge::testing
