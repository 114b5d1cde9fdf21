#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "bridge/outbox_store.h"
#include "config/bridge_config.h"

struct sqlite3;
struct sqlite3_stmt;

namespace bridge {

/// OutboxStore in one SQLite file (WAL; fsync per append with
/// Durability::kFsync, none otherwise, which still survives a crash of the
/// bridge).
class SqliteOutboxStore final : public OutboxStore {
 public:
  static Result<std::unique_ptr<SqliteOutboxStore>> Open(const std::string& path, Durability durability);
  ~SqliteOutboxStore() override;

  Status Append(const MqttPublish& message) override;
  std::optional<Entry> Front() override;
  void Remove(std::uint64_t seq) override;
  std::size_t Count() override;

 private:
  SqliteOutboxStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  std::mutex mutex_;
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* append_ = nullptr;
  sqlite3_stmt* front_ = nullptr;
  sqlite3_stmt* remove_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace bridge
