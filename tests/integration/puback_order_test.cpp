// Proves the property the whole bridge rests on: for an inbound QoS1 message,
// Paho (C >= 1.3.10, used through set_message_callback) sends the PUBACK only
// after our message handler has returned. mosquitto's `log_type all` shows
// when each PUBACK reaches the broker; we watch it while the handler stalls.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "mqtt/paho_mqtt_client.h"
#include "support/test_support.h"

namespace bridge {
namespace {

using namespace std::chrono_literals;
using testing::MosquittoBroker;
using testing::MosquittoOptions;
using testing::StatusWaiter;
using testing::ChildProcess;
using testing::WaitUntil;

constexpr auto kStall = 500ms;
constexpr char kSubscriberId[] = "puback-order-sub";

size_t CountOccurrences(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++count;
  return count;
}

class PubackOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MosquittoOptions options;
    options.verbose_log = true;
    broker_ = MosquittoBroker::Start(options);
    ASSERT_NE(broker_, nullptr);

    MqttConnectionSettings settings;
    settings.server_uri = broker_->url();
    settings.client_id = kSubscriberId;
    settings.clean_session = true;
    auto client = MakePahoMqttClient(settings);
    ASSERT_TRUE(client.ok()) << client.error().message;
    subscriber_ = std::move(client).value();
    // The deliberate stall: each message's handler blocks for kStall on
    // Paho's receive thread, recording when it entered and returned.
    subscriber_->SetMessageHandler([this](MqttMessage&&) {
      const auto start = std::chrono::steady_clock::now();
      entered_.fetch_add(1);
      std::this_thread::sleep_for(kStall);
      const auto stalled = std::chrono::steady_clock::now() - start;
      {
        std::lock_guard lock(mu_);
        if (stalled < min_stall_) min_stall_ = stalled;
      }
      returned_.fetch_add(1);
    });
    ASSERT_TRUE(subscriber_->Connect(5s).ok());
    StatusWaiter subscribed;
    subscriber_->Subscribe("order/#", 1, subscribed.Callback());
    ASSERT_TRUE(subscribed.Wait(5s).ok());

  }

  void TearDown() override {
    if (subscriber_) subscriber_->Disconnect(2s);
  }

  // The publisher is a separate process (mosquitto_pub). An in-process Paho
  // publisher would be stuck behind our stalled handler: Paho C serialises
  // every client of the process while a message callback runs.
  std::unique_ptr<ChildProcess> Publish(const std::string& topic) {
    auto process = ChildProcess::Start({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker_->port()),
                                        "-q", "1", "-i", "puback-order-pub-" + topic.substr(topic.rfind('/') + 1),
                                        "-t", topic, "-m", "payload of " + topic},
                                       {}, broker_->dir() + "/mosquitto_pub.log");
    EXPECT_NE(process, nullptr) << "mosquitto_pub (package mosquitto-clients) must be in PATH";
    return process;
  }

  static void ExpectPublisherSucceeded(ChildProcess* process) {
    ASSERT_NE(process, nullptr);
    const auto code = process->WaitExit(5s);
    EXPECT_EQ(code, std::optional<int>(0)) << process->ReadLog();
  }

  size_t PubacksFromSubscriber() const {
    return CountOccurrences(broker_->ReadLog(), std::string("Received PUBACK from ") + kSubscriberId + " ");
  }

  /// Polls mosquitto's log until `returned_` reaches `until_returned`, and on
  /// every poll checks that the broker has no more PUBACKs than handlers that
  /// had returned *before* the log was read. Returns the number of polls.
  int WatchLogUntilReturned(int until_returned) {
    int polls = 0;
    bool violated = false;
    WaitUntil(
        [&] {
          const int returned_before_read = returned_.load();
          const size_t pubacks = PubacksFromSubscriber();
          ++polls;
          if (!violated && pubacks > static_cast<size_t>(returned_before_read)) {
            violated = true;
            ADD_FAILURE() << pubacks << " PUBACK(s) reached the broker with only " << returned_before_read
                          << " handler(s) returned; log:\n"
                          << broker_->ReadLog();
          }
          return returned_before_read >= until_returned;
        },
        10s, 10ms);
    return polls;
  }

  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<MqttClient> subscriber_;
  std::atomic<int> entered_{0};
  std::atomic<int> returned_{0};
  std::mutex mu_;
  std::chrono::steady_clock::duration min_stall_ = std::chrono::hours(1);
};

TEST_F(PubackOrderTest, PubackReachesBrokerOnlyAfterHandlerReturns) {
  auto publisher = Publish("order/one");
  ASSERT_TRUE(WaitUntil([&] { return entered_.load() == 1; }, 5s));
  EXPECT_EQ(PubacksFromSubscriber(), 0u);

  const int polls = WatchLogUntilReturned(1);
  EXPECT_GE(polls, 10) << "the stall must be long enough to observe the log repeatedly";
  ASSERT_EQ(returned_.load(), 1);
  EXPECT_TRUE(WaitUntil([&] { return PubacksFromSubscriber() == 1; }, 5s)) << broker_->ReadLog();
  ExpectPublisherSucceeded(publisher.get());
  std::lock_guard lock(mu_);
  EXPECT_GE(min_stall_, kStall);
}

TEST_F(PubackOrderTest, SecondMessageArrivingDuringStallIsAckedOnlyAfterItsOwnHandler) {
  auto first = Publish("order/a");
  ASSERT_TRUE(WaitUntil([&] { return entered_.load() == 1; }, 5s));
  // The second message reaches the subscriber while the first handler still
  // blocks Paho's receive thread: the broker logs sending it before then.
  auto second = Publish("order/b");
  const std::string sent_b = std::string("Sending PUBLISH to ") + kSubscriberId + " (d0, q1, r0, m2, 'order/b'";
  // mosquitto_pub gets its own PUBACK from the broker, whatever our handler does.
  ExpectPublisherSucceeded(second.get());
  EXPECT_TRUE(WaitUntil([&] { return broker_->ReadLog().find(sent_b) != std::string::npos; }, 5s))
      << broker_->ReadLog();
  EXPECT_EQ(returned_.load(), 0) << "the first handler returned before the broker sent the second message";

  WatchLogUntilReturned(1);
  ASSERT_TRUE(WaitUntil([&] { return entered_.load() == 2; }, 5s));
  // While the second handler stalls, exactly the first PUBACK is allowed.
  WatchLogUntilReturned(2);
  EXPECT_TRUE(WaitUntil([&] { return PubacksFromSubscriber() == 2; }, 5s)) << broker_->ReadLog();
  EXPECT_EQ(entered_.load(), 2);
  EXPECT_EQ(returned_.load(), 2);
  ExpectPublisherSucceeded(first.get());
  ExpectPublisherSucceeded(second.get());
}

}  // namespace
}  // namespace bridge
