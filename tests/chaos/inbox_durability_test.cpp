// Where a message waits once the bridge has PUBACKed it: in the inbox, while
// no stream is attached, and across a SIGKILL of the bridge unless the inbox
// is only in memory. mosquitto's verbose log tells when the bridge has taken
// ownership (its PUBACK reached the broker), so every message these tests see
// afterwards can only have come from the bridge's inbox.
#include <signal.h>

#include <chrono>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "chaos_support.h"

namespace bridge::testing {
namespace {

class InboxDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MosquittoOptions options;
    options.verbose_log = true;
    broker_ = MosquittoBroker::Start(options);
    ASSERT_NE(broker_, nullptr);
    peer_ = TestMqttPeer::Connect(broker_->url(), "chaos-publisher");
    ASSERT_NE(peer_, nullptr);
  }

  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "--- bridge log (all runs) ---\n%s\n", Tail(ReadFile(log_path_)).c_str());
    }
  }

  std::string StateDir(const std::string& name) const { return dir_.path() + "/state-" + name; }

  /// Starts (or restarts, on the same state dir) a bridge and Inits `instance`.
  void StartBridgeAndInit(const std::string& state_dir, const std::string& instance,
                          const std::map<std::string, std::string>& metadata) {
    stream_.reset();
    daprd_.reset();
    bridge_ = BridgeProcess::Start(dir_.path() + "/sockets", state_dir, log_path_);
    ASSERT_NE(bridge_, nullptr);
    daprd_ = std::make_unique<FakeDaprd>(bridge_->socket_path());
    const auto status = daprd_->Init(instance, metadata);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  void OpenStream(const std::string& instance, const std::string& topic) {
    stream_ = daprd_->Pull(instance, topic);
    ASSERT_TRUE(stream_->WaitActive()) << "no SUBACK for " << topic;
  }

  void PublishIds(const std::string& topic, int count) {
    for (int id = 0; id < count; ++id) {
      const auto status = peer_->Publish(topic, std::to_string(id));
      ASSERT_TRUE(status.ok()) << "id=" << id << " " << status.error().message;
    }
  }

  void WaitForPubacks(const std::string& client_id, std::size_t count) {
    ASSERT_TRUE(WaitUntil([&] { return PubacksFrom(*broker_, client_id) >= count; }, 30s, 20ms))
        << "the broker has " << PubacksFrom(*broker_, client_id) << " PUBACKs from " << client_id << ", want "
        << count;
  }

  void KillBridge() {
    ASSERT_TRUE(bridge_->process().Signal(SIGKILL));
    ASSERT_EQ(bridge_->process().WaitExit(10s), std::optional<int>(128 + SIGKILL));
    stream_.reset();
    daprd_.reset();
    bridge_.reset();
  }

  TempDir dir_;
  std::string log_path_ = dir_.path() + "/bridge.log";
  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<TestMqttPeer> peer_;
  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<FakeDaprd> daprd_;
  std::unique_ptr<PullStream> stream_;
};

// Issue 4, chaos test 3: daprd restarting, or the persistent-session backlog
// arriving before any PullMessages, must not lose a message.
TEST_F(InboxDurabilityTest, NoStreamAttachedMessagesWaitInTheInbox) {
  constexpr int kMessages = 1000;
  const std::string client_id = "chaos-unattached";
  const auto metadata = FakeDaprd::Metadata(broker_->url(), client_id, {{"cleanSession", "false"}});
  ASSERT_NO_FATAL_FAILURE(StartBridgeAndInit(StateDir("unattached"), "bus", metadata));
  ASSERT_NO_FATAL_FAILURE(OpenStream("bus", "orders"));
  stream_->Cancel();
  ASSERT_TRUE(stream_->WaitFinished().has_value());
  stream_.reset();

  ASSERT_NO_FATAL_FAILURE(PublishIds("orders", kMessages));
  // Every PUBACK reached the broker with no stream attached: from here on the
  // broker holds none of them, the inbox holds all of them.
  ASSERT_NO_FATAL_FAILURE(WaitForPubacks(client_id, kMessages));

  ASSERT_NO_FATAL_FAILURE(OpenStream("bus", "orders"));
  std::set<std::string> delivered;
  int deliveries = 0;
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (delivered.size() < kMessages && std::chrono::steady_clock::now() < until) {
    auto message = stream_->Next(1s);
    if (!message) continue;
    ++deliveries;
    delivered.insert(message->data());
    ASSERT_TRUE(stream_->Ack(message->id()));
  }
  ASSERT_EQ(delivered.size(), static_cast<std::size_t>(kMessages));
  // Acked without error: nothing may come again.
  if (auto extra = stream_->Next(1s)) {
    ++deliveries;
    ADD_FAILURE() << "delivered again after its ack: " << extra->data();
  }
  EXPECT_EQ(deliveries, kMessages) << "each message exactly once";
}

// Issue 4: `process` (and `fsync`) survive a SIGKILL of the bridge; `memory`
// is documented to lose what it has PUBACKed, and the last case asserts that
// it does, which also shows that this test can tell the difference.
TEST_F(InboxDurabilityTest, DurabilityMemoryLosesOnKillButProcessDoesNot) {
  constexpr int kMessages = 100;
  const auto survivors = [&](const std::string& durability) -> std::set<std::string> {
    const std::string client_id = "chaos-durability-" + durability;
    const std::string topic = "unacked-" + durability;
    // The whole batch in flight on a stream that never acks.
    const auto metadata = FakeDaprd::Metadata(broker_->url(), client_id,
                                              {{"durability", durability},
                                               {"cleanSession", "false"},
                                               {"maxInFlightPerStream", "1000"}});
    std::set<std::string> out;
    StartBridgeAndInit(StateDir(durability), "bus", metadata);
    if (HasFatalFailure()) return out;
    OpenStream("bus", topic);
    if (HasFatalFailure()) return out;
    PublishIds(topic, kMessages);
    if (HasFatalFailure()) return out;
    EXPECT_EQ(stream_->NextN(kMessages, 30s).size(), static_cast<std::size_t>(kMessages));
    WaitForPubacks(client_id, kMessages);
    if (HasFatalFailure()) return out;

    KillBridge();
    if (HasFatalFailure()) return out;
    StartBridgeAndInit(StateDir(durability), "bus", metadata);
    if (HasFatalFailure()) return out;
    OpenStream("bus", topic);
    if (HasFatalFailure()) return out;
    // A negative answer needs a bounded wait: a second with nothing is "lost".
    for (int i = 0; i < 2 * kMessages && out.size() < kMessages; ++i) {
      auto message = stream_->Next(out.empty() ? 3s : 1s);
      if (!message) break;
      out.insert(message->data());
    }
    KillBridge();
    return out;
  };

  EXPECT_EQ(survivors("process").size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(survivors("fsync").size(), static_cast<std::size_t>(kMessages));
  // memory: the broker forgot them at the PUBACK and the process died with
  // them. If this starts to fail, `memory` got durable; update README.
  EXPECT_EQ(survivors("memory").size(), 0u);
}

}  // namespace
}  // namespace bridge::testing
