#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bridge/inbound_record.h"

namespace bridge {

/// How long a nacked record waits before it is sent again: exponential
/// backoff from `initial_delay`, doubling per attempt, capped at `max_delay`.
struct RedeliveryPolicy {
  std::chrono::milliseconds initial_delay{1000};
  std::chrono::milliseconds max_delay{60000};
  std::size_t max_redeliveries = 0;  // after the first delivery; 0 = unlimited

  std::chrono::milliseconds DelayAfter(std::uint32_t attempts) const;
};

/// The delivery state of one PullMessages stream, without any I/O: which
/// records wait to be sent, which are at the runtime awaiting an ack (the
/// bounded in-flight window), and which were nacked and wait for their
/// backoff. Time is passed in, so tests drive it without sleeping.
///
/// Not thread-safe: the owning session serialises access.
class StreamDelivery {
 public:
  using Clock = std::chrono::steady_clock;

  struct Delivery {
    std::string id;  // the PullMessagesResponse.id for this attempt
    const InboundRecord* record;  // valid until the next call on this object
  };

  /// kExhausted: a nack used up the last allowed redelivery; the caller
  /// dead-letters or drops the record.
  enum class AckOutcome { kAcked, kNacked, kExhausted, kUnknown };
  struct AckResult {
    AckOutcome outcome = AckOutcome::kUnknown;
    InboundRecord record;  // set for kAcked and kExhausted
  };

  StreamDelivery(std::size_t window, RedeliveryPolicy policy);

  /// Queues a record to be sent as soon as the window allows.
  void Enqueue(InboundRecord record);

  /// The next record to send now, if the window has room and one is ready.
  /// The record moves into the window under a fresh id.
  std::optional<Delivery> NextToSend(Clock::time_point now);

  /// Settles the in-flight delivery `id`. An error schedules a redelivery
  /// after the policy's backoff; an unknown id (stale or foreign) is ignored.
  AckResult OnAck(const std::string& id, bool is_error, Clock::time_point now);

  /// Drops an in-flight delivery that must never be sent (e.g. too large)
  /// and hands its record back to the caller.
  std::optional<InboundRecord> Discard(const std::string& id);

  /// When the earliest nacked record becomes ready, if any.
  std::optional<Clock::time_point> NextRedeliveryDue() const;

  /// Empties everything (in flight, waiting, backing off), for hand-off to
  /// another stream when this one ends. In-flight records count as attempted.
  std::vector<InboundRecord> TakeAll();

  std::size_t in_flight() const { return in_flight_.size(); }
  std::size_t waiting() const { return ready_.size() + backing_off_.size(); }

 private:
  void PromoteDueRecords(Clock::time_point now);

  std::size_t window_;
  RedeliveryPolicy policy_;
  std::uint64_t next_delivery_ = 1;
  std::deque<InboundRecord> ready_;
  std::map<std::string, InboundRecord> in_flight_;
  std::multimap<Clock::time_point, InboundRecord> backing_off_;
};

}  // namespace bridge
