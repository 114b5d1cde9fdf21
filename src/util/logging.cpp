#include "util/logging.h"

#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace bridge {
namespace {

constexpr std::string_view kLoggerNames[] = {"grpc", "mqtt", "bridge", "daemon"};

std::mutex& LoggerMutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<spdlog::logger> MakeLogger(const std::string& name) {
  auto logger = spdlog::stderr_color_mt(name);
  const bool under_journald = std::getenv("JOURNAL_STREAM") != nullptr;
  logger->set_pattern(under_journald ? "%l %n: %v" : "%Y-%m-%dT%H:%M:%S.%e %l %n: %v");
  logger->set_level(spdlog::get_level());
  return logger;
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(std::string_view name) {
  std::lock_guard lock(LoggerMutex());
  std::string key(name);
  if (auto existing = spdlog::get(key)) return existing;
  return MakeLogger(key);
}

bool ConfigureLogging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str maps unknown names to `off`; only "off" itself may mean off.
  if (parsed == spdlog::level::off && level != "off") return false;
  spdlog::set_level(parsed);
  for (auto name : kLoggerNames) Logger(name)->set_level(parsed);
  return true;
}

}  // namespace bridge
