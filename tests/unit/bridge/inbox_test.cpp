#include "bridge/inbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bridge {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

MqttMessage Message(std::string topic, std::string payload = "p") {
  return MqttMessage{std::move(topic), std::move(payload), 1, false, false};
}

std::vector<std::uint64_t> Seqs(const std::vector<InboundRecord>& records) {
  std::vector<std::uint64_t> seqs;
  for (const auto& record : records) seqs.push_back(record.seq);
  return seqs;
}

std::vector<std::string> Topics(const std::vector<InboundRecord>& records) {
  std::vector<std::string> topics;
  for (const auto& record : records) topics.push_back(record.message->topic);
  return topics;
}

/// Records what the inbox hands it, in the order of Offer and Wake calls.
/// Offer runs under the inbox lock, so the fake never calls back from there.
class RecordingSubscriber : public InboxSubscriber {
 public:
  void Offer(InboundRecord record) override {
    events.push_back("offer:" + record.message->topic);
    offered.push_back(std::move(record));
  }
  void Wake() override {
    events.push_back("wake");
    if (on_wake) on_wake();
  }
  std::vector<InboundRecord> TakeUnacked() override {
    std::vector<InboundRecord> unacked;
    for (auto& record : offered) {
      if (!acked.contains(record.seq)) unacked.push_back(std::move(record));
    }
    offered.clear();
    return unacked;
  }

  std::vector<InboundRecord> offered;
  std::set<std::uint64_t> acked;  // seqs the test pretends the runtime acked
  std::vector<std::string> events;
  std::function<void()> on_wake;
};

/// A MessageStore that logs every call, shared with the test after the inbox
/// takes ownership.
struct StoreLog {
  std::vector<std::string> events;
  std::vector<InboundRecord> to_load;
};

class RecordingStore : public MessageStore {
 public:
  explicit RecordingStore(std::shared_ptr<StoreLog> log) : log_(std::move(log)) {}
  Status Save(const InboundRecord& record) override {
    log_->events.push_back("save:" + std::to_string(record.seq));
    return Status::Ok();
  }
  void Remove(std::uint64_t seq) override { log_->events.push_back("remove:" + std::to_string(seq)); }
  std::vector<InboundRecord> LoadAll() override {
    log_->events.push_back("load");
    return std::exchange(log_->to_load, {});
  }
  // Without `override` on purpose: MessageStore is gaining durable() in a
  // concurrent change, and this fake must build with and without it.
  bool durable() const { return false; }

 private:
  std::shared_ptr<StoreLog> log_;
};

/// A subscriber that logs into the store's log, to check Save comes first.
class LoggingSubscriber : public InboxSubscriber {
 public:
  explicit LoggingSubscriber(std::shared_ptr<StoreLog> log) : log_(std::move(log)) {}
  void Offer(InboundRecord record) override { log_->events.push_back("offer:" + std::to_string(record.seq)); }
  void Wake() override {}
  std::vector<InboundRecord> TakeUnacked() override { return {}; }

 private:
  std::shared_ptr<StoreLog> log_;
};

TEST(InboxTest, FansOutOneRecordPerAttachedSubscriberWithDistinctSeqs) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  auto first = std::make_shared<RecordingSubscriber>();
  auto second = std::make_shared<RecordingSubscriber>();
  inbox.Attach("orders", first);
  inbox.Attach("orders", second);

  ASSERT_TRUE(inbox.Accept(Message("orders", "hello")).ok());

  ASSERT_EQ(first->offered.size(), 1u);
  ASSERT_EQ(second->offered.size(), 1u);
  EXPECT_NE(first->offered[0].seq, second->offered[0].seq);
  EXPECT_EQ(first->offered[0].filter, "orders");
  EXPECT_EQ(second->offered[0].message->payload, "hello");
  // The payload is shared, not copied.
  EXPECT_EQ(first->offered[0].message, second->offered[0].message);
  EXPECT_EQ(inbox.waiting(), 0u);
}

TEST(InboxTest, OffersEachMatchingFilterItsOwnRecord) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  auto exact = std::make_shared<RecordingSubscriber>();
  auto wildcard = std::make_shared<RecordingSubscriber>();
  auto other = std::make_shared<RecordingSubscriber>();
  inbox.Attach("sensors/kitchen", exact);
  inbox.Attach("sensors/+", wildcard);
  inbox.Attach("orders", other);

  ASSERT_TRUE(inbox.Accept(Message("sensors/kitchen")).ok());

  ASSERT_EQ(exact->offered.size(), 1u);
  ASSERT_EQ(wildcard->offered.size(), 1u);
  EXPECT_EQ(wildcard->offered[0].filter, "sensors/+");
  EXPECT_NE(exact->offered[0].seq, wildcard->offered[0].seq);
  EXPECT_THAT(other->offered, IsEmpty());
}

TEST(InboxTest, WakesTheSubscriberAfterOfferingIt) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  auto subscriber = std::make_shared<RecordingSubscriber>();
  inbox.Attach("t", subscriber);
  subscriber->events.clear();

  ASSERT_TRUE(inbox.Accept(Message("t")).ok());
  EXPECT_THAT(subscriber->events, ElementsAre("offer:t", "wake"));
}

TEST(InboxTest, DoesNotWakeSubscribersWhoseFilterDoesNotMatch) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  auto subscriber = std::make_shared<RecordingSubscriber>();
  inbox.Attach("a", subscriber);
  subscriber->events.clear();

  ASSERT_TRUE(inbox.Accept(Message("b")).ok());
  EXPECT_THAT(subscriber->events, IsEmpty());
}

// Wake may call back into the inbox; if Accept or Attach still held the lock
// that would deadlock. The calls run on a detached thread that owns everything
// it touches, so a deadlock fails the test at the deadline instead of hanging.
TEST(InboxTest, WakeRunsWithoutTheInboxLockHeld) {
  auto inbox = std::make_shared<Inbox>(std::make_unique<InMemoryStore>());
  auto subscriber = std::make_shared<RecordingSubscriber>();
  auto wakes_that_reentered = std::make_shared<std::atomic<int>>(0);
  subscriber->on_wake = [raw = inbox.get(), wakes_that_reentered] {
    (void)raw->waiting();
    ++*wakes_that_reentered;
  };

  auto finished = std::make_shared<std::promise<void>>();
  auto done = finished->get_future();
  std::thread([inbox, subscriber, finished] {
    inbox->Attach("t", subscriber);
    (void)inbox->Accept(Message("t"));
    finished->set_value();
  }).detach();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "Wake was called with the inbox lock held";
  EXPECT_EQ(wakes_that_reentered->load(), 2);
}

TEST(InboxTest, MessageForAKnownFilterWithNoSubscriberWaitsForTheNextAttach) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  auto first = std::make_shared<RecordingSubscriber>();
  inbox.Attach("orders", first);
  inbox.Detach(first.get());

  ASSERT_TRUE(inbox.Accept(Message("orders", "one")).ok());
  ASSERT_TRUE(inbox.Accept(Message("orders", "two")).ok());
  EXPECT_EQ(inbox.waiting(), 2u);
  EXPECT_THAT(first->offered, IsEmpty());

  auto next = std::make_shared<RecordingSubscriber>();
  inbox.Attach("orders", next);
  ASSERT_EQ(next->offered.size(), 2u);
  EXPECT_EQ(next->offered[0].message->payload, "one");
  EXPECT_EQ(next->offered[1].message->payload, "two");
  EXPECT_EQ(next->offered[0].filter, "orders");
  EXPECT_THAT(next->events, ElementsAre("offer:orders", "offer:orders", "wake"));
  EXPECT_EQ(inbox.waiting(), 0u);
}

TEST(InboxTest, WaitingRecordsGoOnlyToTheirOwnFilter) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  auto a = std::make_shared<RecordingSubscriber>();
  auto b = std::make_shared<RecordingSubscriber>();
  inbox.Attach("a", a);
  inbox.Attach("b", b);
  inbox.Detach(a.get());
  inbox.Detach(b.get());
  ASSERT_TRUE(inbox.Accept(Message("a")).ok());
  ASSERT_TRUE(inbox.Accept(Message("b")).ok());

  auto next_b = std::make_shared<RecordingSubscriber>();
  inbox.Attach("b", next_b);
  EXPECT_THAT(Topics(next_b->offered), ElementsAre("b"));
  EXPECT_EQ(inbox.waiting(), 1u);
}

TEST(InboxTest, UnroutedMessageIsClaimedByTheFirstMatchingWildcardAttach) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  ASSERT_TRUE(inbox.Accept(Message("sensors/kitchen/temp")).ok());
  ASSERT_TRUE(inbox.Accept(Message("orders/1")).ok());
  EXPECT_EQ(inbox.waiting(), 2u);

  auto unrelated = std::make_shared<RecordingSubscriber>();
  inbox.Attach("sensors/+", unrelated);  // one level only: does not match
  EXPECT_THAT(unrelated->offered, IsEmpty());

  auto sensors = std::make_shared<RecordingSubscriber>();
  inbox.Attach("sensors/#", sensors);
  ASSERT_EQ(sensors->offered.size(), 1u);
  EXPECT_EQ(sensors->offered[0].message->topic, "sensors/kitchen/temp");
  EXPECT_EQ(sensors->offered[0].filter, "sensors/#");
  EXPECT_EQ(inbox.waiting(), 1u);

  // Claimed once: a second matching filter does not get it again.
  auto everything = std::make_shared<RecordingSubscriber>();
  inbox.Attach("#", everything);
  EXPECT_THAT(Topics(everything->offered), ElementsAre("orders/1"));
  EXPECT_EQ(inbox.waiting(), 0u);
}

TEST(InboxTest, DetachReturnsUnackedRecordsForTheNextSubscriberNotASibling) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  auto leaving = std::make_shared<RecordingSubscriber>();
  auto sibling = std::make_shared<RecordingSubscriber>();
  inbox.Attach("t", leaving);
  inbox.Attach("t", sibling);
  ASSERT_TRUE(inbox.Accept(Message("t", "one")).ok());
  ASSERT_TRUE(inbox.Accept(Message("t", "two")).ok());
  ASSERT_EQ(leaving->offered.size(), 2u);
  const std::uint64_t acked_seq = leaving->offered[0].seq;
  const std::uint64_t unacked_seq = leaving->offered[1].seq;
  leaving->acked.insert(acked_seq);

  inbox.Detach(leaving.get());
  EXPECT_EQ(inbox.waiting(), 1u);
  EXPECT_EQ(sibling->offered.size(), 2u);  // only its own copies

  // Detached: no longer offered anything.
  ASSERT_TRUE(inbox.Accept(Message("t", "three")).ok());
  EXPECT_THAT(leaving->offered, IsEmpty());
  EXPECT_EQ(sibling->offered.size(), 3u);

  auto next = std::make_shared<RecordingSubscriber>();
  inbox.Attach("t", next);
  EXPECT_THAT(Seqs(next->offered), ElementsAre(unacked_seq));
  EXPECT_EQ(next->offered[0].message->payload, "two");
}

TEST(InboxTest, DetachOfAnUnknownSubscriberIsHarmless) {
  Inbox inbox(std::make_unique<InMemoryStore>());
  RecordingSubscriber stranger;
  inbox.Detach(&stranger);
  EXPECT_EQ(inbox.waiting(), 0u);
}

TEST(InboxTest, SavesARecordBeforeOfferingIt) {
  auto log = std::make_shared<StoreLog>();
  Inbox inbox(std::make_unique<RecordingStore>(log));
  inbox.Attach("t", std::make_shared<LoggingSubscriber>(log));
  log->events.clear();

  ASSERT_TRUE(inbox.Accept(Message("t")).ok());
  ASSERT_EQ(log->events.size(), 2u);
  EXPECT_EQ(log->events[0].substr(0, 5), "save:");
  EXPECT_EQ(log->events[1], "offer:" + log->events[0].substr(5));
}

TEST(InboxTest, SavesMessagesThatWait) {
  auto log = std::make_shared<StoreLog>();
  Inbox inbox(std::make_unique<RecordingStore>(log));
  log->events.clear();
  ASSERT_TRUE(inbox.Accept(Message("nobody/listens")).ok());
  EXPECT_THAT(log->events, ElementsAre("save:1"));
}

TEST(InboxTest, AckedRemovesTheRecordFromTheStore) {
  auto log = std::make_shared<StoreLog>();
  Inbox inbox(std::make_unique<RecordingStore>(log));
  log->events.clear();
  ASSERT_TRUE(inbox.Accept(Message("nobody/listens")).ok());
  EXPECT_EQ(inbox.pending_messages(), 1u);
  InboundRecord record;
  record.seq = 42;
  record.message = std::make_shared<const MqttMessage>(MqttMessage{"t", "abc", 1, false, false});
  log->events.clear();
  inbox.Acked(record);
  EXPECT_THAT(log->events, ElementsAre("remove:42"));
  EXPECT_EQ(inbox.pending_messages(), 0u);
}

TEST(InboxTest, ReportsAFailedSaveButStillKeepsTheMessage) {
  struct BrokenStore : MessageStore {
    Status Save(const InboundRecord&) override { return Internal("disk full"); }
    void Remove(std::uint64_t) override {}
    std::vector<InboundRecord> LoadAll() override { return {}; }
    bool durable() const { return false; }  // see RecordingStore
  };
  Inbox inbox(std::make_unique<BrokenStore>());
  auto status = inbox.Accept(Message("t"));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "disk full");
  EXPECT_EQ(inbox.waiting(), 1u);
}

TEST(InboxTest, StoredRecordsWaitFromConstructionAndNewSeqsComeAfterThem) {
  auto log = std::make_shared<StoreLog>();
  InboundRecord stored;
  stored.seq = 10;
  stored.filter = "t";
  stored.message = std::make_shared<const MqttMessage>(Message("t", "from disk"));
  log->to_load.push_back(stored);

  Inbox inbox(std::make_unique<RecordingStore>(log));
  EXPECT_THAT(log->events, ElementsAre("load"));
  EXPECT_EQ(inbox.waiting(), 1u);

  ASSERT_TRUE(inbox.Accept(Message("t", "fresh")).ok());
  auto subscriber = std::make_shared<RecordingSubscriber>();
  inbox.Attach("t", subscriber);
  ASSERT_EQ(subscriber->offered.size(), 2u);
  EXPECT_EQ(subscriber->offered[0].seq, 10u);
  EXPECT_EQ(subscriber->offered[0].message->payload, "from disk");
  EXPECT_GT(subscriber->offered[1].seq, 10u);
}

TEST(InboxTest, TakeWaitingEmptiesAndAdoptWaitingHandsOverToANewInbox) {
  Inbox old_inbox(std::make_unique<InMemoryStore>());
  ASSERT_TRUE(old_inbox.Accept(Message("a/1")).ok());
  ASSERT_TRUE(old_inbox.Accept(Message("b/1")).ok());

  auto taken = old_inbox.TakeWaiting();
  EXPECT_THAT(Topics(taken), ElementsAre("a/1", "b/1"));
  EXPECT_EQ(old_inbox.waiting(), 0u);
  EXPECT_THAT(old_inbox.TakeWaiting(), IsEmpty());

  auto log = std::make_shared<StoreLog>();
  Inbox new_inbox(std::make_unique<RecordingStore>(log));
  log->events.clear();
  new_inbox.AdoptWaiting(std::move(taken));
  EXPECT_EQ(new_inbox.waiting(), 2u);
  EXPECT_EQ(log->events.size(), 2u);  // the new store saves what it adopts

  auto a = std::make_shared<RecordingSubscriber>();
  new_inbox.Attach("a/#", a);
  EXPECT_THAT(Topics(a->offered), ElementsAre("a/1"));
  EXPECT_EQ(new_inbox.waiting(), 1u);
}

TEST(InboxTest, AdoptedRecordsGetSeqsThatDoNotCollideWithNewOnes) {
  Inbox old_inbox(std::make_unique<InMemoryStore>());
  ASSERT_TRUE(old_inbox.Accept(Message("t")).ok());
  auto taken = old_inbox.TakeWaiting();

  Inbox new_inbox(std::make_unique<InMemoryStore>());
  ASSERT_TRUE(new_inbox.Accept(Message("t")).ok());
  new_inbox.AdoptWaiting(std::move(taken));
  auto subscriber = std::make_shared<RecordingSubscriber>();
  new_inbox.Attach("t", subscriber);
  ASSERT_EQ(subscriber->offered.size(), 2u);
  EXPECT_NE(subscriber->offered[0].seq, subscriber->offered[1].seq);
}

}  // namespace
}  // namespace bridge
