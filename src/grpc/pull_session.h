#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include <grpcpp/grpcpp.h>

#include "bridge/inbox.h"
#include "bridge/instance.h"
#include "bridge/stream_delivery.h"
#include "dapr/proto/components/v1/pubsub.grpc.pb.h"
#include "util/timer_queue.h"

namespace bridge {

namespace v1 = dapr::proto::components::v1;

/// One PullMessages stream: the reactor that gRPC drives, and the inbox
/// subscriber that the MQTT side feeds.
///
/// The first request names the topic; every later one is an ack. Messages
/// are written while acks are read, with at most `maxInFlightPerStream`
/// unacked. A nack schedules a redelivery after a backoff. When the stream
/// ends, for whatever reason, every unacked record goes back to the inbox for
/// the next stream on that topic. Broker trouble never ends a stream.
///
/// Threads: gRPC reactions, the MQTT receive thread (Offer), the timer
/// thread (redelivery) and the stop callback all enter here; one mutex
/// guards the state and is never held while calling into gRPC, whose
/// reactions may run inline.
class PullSession final : public grpc::ServerBidiReactor<v1::PullMessagesRequest, v1::PullMessagesResponse>,
                          public InboxSubscriber,
                          public std::enable_shared_from_this<PullSession> {
 public:
  /// Returns the reactor for gRPC; it keeps itself alive until OnDone.
  static PullSession* Start(Result<std::shared_ptr<Instance>> instance, TimerQueue& timers,
                            std::stop_token stop);

  // InboxSubscriber
  void Offer(InboundRecord record) override;
  void Wake() override { Pump(); }
  std::vector<InboundRecord> TakeUnacked() override;

  // grpc::ServerBidiReactor
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnSendInitialMetadataDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  PullSession(std::shared_ptr<Instance> instance, TimerQueue& timers);

  void HandleFirstRequest();
  void HandleAck();
  void OnSubscriptionActive();
  /// Starts the next write if one is possible. Never called with mutex_ held.
  void Pump();
  void ScheduleWakeLocked(StreamDelivery::Clock::time_point due);
  bool FillResponseLocked(const StreamDelivery::Delivery& delivery);
  void Close(grpc::Status status);
  /// Finishes the RPC once closing and no operation is being started or
  /// written. Releases `lock`.
  void MaybeFinish(std::unique_lock<std::mutex>& lock);
  void OperationStarted(std::unique_lock<std::mutex>& lock);

  std::shared_ptr<PullSession> self_;  // reset in OnDone
  std::shared_ptr<Instance> instance_;
  TimerQueue& timers_;
  std::optional<std::stop_callback<std::function<void()>>> on_stop_;

  v1::PullMessagesRequest request_;  // owned by the read in flight
  v1::PullMessagesResponse response_;  // owned by the write in flight

  std::mutex mutex_;
  StreamDelivery delivery_;
  std::string dapr_topic_;
  std::string filter_;
  bool attached_ = false;
  bool subscription_active_ = false;
  bool setup_pending_ = false;  // counted in the instance's BeginSubscriptionSetup
  void SettleSetup();
  bool metadata_sent_ = false;
  bool write_in_flight_ = false;
  int operations_starting_ = 0;
  bool closing_ = false;
  bool finish_called_ = false;
  grpc::Status final_status_;
  std::optional<StreamDelivery::Clock::time_point> wake_scheduled_for_;
};

}  // namespace bridge
