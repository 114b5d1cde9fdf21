#pragma once

#include <cstdint>
#include <vector>

#include "bridge/inbound_record.h"
#include "util/result.h"

namespace bridge {

/// Where the inbox keeps the records it owes, so that they survive what the
/// chosen durability level promises. `Save` runs on the MQTT receive thread
/// before the broker gets its PUBACK, so it must be quick.
///
/// Thread-safety: implementations must accept calls from any thread.
class MessageStore {
 public:
  virtual ~MessageStore() = default;
  virtual Status Save(const InboundRecord& record) = 0;
  virtual void Remove(std::uint64_t seq) = 0;
  /// Records saved and not removed, oldest first (used after a restart).
  virtual std::vector<InboundRecord> LoadAll() = 0;
  /// True when records outlive the process: a replacement instance then
  /// reloads them from the store instead of taking them over in memory.
  virtual bool durable() const { return false; }
};

/// Keeps nothing beyond the inbox's own memory: messages survive stream and
/// daprd restarts, not a bridge crash.
class InMemoryStore final : public MessageStore {
 public:
  Status Save(const InboundRecord&) override { return Status::Ok(); }
  void Remove(std::uint64_t) override {}
  std::vector<InboundRecord> LoadAll() override { return {}; }
};

}  // namespace bridge
