// The bridge as daprd sees it: a real daemon process, a real mosquitto, and
// a gRPC client speaking dapr.proto.components.v1.PubSub over the socket.
#include <signal.h>

#include <filesystem>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bridge/bridge_harness.h"
#include "support/silent_listener.h"

namespace bridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

class PubSubBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = MosquittoBroker::Start();
    ASSERT_NE(broker_, nullptr);
    bridge_ = BridgeProcess::Start(dir_.path() + "/sockets", dir_.path() + "/state", dir_.path() + "/bridge.log");
    ASSERT_NE(bridge_, nullptr);
    daprd_ = std::make_unique<FakeDaprd>(bridge_->socket_path());
    peer_ = TestMqttPeer::Connect(broker_->url(), "test-peer");
    ASSERT_NE(peer_, nullptr);
  }

  void TearDown() override {
    if (HasFailure() && bridge_) std::fprintf(stderr, "--- bridge log ---\n%s\n", bridge_->ReadLog().c_str());
  }

  void InitOrFail(const std::string& instance, std::map<std::string, std::string> extra = {}) {
    auto status = daprd_->Init(instance, FakeDaprd::Metadata(broker_->url(), "bridge-" + instance, std::move(extra)));
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  TempDir dir_;
  std::unique_ptr<MosquittoBroker> broker_;
  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<FakeDaprd> daprd_;
  std::unique_ptr<TestMqttPeer> peer_;
};

TEST_F(PubSubBridgeTest, AnnouncesFeaturesAfterInitAndAnswersPing) {
  InitOrFail("bus");
  std::vector<std::string> features;
  ASSERT_TRUE(daprd_->Features("bus", &features).ok());
  EXPECT_THAT(features, UnorderedElementsAre("SUBSCRIBE_WILDCARDS", "BULK_SUBSCRIBE_IMMEDIATE", "BULK_PUBSUB"));
  EXPECT_TRUE(daprd_->Ping("bus").ok());
}

TEST_F(PubSubBridgeTest, InitRejectsBadMetadataNamingTheKey) {
  auto status = daprd_->Init("bus", FakeDaprd::Metadata(broker_->url(), "c1", {{"qos", "2"}, {"retain", "maybe"}}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("qos"));
  EXPECT_THAT(status.error_message(), HasSubstr("retain"));
}

TEST_F(PubSubBridgeTest, InitFailsFastWithUnavailableAndNoCredentialsWhenBrokerIsDown) {
  const auto dead_port = FreeLoopbackPort();
  const auto started = std::chrono::steady_clock::now();
  auto status = daprd_->Init("bus", FakeDaprd::Metadata("tcp://alice:s3cret@127.0.0.1:" + std::to_string(dead_port),
                                                        "c1", {{"connectTimeout", "1s"}}));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("127.0.0.1:" + std::to_string(dead_port)));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("s3cret")));
  EXPECT_LT(took, 4s) << "daprd gives Init 5 s in all";
  EXPECT_THAT(bridge_->ReadLog(), Not(HasSubstr("s3cret")));
}

TEST_F(PubSubBridgeTest, AnInitWaitingForADeadBrokerDoesNotStallOtherCalls) {
  InitOrFail("live");
  ASSERT_TRUE(peer_->Subscribe("still-flowing").ok());
  SilentListener silent;  // accepts TCP, never answers CONNECT: Init waits
  std::thread slow_init([&] {
    daprd_->Init("dead", FakeDaprd::Metadata("tcp://127.0.0.1:" + std::to_string(silent.port()), "c-dead",
                                             {{"connectTimeout", "3s"}}));
  });
  // Several slow Inits at once would be worse; one must already not block.
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(daprd_->Publish("live", "still-flowing", "p").ok());
  const auto took = std::chrono::steady_clock::now() - started;
  slow_init.join();
  EXPECT_LT(took, 1500ms) << "publishes waited for another instance's Init";
  EXPECT_EQ(peer_->WaitForMessages(20, 5s).size(), 20u);
}

TEST_F(PubSubBridgeTest, AStreamThatNeverNamesItsTopicHoldsPublishesOnlyBriefly) {
  InitOrFail("bus");
  ASSERT_TRUE(peer_->Subscribe("held").ok());
  auto silent = daprd_->OpenSilentStream("bus");
  // Publishes wait while a new stream is being set up, but only up to the
  // hold limit (2 s), even when the setup never completes.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(daprd_->Publish("bus", "held", "1").ok());
  ASSERT_TRUE(daprd_->Publish("bus", "held", "2").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3500ms);
  EXPECT_EQ(peer_->WaitForMessages(2, 5s).size(), 2u);
}

TEST_F(PubSubBridgeTest, PublishBeforeInitIsAFailedPrecondition) {
  EXPECT_EQ(daprd_->Publish("nobody", "orders", "x").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(PubSubBridgeTest, PublishesByteExactToTheMappedTopicAfterPuback) {
  InitOrFail("bus", {{"topicPrefix", "site1"}});
  ASSERT_TRUE(peer_->Subscribe("site1/orders").ok());

  std::string binary("a\0b\0\xff\x01", 6);
  std::string large(1024 * 1024, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 31 % 251);

  ASSERT_TRUE(daprd_->Publish("bus", "orders", binary).ok());
  ASSERT_TRUE(daprd_->Publish("bus", "orders", large).ok());
  auto messages = peer_->WaitForMessages(2, 10s);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].topic, "site1/orders");
  EXPECT_EQ(messages[0].payload, binary);
  EXPECT_EQ(messages[1].payload, large);
  EXPECT_FALSE(messages[0].retained);
}

TEST_F(PubSubBridgeTest, PublishHonoursPerMessageRetain) {
  InitOrFail("bus");
  ASSERT_TRUE(daprd_->Publish("bus", "status/door", "open", {{"retain", "true"}}).ok());
  auto late = TestMqttPeer::Connect(broker_->url(), "late-peer");
  ASSERT_NE(late, nullptr);
  ASSERT_TRUE(late->Subscribe("status/door").ok());
  auto messages = late->WaitForMessages(1, 10s);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].retained);
  EXPECT_EQ(daprd_->Publish("bus", "status/door", "x", {{"retain", "sometimes"}}).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PubSubBridgeTest, RejectsPublishToWildcardOrEmptyTopic) {
  InitOrFail("bus");
  for (const char* topic : {"a/+/b", "a/#", "#", ""}) {
    auto status = daprd_->Publish("bus", topic, "x");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "topic \"" << topic << "\"";
  }
}

TEST_F(PubSubBridgeTest, PublishToDeadBrokerFailsWithUnavailableOrDeadline) {
  InitOrFail("bus", {{"publishTimeout", "1s"}});
  broker_->Stop();
  auto status = daprd_->Publish("bus", "orders", "x");
  EXPECT_THAT(status.error_code(), ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED));
}

TEST_F(PubSubBridgeTest, OfflineBufferAcceptsPublishesWhileTheBrokerIsDownAndReplaysThemInOrder) {
  // A broker that keeps sessions across its restart, and a checker with a
  // persistent session subscribed before the outage: it gets everything the
  // bridge replays, whenever it reconnects.
  auto broker = MosquittoBroker::Start({.persistence = true});
  ASSERT_NE(broker, nullptr);
  {
    auto checker = TestMqttPeer::Connect(broker->url(), "offline-checker", /*clean_session=*/false);
    ASSERT_NE(checker, nullptr);
    ASSERT_TRUE(checker->Subscribe("buffered").ok());
  }
  auto status = daprd_->Init("bus", FakeDaprd::Metadata(broker->url(), "bridge-bus",
                                                        {{"offlineBuffer", "true"}, {"maxOfflineMessages", "50"}}));
  ASSERT_TRUE(status.ok()) << status.error_message();
  broker->Stop();
  for (int i = 0; i < 50; ++i) {
    status = daprd_->Publish("bus", "buffered", "m" + std::to_string(i));
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
  }
  EXPECT_EQ(daprd_->Publish("bus", "buffered", "one too many").error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  ASSERT_TRUE(broker->Restart());
  auto checker = TestMqttPeer::Connect(broker->url(), "offline-checker", /*clean_session=*/false);
  ASSERT_NE(checker, nullptr);
  auto messages = checker->WaitForMessages(50, 20s);
  ASSERT_EQ(messages.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(messages[static_cast<std::size_t>(i)].payload, "m" + std::to_string(i));
  EXPECT_TRUE(daprd_->Publish("bus", "buffered", "after").ok());
  EXPECT_EQ(checker->WaitForMessages(51, 10s).size(), 51u);
}

TEST_F(PubSubBridgeTest, BulkPublishPutsEveryEntryOnTheBroker) {
  InitOrFail("bus");
  ASSERT_TRUE(peer_->Subscribe("bulk").ok());
  v1::BulkPublishRequest request;
  request.set_topic("bulk");
  for (int i = 0; i < 50; ++i) {
    auto* entry = request.add_entries();
    entry->set_entry_id("e" + std::to_string(i));
    entry->set_event("event-" + std::to_string(i));
  }
  v1::BulkPublishResponse response;
  auto status = daprd_->BulkPublish("bus", request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.failed_entries_size(), 0);
  EXPECT_EQ(peer_->WaitForMessages(50, 10s).size(), 50u);

  request.set_topic("bad/#");
  status = daprd_->BulkPublish("bus", request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PubSubBridgeTest, PullRejectsAFirstMessageWithoutTopic) {
  InitOrFail("bus");
  auto stream = daprd_->Pull("bus", "");
  auto status = stream->WaitFinished();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PubSubBridgeTest, PullBeforeInitIsAFailedPrecondition) {
  auto stream = daprd_->Pull("nobody", "orders");
  auto status = stream->WaitFinished();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(PubSubBridgeTest, CallsWithoutInstanceHeaderUseTheDefaultInstance) {
  InitOrFail("");
  ASSERT_TRUE(peer_->Subscribe("plain").ok());
  ASSERT_TRUE(daprd_->Publish("", "plain", "no header").ok());
  EXPECT_EQ(peer_->WaitForMessages(1, 5s).size(), 1u);
}

TEST_F(PubSubBridgeTest, PullDeliversMessagesWithTopicMetadataAndSafeContentType) {
  InitOrFail("bus", {{"topicPrefix", "plant"}});
  auto stream = daprd_->Pull("bus", "orders");
  ASSERT_TRUE(stream->WaitActive());

  const std::string cloud_event = R"({"specversion":"1.0","id":"1","source":"s","type":"t","data":{}})";
  ASSERT_TRUE(peer_->Publish("plant/orders", "plain text, not JSON").ok());
  ASSERT_TRUE(peer_->Publish("plant/orders", cloud_event).ok());
  auto messages = stream->NextN(2);
  ASSERT_EQ(messages.size(), 2u);

  EXPECT_EQ(messages[0].topic_name(), "orders");
  EXPECT_EQ(messages[0].data(), "plain text, not JSON");
  EXPECT_EQ(messages[0].content_type(), "application/octet-stream") << "a JSON-only reading would poison-loop";
  EXPECT_EQ(messages[0].metadata().at("retained"), "false");
  EXPECT_EQ(messages[0].metadata().at("mqtt-topic"), "plant/orders");
  EXPECT_EQ(messages[1].content_type(), "application/cloudevents+json");
  EXPECT_EQ(messages[1].data(), cloud_event);
  EXPECT_NE(messages[0].id(), messages[1].id());
  for (const auto& message : messages) EXPECT_TRUE(stream->Ack(message.id()));
  EXPECT_FALSE(stream->Next(300ms).has_value()) << "acked messages must not come back";
}

TEST_F(PubSubBridgeTest, WildcardPullDeliversTheConcreteTopic) {
  InitOrFail("bus");
  auto stream = daprd_->Pull("bus", "sensors/+/temp");
  ASSERT_TRUE(stream->WaitActive());
  ASSERT_TRUE(peer_->Publish("sensors/kitchen/temp", "21.5").ok());
  ASSERT_TRUE(peer_->Publish("sensors/kitchen/humidity", "40").ok());
  ASSERT_TRUE(peer_->Publish("sensors/hall/temp", "19.0").ok());
  auto messages = stream->NextN(2);
  ASSERT_EQ(messages.size(), 2u);
  std::set<std::string> topics{messages[0].topic_name(), messages[1].topic_name()};
  EXPECT_EQ(topics, (std::set<std::string>{"sensors/kitchen/temp", "sensors/hall/temp"}));
  EXPECT_FALSE(stream->Next(300ms).has_value());
}

TEST_F(PubSubBridgeTest, NackedMessageIsRedeliveredAfterBackoff) {
  InitOrFail("bus");
  auto stream = daprd_->Pull("bus", "jobs");
  ASSERT_TRUE(stream->WaitActive());
  ASSERT_TRUE(peer_->Publish("jobs", "job-1").ok());

  auto first = stream->Next();
  ASSERT_TRUE(first.has_value());
  const auto nacked_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(stream->Nack(first->id()));
  auto again = stream->Next(5s);
  ASSERT_TRUE(again.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - nacked_at, 90ms) << "redeliveryDelay is 100ms";
  EXPECT_EQ(again->data(), "job-1");
  EXPECT_NE(again->id(), first->id());
  ASSERT_TRUE(stream->Ack(again->id()));
  EXPECT_FALSE(stream->Next(500ms).has_value());
}

TEST_F(PubSubBridgeTest, ExhaustedRedeliveriesGoToTheDeadLetterTopic) {
  InitOrFail("bus", {{"maxRedeliveries", "2"}, {"deadLetterTopic", "jobs-dead"}});
  ASSERT_TRUE(peer_->Subscribe("jobs-dead").ok());
  auto stream = daprd_->Pull("bus", "jobs");
  ASSERT_TRUE(stream->WaitActive());
  ASSERT_TRUE(peer_->Publish("jobs", "poison").ok());
  for (int delivery = 1; delivery <= 3; ++delivery) {
    auto message = stream->Next(5s);
    ASSERT_TRUE(message.has_value()) << "delivery " << delivery;
    EXPECT_EQ(message->data(), "poison");
    ASSERT_TRUE(stream->Nack(message->id()));
  }
  auto dead = peer_->WaitForMessages(1, 5s);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].topic, "jobs-dead");
  EXPECT_EQ(dead[0].payload, "poison");
  EXPECT_FALSE(stream->Next(500ms).has_value()) << "a dead-lettered message is not redelivered";
}

TEST_F(PubSubBridgeTest, ExhaustedRedeliveriesWithoutDeadLetterTopicAreDroppedWithAnError) {
  InitOrFail("bus", {{"maxRedeliveries", "1"}});
  auto stream = daprd_->Pull("bus", "jobs");
  ASSERT_TRUE(stream->WaitActive());
  ASSERT_TRUE(peer_->Publish("jobs", "poison").ok());
  for (int delivery = 1; delivery <= 2; ++delivery) {
    auto message = stream->Next(5s);
    ASSERT_TRUE(message.has_value()) << "delivery " << delivery;
    ASSERT_TRUE(stream->Nack(message->id()));
  }
  EXPECT_FALSE(stream->Next(500ms).has_value());
  EXPECT_TRUE(WaitUntil([&] { return bridge_->ReadLog().find("event=message_dropped reason=max_redeliveries") !=
                                     std::string::npos; },
                        5s));
}

TEST_F(PubSubBridgeTest, AtMaxPendingMessagesTheBridgeStopsTakingMessagesUntilAcksDrainIt) {
  InitOrFail("bus", {{"maxPendingMessages", "10"}, {"maxInFlightPerStream", "5"}});
  auto stream = daprd_->Pull("bus", "flood");
  ASSERT_TRUE(stream->WaitActive());
  constexpr std::size_t kMessages = 100;
  for (std::size_t i = 0; i < kMessages; ++i) ASSERT_TRUE(peer_->Publish("flood", std::to_string(i)).ok());
  // Nothing acked yet: at 10 pending the bridge leaves the broker, which
  // keeps the rest queued for the persistent session.
  ASSERT_TRUE(WaitUntil([&] { return bridge_->ReadLog().find("event=intake_paused") != std::string::npos; }, 10s));

  std::set<std::string> received;
  for (std::size_t i = 0; i < 3 * kMessages && received.size() < kMessages; ++i) {
    auto message = stream->Next(10s);
    ASSERT_TRUE(message.has_value()) << "stalled after " << received.size() << " of " << kMessages;
    received.insert(message->data());
    ASSERT_TRUE(stream->Ack(message->id()));
  }
  EXPECT_EQ(received.size(), kMessages);
  EXPECT_TRUE(WaitUntil([&] { return bridge_->ReadLog().find("event=intake_resumed") != std::string::npos; }, 10s));
}

TEST_F(PubSubBridgeTest, UnackedMessagesGoToTheNextStreamAfterCancel) {
  // A window of one makes the order observable: job-2 is sent only once
  // the bridge has processed the ack for job-1.
  InitOrFail("bus", {{"maxInFlightPerStream", "1"}});
  auto first_stream = daprd_->Pull("bus", "jobs");
  ASSERT_TRUE(first_stream->WaitActive());
  for (const char* job : {"job-1", "job-2", "job-3"}) ASSERT_TRUE(peer_->Publish("jobs", job).ok());
  auto job1 = first_stream->Next();
  ASSERT_TRUE(job1.has_value());
  EXPECT_FALSE(first_stream->Next(200ms).has_value()) << "window of one";
  ASSERT_TRUE(first_stream->Ack(job1->id()));
  auto job2 = first_stream->Next();
  ASSERT_TRUE(job2.has_value());
  EXPECT_EQ(job2->data(), "job-2");
  first_stream->Cancel();

  auto second_stream = daprd_->Pull("bus", "jobs");
  auto redelivered = second_stream->NextN(1);
  ASSERT_EQ(redelivered.size(), 1u);
  EXPECT_EQ(redelivered[0].data(), "job-2");
  ASSERT_TRUE(second_stream->Ack(redelivered[0].id()));
  auto rest = second_stream->Next();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->data(), "job-3");
}

TEST_F(PubSubBridgeTest, EveryStreamOnATopicGetsEveryMessage) {
  InitOrFail("bus");
  auto a = daprd_->Pull("bus", "news");
  auto b = daprd_->Pull("bus", "news");
  ASSERT_TRUE(a->WaitActive());
  ASSERT_TRUE(b->WaitActive());
  ASSERT_TRUE(peer_->Publish("news", "n1").ok());
  auto at_a = a->Next();
  auto at_b = b->Next();
  ASSERT_TRUE(at_a && at_b);
  EXPECT_EQ(at_a->data(), "n1");
  EXPECT_EQ(at_b->data(), "n1");
}

TEST_F(PubSubBridgeTest, InstancesAreIsolatedByTheComponentHeader) {
  InitOrFail("east", {{"topicPrefix", "east"}});
  InitOrFail("west", {{"topicPrefix", "west"}});
  auto west_stream = daprd_->Pull("west", "orders");
  auto east_stream = daprd_->Pull("east", "orders");
  ASSERT_TRUE(west_stream->WaitActive());
  ASSERT_TRUE(east_stream->WaitActive());

  ASSERT_TRUE(daprd_->Publish("east", "orders", "for-east").ok());
  auto at_east = east_stream->Next();
  ASSERT_TRUE(at_east.has_value());
  EXPECT_EQ(at_east->data(), "for-east");
  EXPECT_FALSE(west_stream->Next(300ms).has_value());
}

TEST_F(PubSubBridgeTest, SecondInitReplacesTheInstanceConfiguration) {
  InitOrFail("bus", {{"topicPrefix", "old"}});
  InitOrFail("bus", {{"topicPrefix", "new"}});
  ASSERT_TRUE(peer_->Subscribe("new/t").ok());
  ASSERT_TRUE(daprd_->Publish("bus", "t", "hello").ok());
  auto messages = peer_->WaitForMessages(1, 5s);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].topic, "new/t");
}

TEST_F(PubSubBridgeTest, StreamSurvivesABrokerRestartAndMessagesFlowAfterwards) {
  InitOrFail("bus");
  auto stream = daprd_->Pull("bus", "telemetry");
  ASSERT_TRUE(stream->WaitActive());
  ASSERT_TRUE(broker_->Restart());
  peer_ = TestMqttPeer::Connect(broker_->url(), "test-peer-2");
  ASSERT_NE(peer_, nullptr);

  // The broker forgot the session (no persistence); the bridge must
  // reconnect and subscribe again by itself. Publish until it has.
  std::optional<v1::PullMessagesResponse> received;
  for (int attempt = 0; attempt < 100 && !received; ++attempt) {
    ASSERT_TRUE(peer_->Publish("telemetry", "after-restart").ok());
    received = stream->Next(200ms);
  }
  ASSERT_TRUE(received.has_value()) << "no message within 20 s of the broker restart";
  EXPECT_EQ(received->data(), "after-restart");
  EXPECT_FALSE(stream->WaitFinished(10ms).has_value()) << "the stream must stay open";
}

TEST_F(PubSubBridgeTest, PauseHoldsDeliveriesAndResumeReleasesThem) {
  InitOrFail("bus");
  auto stream = daprd_->Pull("bus", "q");
  ASSERT_TRUE(stream->WaitActive());
  ASSERT_TRUE(daprd_->Pause("bus").ok());
  ASSERT_TRUE(daprd_->Pause("bus").ok()) << "Pause is idempotent";
  ASSERT_TRUE(peer_->Publish("q", "held").ok());
  EXPECT_FALSE(stream->Next(300ms).has_value());
  ASSERT_TRUE(daprd_->Resume("bus").ok());
  auto released = stream->Next();
  ASSERT_TRUE(released.has_value());
  EXPECT_EQ(released->data(), "held");
}

TEST_F(PubSubBridgeTest, OversizeMessageIsDroppedAndTheStreamLivesOn) {
  InitOrFail("bus");
  auto stream = daprd_->Pull("bus", "big");
  ASSERT_TRUE(stream->WaitActive());
  ASSERT_TRUE(peer_->Publish("big", std::string(4 * 1024 * 1024 + 1, 'x'), 1, false, 20s).ok());
  ASSERT_TRUE(peer_->Publish("big", "small").ok());
  auto next = stream->Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->data(), "small");
  EXPECT_THAT(bridge_->ReadLog(), HasSubstr("message_too_large_dropped"));
}

TEST_F(PubSubBridgeTest, SigtermEndsStreamsRemovesTheSocketAndExitsZero) {
  InitOrFail("bus");
  auto stream = daprd_->Pull("bus", "jobs");
  ASSERT_TRUE(stream->WaitActive());
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(bridge_->process().Signal(SIGTERM));
  auto exit_code = bridge_->process().WaitExit(5s);
  ASSERT_TRUE(exit_code.has_value()) << "still running 5 s after SIGTERM";
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(stream->WaitFinished(2s).has_value());
  EXPECT_FALSE(std::filesystem::exists(bridge_->socket_path()));
}

TEST(BridgeCommandLineTest, BadFlagsExitNonZeroWithAOneLineReason) {
  TempDir dir;
  std::vector<std::string> argv;
  if (std::string emulator = BRIDGE_EMULATOR; !emulator.empty()) argv.push_back(emulator);
  argv.insert(argv.end(), {BRIDGE_DAEMON_PATH, "--log-level", "loud", "--state-dir", dir.path()});
  auto bridge = ChildProcess::Start(argv, {{"DAPR_COMPONENTS_SOCKETS_FOLDER", dir.path()}}, dir.path() + "/log");
  ASSERT_NE(bridge, nullptr);
  auto exit_code = bridge->WaitExit(10s);
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 2);
  EXPECT_THAT(bridge->ReadLog(), HasSubstr("--log-level"));
}

TEST_F(PubSubBridgeTest, SocketIsOnlyOpenToOwnerAndGroup) {
  const auto perms = std::filesystem::status(bridge_->socket_path()).permissions();
  using std::filesystem::perms;
  EXPECT_EQ(perms & perms::all, perms::owner_read | perms::owner_write | perms::group_read | perms::group_write);
}

}  // namespace
}  // namespace bridge::testing
