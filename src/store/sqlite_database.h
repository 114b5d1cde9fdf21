#pragma once

#include <string>

#include "config/bridge_config.h"
#include "util/result.h"

struct sqlite3;

namespace bridge {

/// Opens (creating it and its folder) a SQLite file in WAL mode with the
/// sync level `durability` asks for, and applies `schema`. The stores own the
/// returned handle and close it with sqlite3_close.
Result<sqlite3*> OpenSqliteDatabase(const std::string& path, Durability durability, const char* schema);

}  // namespace bridge
