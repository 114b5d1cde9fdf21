#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace bridge {

/// Named loggers, one per concern: `grpc`, `mqtt`, `bridge`, `daemon`.
/// Messages are written as key=value pairs. Payloads appear only at trace.
std::shared_ptr<spdlog::logger> Logger(std::string_view name);

/// Sets up the sinks and the level for every named logger. Under systemd
/// (JOURNAL_STREAM set) timestamps are left out because journald adds them.
/// Returns false for an unknown level name.
bool ConfigureLogging(const std::string& level);

}  // namespace bridge
