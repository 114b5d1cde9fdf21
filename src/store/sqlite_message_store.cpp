#include "store/sqlite_message_store.h"

#include <sqlite3.h>

#include "store/sqlite_database.h"

#include "util/logging.h"

namespace bridge {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS inbox (
  seq      INTEGER PRIMARY KEY,
  filter   TEXT    NOT NULL,
  topic    BLOB    NOT NULL,
  payload  BLOB    NOT NULL,
  qos      INTEGER NOT NULL,
  retained INTEGER NOT NULL,
  attempts INTEGER NOT NULL
);
)sql";

std::string LastError(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

}  // namespace

Result<std::unique_ptr<SqliteMessageStore>> SqliteMessageStore::Open(const std::string& path, Durability durability) {
  auto db = OpenSqliteDatabase(path, durability, kSchema);
  if (!db.ok()) return db.error();
  std::unique_ptr<SqliteMessageStore> store(new SqliteMessageStore(*db, path));
  if (auto status = store->Prepare(); !status.ok()) return status.error();
  return store;
}

Status SqliteMessageStore::Prepare() {
  const char* insert =
      "INSERT OR REPLACE INTO inbox (seq, filter, topic, payload, qos, retained, attempts) VALUES (?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v2(db_, insert, -1, &insert_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "DELETE FROM inbox WHERE seq = ?", -1, &remove_, nullptr) != SQLITE_OK) {
    return Unavailable("cannot prepare inbox statements for " + path_ + ": " + LastError(db_));
  }
  return Status::Ok();
}

SqliteMessageStore::~SqliteMessageStore() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(remove_);
  sqlite3_close(db_);
}

Status SqliteMessageStore::Save(const InboundRecord& record) {
  const MqttMessage& message = *record.message;
  std::lock_guard lock(mutex_);
  sqlite3_reset(insert_);
  sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(record.seq));
  sqlite3_bind_text(insert_, 2, record.filter.data(), static_cast<int>(record.filter.size()), SQLITE_STATIC);
  sqlite3_bind_blob(insert_, 3, message.topic.data(), static_cast<int>(message.topic.size()), SQLITE_STATIC);
  sqlite3_bind_blob(insert_, 4, message.payload.data(), static_cast<int>(message.payload.size()), SQLITE_STATIC);
  sqlite3_bind_int(insert_, 5, message.qos);
  sqlite3_bind_int(insert_, 6, message.retained ? 1 : 0);
  sqlite3_bind_int64(insert_, 7, record.attempts);
  const int rc = sqlite3_step(insert_);
  sqlite3_clear_bindings(insert_);
  if (rc != SQLITE_DONE) return Unavailable("inbox write failed for " + path_ + ": " + LastError(db_));
  return Status::Ok();
}

void SqliteMessageStore::Remove(std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  sqlite3_reset(remove_);
  sqlite3_bind_int64(remove_, 1, static_cast<sqlite3_int64>(seq));
  if (sqlite3_step(remove_) != SQLITE_DONE) {
    // Worst case the record is delivered once more after a restart.
    Logger("bridge")->error("event=inbox_remove_failed seq={} error=\"{}\"", seq, LastError(db_));
  }
}

std::vector<InboundRecord> SqliteMessageStore::LoadAll() {
  std::lock_guard lock(mutex_);
  std::vector<InboundRecord> records;
  sqlite3_stmt* select = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT seq, filter, topic, payload, qos, retained, attempts FROM inbox ORDER BY seq",
                         -1, &select, nullptr) != SQLITE_OK) {
    Logger("bridge")->error("event=inbox_load_failed path={} error=\"{}\"", path_, LastError(db_));
    return records;
  }
  auto column = [select](int index) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(select, index));
    return std::string(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(select, index)));
  };
  while (sqlite3_step(select) == SQLITE_ROW) {
    InboundRecord record;
    record.seq = static_cast<std::uint64_t>(sqlite3_column_int64(select, 0));
    record.filter = column(1);
    auto message = std::make_shared<MqttMessage>();
    message->topic = column(2);
    message->payload = column(3);
    message->qos = sqlite3_column_int(select, 4);
    message->retained = sqlite3_column_int(select, 5) != 0;
    record.message = std::move(message);
    record.attempts = static_cast<std::uint32_t>(sqlite3_column_int64(select, 6));
    records.push_back(std::move(record));
  }
  sqlite3_finalize(select);
  return records;
}

}  // namespace bridge
