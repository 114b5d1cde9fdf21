#pragma once

// Small helpers shared by the chaos tests; the processes themselves come from
// the integration harness (tests/integration).

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include "bridge/bridge_harness.h"

namespace bridge::testing {

/// How many times `needle` occurs in `haystack`.
inline std::size_t CountOccurrences(std::string_view haystack, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

/// PUBACKs that mosquitto (MosquittoOptions::verbose_log) received from one
/// client: once the broker has the PUBACK, the message exists only in that
/// client, so these count what the bridge has taken ownership of.
inline std::size_t PubacksFrom(const MosquittoBroker& broker, const std::string& client_id) {
  return CountOccurrences(broker.ReadLog(), "Received PUBACK from " + client_id + " ");
}

/// The last `max_chars` of a log: the daemon logs every message at debug
/// level, and a failure report needs the end, not 20 MB.
inline std::string Tail(const std::string& log, std::size_t max_chars = 30000) {
  if (log.size() <= max_chars) return log;
  const auto newline = log.find('\n', log.size() - max_chars);
  return "[... " + std::to_string(log.size() - max_chars) + " bytes cut ...]\n" +
         log.substr(newline == std::string::npos ? log.size() - max_chars : newline + 1);
}

}  // namespace bridge::testing
