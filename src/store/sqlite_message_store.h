#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "bridge/message_store.h"
#include "config/bridge_config.h"
#include "util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace bridge {

/// The inbox's records in one SQLite file, in WAL mode, one transaction per
/// record, so that a record is on disk before Save returns (and so before
/// the broker gets its PUBACK).
///
/// - Durability::kProcess: `synchronous=OFF`. Committed records are in the
///   WAL file the moment Save returns, so a crash or SIGKILL of the bridge
///   loses nothing; the OS may still lose them on power loss.
/// - Durability::kFsync: `synchronous=FULL`, an fsync per commit: safe
///   against power loss, at the cost of one fsync per inbound message.
///
/// Thread-safety: all methods may be called from any thread (one mutex).
class SqliteMessageStore final : public MessageStore {
 public:
  static Result<std::unique_ptr<SqliteMessageStore>> Open(const std::string& path, Durability durability);
  ~SqliteMessageStore() override;

  Status Save(const InboundRecord& record) override;
  void Remove(std::uint64_t seq) override;
  std::vector<InboundRecord> LoadAll() override;
  bool durable() const override { return true; }

 private:
  SqliteMessageStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Prepare();

  std::mutex mutex_;
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* remove_ = nullptr;
};

}  // namespace bridge
