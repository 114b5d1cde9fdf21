#include "store/sqlite_outbox_store.h"

#include <sqlite3.h>

#include "store/sqlite_database.h"

#include "util/logging.h"

namespace bridge {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  topic   BLOB    NOT NULL,
  payload BLOB    NOT NULL,
  qos     INTEGER NOT NULL,
  retain  INTEGER NOT NULL
);
)sql";

}  // namespace

Result<std::unique_ptr<SqliteOutboxStore>> SqliteOutboxStore::Open(const std::string& path, Durability durability) {
  auto opened = OpenSqliteDatabase(path, durability, kSchema);
  if (!opened.ok()) return opened.error();
  sqlite3* db = *opened;
  std::unique_ptr<SqliteOutboxStore> store(new SqliteOutboxStore(db, path));
  if (sqlite3_prepare_v2(db, "INSERT INTO outbox (topic, payload, qos, retain) VALUES (?,?,?,?)", -1,
                         &store->append_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT seq, topic, payload, qos, retain FROM outbox ORDER BY seq LIMIT 1", -1,
                         &store->front_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "DELETE FROM outbox WHERE seq = ?", -1, &store->remove_, nullptr) != SQLITE_OK) {
    return Unavailable("cannot prepare outbox statements for " + path + ": " + sqlite3_errmsg(db));
  }
  sqlite3_stmt* count = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM outbox", -1, &count, nullptr) == SQLITE_OK &&
      sqlite3_step(count) == SQLITE_ROW) {
    store->count_ = static_cast<std::size_t>(sqlite3_column_int64(count, 0));
  }
  sqlite3_finalize(count);
  return store;
}

SqliteOutboxStore::~SqliteOutboxStore() {
  sqlite3_finalize(append_);
  sqlite3_finalize(front_);
  sqlite3_finalize(remove_);
  sqlite3_close(db_);
}

Status SqliteOutboxStore::Append(const MqttPublish& message) {
  std::lock_guard lock(mutex_);
  sqlite3_reset(append_);
  sqlite3_bind_blob(append_, 1, message.topic.data(), static_cast<int>(message.topic.size()), SQLITE_STATIC);
  sqlite3_bind_blob(append_, 2, message.payload.data(), static_cast<int>(message.payload.size()), SQLITE_STATIC);
  sqlite3_bind_int(append_, 3, message.qos);
  sqlite3_bind_int(append_, 4, message.retain ? 1 : 0);
  const int rc = sqlite3_step(append_);
  sqlite3_clear_bindings(append_);
  if (rc != SQLITE_DONE) return Unavailable("outbox write failed for " + path_ + ": " + sqlite3_errmsg(db_));
  ++count_;
  return Status::Ok();
}

std::optional<OutboxStore::Entry> SqliteOutboxStore::Front() {
  std::lock_guard lock(mutex_);
  sqlite3_reset(front_);
  if (sqlite3_step(front_) != SQLITE_ROW) return std::nullopt;
  auto column = [this](int index) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(front_, index));
    return std::string(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(front_, index)));
  };
  Entry entry;
  entry.first = static_cast<std::uint64_t>(sqlite3_column_int64(front_, 0));
  entry.second.topic = column(1);
  entry.second.payload = column(2);
  entry.second.qos = sqlite3_column_int(front_, 3);
  entry.second.retain = sqlite3_column_int(front_, 4) != 0;
  sqlite3_reset(front_);
  return entry;
}

void SqliteOutboxStore::Remove(std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  sqlite3_reset(remove_);
  sqlite3_bind_int64(remove_, 1, static_cast<sqlite3_int64>(seq));
  if (sqlite3_step(remove_) != SQLITE_DONE) {
    Logger("bridge")->error("event=outbox_remove_failed seq={} error=\"{}\"", seq, sqlite3_errmsg(db_));
    return;
  }
  if (sqlite3_changes(db_) > 0 && count_ > 0) --count_;
}

std::size_t SqliteOutboxStore::Count() {
  std::lock_guard lock(mutex_);
  return count_;
}

}  // namespace bridge
