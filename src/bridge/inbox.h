#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/inbound_record.h"
#include "bridge/message_store.h"
#include "mqtt/mqtt_client.h"

namespace bridge {

/// A consumer of records: in production a PullMessages session.
class InboxSubscriber {
 public:
  virtual ~InboxSubscriber() = default;
  /// Takes ownership of a record owed to this subscriber. Runs with the
  /// inbox's lock held: must not block and must not call into the inbox.
  virtual void Offer(InboundRecord record) = 0;
  /// Called after the inbox released its lock, when Offer gave it work.
  /// This is where a subscriber starts sending.
  virtual void Wake() = 0;
  /// Returns every record offered and not yet acked. Runs with the inbox's
  /// lock held, during Detach, so no record can slip in between.
  virtual std::vector<InboundRecord> TakeUnacked() = 0;
};

/// Owns the inbound messages of one instance until the runtime acks them.
///
/// Each inbound message becomes one record per attached subscriber whose
/// filter matches its topic (every stream gets every message). Records for a
/// filter with no subscriber attached, and records a subscriber left unacked
/// when it detached, wait here until the next subscriber for that filter
/// attaches. A message that matches no known filter (a persistent session's
/// backlog arriving before any stream) waits for the first filter that
/// matches it.
///
/// Thread-safety: all methods may be called from any thread.
class Inbox {
 public:
  explicit Inbox(std::unique_ptr<MessageStore> store);

  /// Called on the MQTT receive thread. When it returns the bridge owns the
  /// message (and, with a durable store, has saved it).
  Status Accept(MqttMessage message);

  /// Registers a subscriber for `filter` and offers it the records waiting
  /// for that filter.
  void Attach(const std::string& filter, std::shared_ptr<InboxSubscriber> subscriber);

  /// Unregisters a subscriber; its unacked records wait for the next one.
  void Detach(const InboxSubscriber* subscriber);

  /// The runtime processed this record (or it was dropped): forget it.
  void Acked(const InboundRecord& record);

  /// Records the bridge owns and the runtime has not acked yet, wherever
  /// they are (waiting or at a stream), and their payload bytes.
  std::size_t pending_messages() const { return pending_messages_.load(); }
  std::size_t pending_bytes() const { return pending_bytes_.load(); }

  /// Puts a record the bridge still owns back in line: to a subscriber of
  /// its filter if one is attached, else to the waiting list.
  void Requeue(InboundRecord record);

  /// Records that wait for a subscriber (not those held by subscribers).
  std::size_t waiting() const;

  /// Moves every waiting record out, e.g. into the replacement instance
  /// after a re-Init. Subscribers must be detached first.
  std::vector<InboundRecord> TakeWaiting();
  void AdoptWaiting(std::vector<InboundRecord> records);

 private:
  struct Attached {
    std::string filter;
    std::shared_ptr<InboxSubscriber> subscriber;
  };

  InboundRecord NewRecordLocked(const std::string& filter,
                                const std::shared_ptr<const MqttMessage>& message);

  void Count(const InboundRecord& record);

  std::unique_ptr<MessageStore> store_;
  std::atomic<std::size_t> pending_messages_{0};
  std::atomic<std::size_t> pending_bytes_{0};
  mutable std::mutex mutex_;
  std::uint64_t next_seq_ = 1;
  std::vector<Attached> attached_;
  std::vector<std::string> known_filters_;  // every filter ever attached
  std::vector<InboundRecord> waiting_;      // filter empty = matched no known filter
};

}  // namespace bridge
