// The SQLite stores against real files: what is saved survives reopening,
// byte-exact, in order.
#include <gtest/gtest.h>

#include "store/sqlite_message_store.h"
#include "store/sqlite_outbox_store.h"
#include "support/temp_dir.h"

namespace bridge {
namespace {

InboundRecord Record(std::uint64_t seq, std::string payload) {
  auto message = std::make_shared<MqttMessage>();
  message->topic = "plant/line-" + std::to_string(seq);
  message->payload = std::move(payload);
  message->qos = 1;
  message->retained = seq % 2 == 0;
  return InboundRecord{seq, "plant/#", std::move(message), 2};
}

TEST(SqliteMessageStoreTest, SavedRecordsSurviveReopeningByteExactAndInOrder) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/state/inbox.db";
  {
    auto store = SqliteMessageStore::Open(path, Durability::kProcess);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->Save(Record(3, std::string("a\0b", 3))).ok());
    ASSERT_TRUE((*store)->Save(Record(1, "first")).ok());
    ASSERT_TRUE((*store)->Save(Record(2, "acked")).ok());
    (*store)->Remove(2);
  }
  auto reopened = SqliteMessageStore::Open(path, Durability::kFsync);
  ASSERT_TRUE(reopened.ok());
  auto records = (*reopened)->LoadAll();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].seq, 1u);
  EXPECT_EQ(records[0].message->payload, "first");
  EXPECT_EQ(records[1].seq, 3u);
  EXPECT_EQ(records[1].message->payload, std::string("a\0b", 3));
  EXPECT_EQ(records[1].message->topic, "plant/line-3");
  EXPECT_EQ(records[1].filter, "plant/#");
  EXPECT_FALSE(records[1].message->retained);
  EXPECT_EQ(records[1].attempts, 2u);
  EXPECT_TRUE((*reopened)->durable());
}

TEST(SqliteMessageStoreTest, OpeningAnUnwritablePathFailsWithAReason) {
  auto store = SqliteMessageStore::Open("/proc/no-such-dir/inbox.db", Durability::kProcess);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(store.error().message.find("/proc/no-such-dir"), std::string::npos);
}

TEST(SqliteOutboxStoreTest, KeepsPublishesInOrderAcrossReopening) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/outbox.db";
  {
    auto store = SqliteOutboxStore::Open(path, Durability::kProcess);
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE((*store)->Append(MqttPublish{"t", "m" + std::to_string(i), 1, i == 1}).ok());
    }
    auto front = (*store)->Front();
    ASSERT_TRUE(front.has_value());
    EXPECT_EQ(front->second.payload, "m0");
    (*store)->Remove(front->first);
    EXPECT_EQ((*store)->Count(), 2u);
  }
  auto reopened = SqliteOutboxStore::Open(path, Durability::kProcess);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Count(), 2u);
  auto front = (*reopened)->Front();
  ASSERT_TRUE(front.has_value());
  EXPECT_EQ(front->second.payload, "m1");
  EXPECT_TRUE(front->second.retain);
}

}  // namespace
}  // namespace bridge
