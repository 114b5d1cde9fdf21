#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "mqtt/mqtt_client.h"
#include "util/result.h"

namespace bridge {

/// Publishes accepted while the broker was unreachable, oldest first, kept
/// until the broker has acknowledged them.
///
/// Thread-safety: implementations must accept calls from any thread.
class OutboxStore {
 public:
  using Entry = std::pair<std::uint64_t, MqttPublish>;

  virtual ~OutboxStore() = default;
  /// Stores a publish durably; returns once it is on disk.
  virtual Status Append(const MqttPublish& message) = 0;
  /// The oldest stored publish, if any.
  virtual std::optional<Entry> Front() = 0;
  virtual void Remove(std::uint64_t seq) = 0;
  virtual std::size_t Count() = 0;
};

}  // namespace bridge
