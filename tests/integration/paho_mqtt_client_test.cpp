// The Paho adapter against a real mosquitto on a free loopback port.

#include "mqtt/paho_mqtt_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/silent_listener.h"
#include "support/test_support.h"

namespace bridge {
namespace {

using namespace std::chrono_literals;
using testing::MosquittoBroker;
using testing::SilentListener;
using testing::StatusWaiter;
using testing::TestMqttPeer;
using testing::WaitUntil;

MqttConnectionSettings Settings(const std::string& url, const std::string& client_id) {
  MqttConnectionSettings settings;
  settings.server_uri = url;
  settings.client_id = client_id;
  settings.clean_session = true;
  settings.reconnect_min = 50ms;
  settings.reconnect_max = 500ms;
  return settings;
}

std::unique_ptr<MqttClient> MakeClient(MqttConnectionSettings settings) {
  auto client = MakePahoMqttClient(std::move(settings));
  EXPECT_TRUE(client.ok()) << client.error().message;
  return client.ok() ? std::move(client).value() : nullptr;
}

/// Records connection events from the Paho thread.
struct ConnectionEvents {
  std::mutex mu;
  std::vector<bool> events;
  MqttClient::ConnectionHandler Handler() {
    return [this](bool connected) {
      std::lock_guard lock(mu);
      events.push_back(connected);
    };
  }
  std::vector<bool> Snapshot() {
    std::lock_guard lock(mu);
    return events;
  }
};

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

class PahoMqttClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = MosquittoBroker::Start();
    ASSERT_NE(broker_, nullptr);
  }
  std::unique_ptr<MosquittoBroker> broker_;
};

TEST_F(PahoMqttClientTest, ConnectsAndReportsConnected) {
  auto client = MakeClient(Settings(broker_->url(), "connect-ok"));
  ASSERT_NE(client, nullptr);
  ConnectionEvents events;
  client->SetConnectionHandler(events.Handler());
  const Status status = client->Connect(5s);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(client->IsConnected());
  EXPECT_TRUE(WaitUntil([&] { return events.Snapshot() == std::vector<bool>{true}; }, 5s));
}

TEST(PahoMqttClientConnectTest, DeadPortFailsUnavailableWithinTimeoutAndHidesPassword) {
  const uint16_t port = testing::FreeLoopbackPort();  // nothing listens there
  ASSERT_NE(port, 0);
  auto settings = Settings("tcp://127.0.0.1:" + std::to_string(port), "dead-port");
  settings.username = "alice";
  settings.password = "s3cret-pa55";
  auto client = MakeClient(settings);
  ASSERT_NE(client, nullptr);

  const auto start = std::chrono::steady_clock::now();
  const Status status = client->Connect(3s);
  const auto elapsed = Since(start);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kUnavailable) << status.error().message;
  EXPECT_LT(elapsed, 2s);
  EXPECT_NE(status.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << status.error().message;
  EXPECT_EQ(status.error().message.find("s3cret-pa55"), std::string::npos);
  EXPECT_FALSE(client->IsConnected());
}

TEST(PahoMqttClientConnectTest, SilentBrokerTimesOutAndClientCanBeReusedAndDestroyed) {
  SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  auto client = MakeClient(Settings("tcp://127.0.0.1:" + std::to_string(silent.port()), "silent"));
  ASSERT_NE(client, nullptr);

  auto start = std::chrono::steady_clock::now();
  Status status = client->Connect(300ms);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kDeadlineExceeded) << status.error().message;
  EXPECT_LT(Since(start), 1500ms);

  // A second attempt is allowed and again bounded by its timeout.
  start = std::chrono::steady_clock::now();
  status = client->Connect(300ms);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kDeadlineExceeded) << status.error().message;
  EXPECT_LT(Since(start), 1500ms);

  start = std::chrono::steady_clock::now();
  client.reset();
  EXPECT_LT(Since(start), 3s);
}

TEST_F(PahoMqttClientTest, PublishRoundTripIsByteExactIncludingNulsAndOneMebibyte) {
  auto peer = TestMqttPeer::Connect(broker_->url(), "roundtrip-sub");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->Subscribe("rt/#").ok());

  auto client = MakeClient(Settings(broker_->url(), "roundtrip-pub"));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Connect(5s).ok());

  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  all_bytes += std::string("\0\0tail\0", 7);
  std::string big(1024 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) % 256);

  StatusWaiter first;
  StatusWaiter second;
  client->Publish(MqttPublish{"rt/bytes", all_bytes, 1, false}, first.Callback());
  client->Publish(MqttPublish{"rt/big", big, 1, false}, second.Callback());
  const Status first_status = first.Wait(10s);
  const Status second_status = second.Wait(10s);
  ASSERT_TRUE(first_status.ok()) << first_status.error().message;
  ASSERT_TRUE(second_status.ok()) << second_status.error().message;

  const auto messages = peer->WaitForMessages(2, 10s);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].topic, "rt/bytes");
  EXPECT_EQ(messages[0].payload.size(), all_bytes.size());
  EXPECT_TRUE(messages[0].payload == all_bytes);
  EXPECT_EQ(messages[0].qos, 1);
  EXPECT_EQ(messages[1].topic, "rt/big");
  EXPECT_EQ(messages[1].payload.size(), big.size());
  EXPECT_TRUE(messages[1].payload == big);
}

TEST_F(PahoMqttClientTest, ThousandPipelinedPublishesEachCompleteExactlyOnce) {
  constexpr int kCount = 1000;
  auto peer = TestMqttPeer::Connect(broker_->url(), "pipeline-sub");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->Subscribe("pipe/t").ok());

  auto settings = Settings(broker_->url(), "pipeline-pub");
  settings.max_in_flight_publishes = kCount;
  auto client = MakeClient(settings);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Connect(5s).ok());

  std::vector<std::atomic<int>> calls(kCount);
  std::atomic<int> failures{0};
  std::atomic<int> total{0};
  for (int i = 0; i < kCount; ++i) {
    client->Publish(MqttPublish{"pipe/t", "m" + std::to_string(i), 1, false},
                    [&, i](Status status) {
                      calls[static_cast<size_t>(i)].fetch_add(1);
                      if (!status.ok()) failures.fetch_add(1);
                      total.fetch_add(1);
                    });
  }
  ASSERT_TRUE(WaitUntil([&] { return total.load() >= kCount; }, 30s)) << "done calls: " << total.load();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(peer->WaitForMessages(kCount, 30s).size(), static_cast<size_t>(kCount));
  // Disconnect would fail anything still pending: nothing may be called twice.
  client->Disconnect(2s);
  EXPECT_EQ(total.load(), kCount);
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(calls[static_cast<size_t>(i)].load(), 1) << "publish " << i;
}

TEST_F(PahoMqttClientTest, WildcardSubscriptionsReceiveOnlyMatchingTopics) {
  auto client = MakeClient(Settings(broker_->url(), "wildcard-sub"));
  ASSERT_NE(client, nullptr);
  std::mutex mu;
  std::vector<std::string> topics;
  client->SetMessageHandler([&](MqttMessage&& message) {
    std::lock_guard lock(mu);
    topics.push_back(message.topic);
  });
  ASSERT_TRUE(client->Connect(5s).ok());
  StatusWaiter plus;
  StatusWaiter hash;
  client->Subscribe("sensors/+/temp", 1, plus.Callback());
  client->Subscribe("logs/#", 1, hash.Callback());
  ASSERT_TRUE(plus.Wait(5s).ok());
  ASSERT_TRUE(hash.Wait(5s).ok());

  auto peer = TestMqttPeer::Connect(broker_->url(), "wildcard-pub");
  ASSERT_NE(peer, nullptr);
  for (const char* topic : {"sensors/a/temp", "sensors/a/humidity", "sensors/a/b/temp", "logs", "logs/x/y",
                            "other/thing", "sensors/z/temp"}) {
    ASSERT_TRUE(peer->Publish(topic, "x").ok()) << topic;
  }
  // One publisher at QoS1: order is kept, so once the last matching message is
  // in, every earlier one would have been too.
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard lock(mu);
        return !topics.empty() && topics.back() == "sensors/z/temp";
      },
      5s));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(topics, (std::vector<std::string>{"sensors/a/temp", "logs", "logs/x/y", "sensors/z/temp"}));
    topics.clear();
  }

  // After unsubscribing "logs/#" only the other filter delivers. The broker
  // handles one connection's packets in order, so a SUBACK after the
  // UNSUBSCRIBE proves the unsubscribe has taken effect.
  client->Unsubscribe("logs/#");
  StatusWaiter barrier;
  client->Subscribe("barrier/none", 1, barrier.Callback());
  ASSERT_TRUE(barrier.Wait(5s).ok());
  ASSERT_TRUE(peer->Publish("logs/after", "x").ok());
  ASSERT_TRUE(peer->Publish("sensors/end/temp", "x").ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard lock(mu);
        return !topics.empty() && topics.back() == "sensors/end/temp";
      },
      5s));
  std::lock_guard lock(mu);
  EXPECT_EQ(topics, (std::vector<std::string>{"sensors/end/temp"}));
}

TEST_F(PahoMqttClientTest, HandlerExceptionIsContainedAndLaterMessagesStillArrive) {
  auto client = MakeClient(Settings(broker_->url(), "throwing-sub"));
  ASSERT_NE(client, nullptr);
  std::atomic<int> seen{0};
  client->SetMessageHandler([&](MqttMessage&&) {
    if (seen.fetch_add(1) == 0) throw std::runtime_error("handler failure");
  });
  ASSERT_TRUE(client->Connect(5s).ok());
  StatusWaiter sub;
  client->Subscribe("throw/t", 1, sub.Callback());
  ASSERT_TRUE(sub.Wait(5s).ok());
  auto peer = TestMqttPeer::Connect(broker_->url(), "throwing-pub");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->Publish("throw/t", "1").ok());
  ASSERT_TRUE(peer->Publish("throw/t", "2").ok());
  EXPECT_TRUE(WaitUntil([&] { return seen.load() >= 2; }, 5s));
  EXPECT_TRUE(client->IsConnected());
}

TEST_F(PahoMqttClientTest, ReconnectsByItselfAfterBrokerRestart) {
  auto client = MakeClient(Settings(broker_->url(), "restart-client"));
  ASSERT_NE(client, nullptr);
  ConnectionEvents events;
  client->SetConnectionHandler(events.Handler());
  ASSERT_TRUE(client->Connect(5s).ok());
  ASSERT_TRUE(WaitUntil([&] { return events.Snapshot().size() == 1; }, 5s));

  ASSERT_TRUE(broker_->Restart());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitUntil([&] { return events.Snapshot() == std::vector<bool>{true, false, true}; }, 10s))
      << "events: " << events.Snapshot().size();
  EXPECT_TRUE(client->IsConnected());
  std::cerr << "reconnected " << Since(start).count() << " ms after the broker came back\n";

  // The connection is usable again.
  StatusWaiter publish;
  client->Publish(MqttPublish{"after/restart", "x", 1, false}, publish.Callback());
  const Status status = publish.Wait(5s);
  EXPECT_TRUE(status.ok()) << status.error().message;
}

TEST_F(PahoMqttClientTest, DisconnectWhileReconnectingToADeadBrokerReturnsPromptly) {
  auto client = MakeClient(Settings(broker_->url(), "dead-broker"));
  ASSERT_NE(client, nullptr);
  ConnectionEvents events;
  client->SetConnectionHandler(events.Handler());
  ASSERT_TRUE(client->Connect(5s).ok());
  broker_->Stop();
  ASSERT_TRUE(WaitUntil([&] { return events.Snapshot() == std::vector<bool>{true, false}; }, 10s));

  // Publishing during the outage fails at once rather than queueing.
  StatusWaiter publish;
  client->Publish(MqttPublish{"t", "x", 1, false}, publish.Callback());
  const Status status = publish.Wait(1s);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kUnavailable) << status.error().message;

  const auto start = std::chrono::steady_clock::now();
  client->Disconnect(1s);
  client.reset();
  EXPECT_LT(Since(start), 2s);
}

// The bridge resubscribes from its ConnectionHandler and may publish from its
// message handler: both run on Paho's thread and must not deadlock.
TEST_F(PahoMqttClientTest, CallbacksMayCallIntoTheClientIncludingResubscribeAfterRestart) {
  auto client = MakeClient(Settings(broker_->url(), "reentrant"));
  ASSERT_NE(client, nullptr);
  MqttClient* raw = client.get();
  std::atomic<int> subacks{0};
  std::atomic<int> replies_acked{0};
  client->SetConnectionHandler([&, raw](bool connected) {
    if (connected) {
      raw->Subscribe("ask/#", 1, [&](Status status) {
        if (status.ok()) subacks.fetch_add(1);
      });
    }
  });
  client->SetMessageHandler([&, raw](MqttMessage&& message) {
    raw->Publish(MqttPublish{"reply/" + message.topic.substr(4), message.payload, 1, false}, [&](Status status) {
      if (status.ok()) replies_acked.fetch_add(1);
    });
  });
  ASSERT_TRUE(client->Connect(5s).ok());
  ASSERT_TRUE(WaitUntil([&] { return subacks.load() == 1; }, 5s));

  auto peer = TestMqttPeer::Connect(broker_->url(), "reentrant-peer");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->Subscribe("reply/#").ok());
  ASSERT_TRUE(peer->Publish("ask/1", "one").ok());
  ASSERT_EQ(peer->WaitForMessages(1, 5s).size(), 1u);

  // Without persistence the broker forgets every session: only the
  // resubscribe from the connection handler brings "ask/#" back.
  ASSERT_TRUE(broker_->Restart());
  ASSERT_TRUE(WaitUntil([&] { return subacks.load() == 2; }, 15s));
  peer.reset();
  peer = TestMqttPeer::Connect(broker_->url(), "reentrant-peer");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->Subscribe("reply/#").ok());
  ASSERT_TRUE(peer->Publish("ask/2", "two").ok());
  const auto replies = peer->WaitForMessages(1, 5s);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].topic, "reply/2");
  EXPECT_EQ(replies[0].payload, "two");
  EXPECT_TRUE(WaitUntil([&] { return replies_acked.load() == 2; }, 5s));
}

TEST_F(PahoMqttClientTest, PublishWhileDisconnectedFailsInlineAndDisconnectTwiceIsSafe) {
  auto client = MakeClient(Settings(broker_->url(), "disconnect-twice"));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Connect(5s).ok());
  client->Disconnect(2s);
  EXPECT_FALSE(client->IsConnected());
  client->Disconnect(2s);

  bool called_inline = false;
  Status result;
  client->Publish(MqttPublish{"t", "x", 1, false}, [&](Status status) {
    called_inline = true;
    result = std::move(status);
  });
  ASSERT_TRUE(called_inline);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::kUnavailable) << result.error().message;

  StatusWaiter sub;
  client->Subscribe("t", 1, sub.Callback());
  EXPECT_FALSE(sub.Wait(1s).ok());

  // Connect again after Disconnect, then let the destructor disconnect.
  ASSERT_TRUE(client->Connect(5s).ok());
  const auto start = std::chrono::steady_clock::now();
  client.reset();
  EXPECT_LT(Since(start), 3s);
}

}  // namespace
}  // namespace bridge
