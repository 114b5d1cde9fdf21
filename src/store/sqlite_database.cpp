#include "store/sqlite_database.h"

#include <sqlite3.h>

#include <filesystem>

namespace bridge {

Result<sqlite3*> OpenSqliteDatabase(const std::string& path, Durability durability, const char* schema) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Unavailable("cannot create the folder of " + path + ": " + ec.message());

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    auto error = Unavailable("cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return error;
  }
  // WAL: a commit is one append to the log. synchronous=OFF leaves the
  // fsync to the OS, which still survives a crash of this process; FULL
  // fsyncs every commit, which also survives power loss.
  const std::string setup = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                            (durability == Durability::kFsync ? "FULL" : "OFF") + ";" + schema;
  char* message = nullptr;
  if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string reason = message ? message : "unknown error";
    sqlite3_free(message);
    sqlite3_close(db);
    return Unavailable("cannot prepare " + path + ": " + reason);
  }
  sqlite3_busy_timeout(db, 5000);  // a replaced instance may still hold the file briefly
  return db;
}

}  // namespace bridge
