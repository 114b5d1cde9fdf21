// Chaos test 2 of issue 4: with offlineBuffer, 5,000 publishes through the
// bridge while mosquitto is down for part of the run all reach a subscriber.
#include <chrono>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "chaos_support.h"

namespace bridge::testing {
namespace {

using namespace std::chrono_literals;

TEST(OutboundOutageTest, EveryPublishAcceptedDuringABrokerOutageArrives) {
  constexpr int kMessages = 5000;
  TempDir dir;
  // Persistence keeps the subscriber's session (and what is queued for it)
  // across the broker's restart.
  auto broker = MosquittoBroker::Start({.persistence = true});
  ASSERT_NE(broker, nullptr);
  auto subscriber = TestMqttPeer::Connect(broker->url(), "outage-subscriber", /*clean_session=*/false);
  ASSERT_NE(subscriber, nullptr);
  ASSERT_TRUE(subscriber->Subscribe("outage/#").ok());

  auto bridge = BridgeProcess::Start(dir.path() + "/sockets", dir.path() + "/state", dir.path() + "/bridge.log");
  ASSERT_NE(bridge, nullptr);
  FakeDaprd daprd(bridge->socket_path());
  auto status = daprd.Init("bus", FakeDaprd::Metadata(broker->url(), "outage-bridge",
                                                      {{"offlineBuffer", "true"}, {"maxOfflineMessages", "10000"},
                                                       {"publishTimeout", "2s"}}));
  ASSERT_TRUE(status.ok()) << status.error_message();

  const auto started = std::chrono::steady_clock::now();
  int rejected = 0;
  for (int i = 0; i < kMessages; ++i) {
    if (i == kMessages / 3) broker->Stop();  // the outage starts...
    if (i == 2 * kMessages / 3) {
      ASSERT_TRUE(broker->Restart());  // ...and ends
    }
    // A publish in flight when the connection drops may still fail once
    // (the broker may or may not have it); daprd would retry, so do we, boundedly.
    for (int attempt = 0;; ++attempt) {
      status = daprd.Publish("bus", "outage/data", std::to_string(i));
      if (status.ok()) break;
      ++rejected;
      ASSERT_LT(attempt, 5) << "publish " << i << " keeps failing: " << status.error_message();
    }
  }
  // Count distinct payloads: a message in flight at the outage may arrive
  // twice (at least once), and a duplicate must not end the wait early.
  std::set<std::string> distinct;
  std::vector<MqttMessage> messages;
  WaitUntil(
      [&] {
        messages = subscriber->Messages();
        distinct.clear();
        for (const auto& message : messages) distinct.insert(message.payload);
        return distinct.size() >= static_cast<std::size_t>(kMessages);
      },
      60s, 50ms);
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("outbound outage: %d published, %zu distinct arrived, %zu deliveries, %d retried publishes, %.1f s\n",
              kMessages, distinct.size(), messages.size(), rejected, seconds);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));
  if (HasFailure()) std::fprintf(stderr, "--- bridge log ---\n%s\n", Tail(bridge->ReadLog()).c_str());
}

}  // namespace
}  // namespace bridge::testing
