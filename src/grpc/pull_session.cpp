#include "grpc/pull_session.h"

#include "bridge/message_codec.h"
#include "config/bridge_config.h"
#include "grpc/status_mapping.h"
#include "util/logging.h"

namespace bridge {
namespace {

// daprd's gRPC client keeps grpc-go's default 4 MiB receive limit; a bigger
// message would kill the stream for good (spec §4), so it is never sent.
constexpr std::size_t kMaxResponseBytes = 4u * 1024u * 1024u;

RedeliveryPolicy PolicyFor(const BridgeConfig& config) {
  return RedeliveryPolicy{config.redelivery_delay, config.max_redelivery_delay, config.max_redeliveries};
}

}  // namespace

PullSession::PullSession(std::shared_ptr<Instance> instance, TimerQueue& timers)
    : instance_(std::move(instance)),
      timers_(timers),
      delivery_(instance_ ? instance_->config().max_in_flight_per_stream : 1,
                instance_ ? PolicyFor(instance_->config()) : RedeliveryPolicy{}) {}

PullSession* PullSession::Start(Result<std::shared_ptr<Instance>> instance, TimerQueue& timers,
                                std::stop_token stop) {
  std::shared_ptr<PullSession> session(
      new PullSession(instance.ok() ? instance.value() : nullptr, timers));
  session->self_ = session;
  if (!instance.ok()) {
    session->Close(ToGrpcStatus(instance.error()));
    return session.get();
  }
  session->instance_->BeginSubscriptionSetup();
  {
    std::unique_lock lock(session->mutex_);
    session->setup_pending_ = true;
    session->OperationStarted(lock);
  }
  session->StartRead(&session->request_);
  {
    // A cancel may have arrived while the read was being started; then this
    // is the point where the RPC can finish.
    std::unique_lock lock(session->mutex_);
    --session->operations_starting_;
    session->MaybeFinish(lock);
  }
  std::weak_ptr<PullSession> weak = session;
  // A subscription the broker refuses, or one waiting for a broker that is
  // down, must not hold the instance's publishes for longer than this.
  timers.ScheduleAfter(Instance::kPublishHoldLimit, [weak] {
    if (auto self = weak.lock()) self->SettleSetup();
  });
  // Registered last: the callback may run at once if a stop was requested.
  session->on_stop_.emplace(stop, std::function<void()>([weak] {
    if (auto self = weak.lock()) self->Close({grpc::StatusCode::UNAVAILABLE, "the bridge is shutting down"});
  }));
  return session.get();
}

void PullSession::OperationStarted(std::unique_lock<std::mutex>&) { ++operations_starting_; }

void PullSession::OnReadDone(bool ok) {
  if (!ok) {
    // daprd cancels rather than half-closes; either way the stream is over.
    Close(grpc::Status::OK);
    return;
  }
  bool first;
  {
    std::lock_guard lock(mutex_);
    first = !attached_ && dapr_topic_.empty();
  }
  if (first) {
    HandleFirstRequest();
  } else {
    HandleAck();
  }
  std::unique_lock lock(mutex_);
  if (closing_) {
    MaybeFinish(lock);
    return;
  }
  OperationStarted(lock);
  lock.unlock();
  StartRead(&request_);
  lock.lock();
  --operations_starting_;
  MaybeFinish(lock);
}

void PullSession::HandleFirstRequest() {
  auto log = Logger("grpc");
  if (!request_.has_topic() || request_.topic().name().empty()) {
    Close({grpc::StatusCode::INVALID_ARGUMENT, "the first PullMessagesRequest must carry a topic with a name"});
    return;
  }
  const std::string topic = request_.topic().name();
  {
    std::lock_guard lock(mutex_);
    dapr_topic_ = topic;
  }
  std::weak_ptr<PullSession> weak = shared_from_this();
  auto filter = instance_->OpenSubscription(
      topic, shared_from_this(),
      [weak] {
        if (auto self = weak.lock()) self->OnSubscriptionActive();
      },
      [weak] {
        if (auto self = weak.lock()) self->Pump();
      },
      [weak] {
        if (auto self = weak.lock()) {
          self->Close({grpc::StatusCode::UNAVAILABLE, "the component instance was re-initialised or shut down"});
        }
      });
  if (!filter.ok()) {
    log->warn("event=pull_rejected instance=\"{}\" topic=\"{}\" error=\"{}\"", instance_->name(), topic,
              filter.error().message);
    Close(ToGrpcStatus(filter.error()));
    return;
  }
  const auto& topic_metadata = request_.topic().metadata();
  if (auto it = topic_metadata.find("unsubscribeWhenIdle"); it != topic_metadata.end()) {
    if (ParseBool(it->second).value_or(false)) instance_->UnsubscribeWhenIdle(*filter);
  }
  {
    std::lock_guard lock(mutex_);
    filter_ = *filter;
    attached_ = true;
  }
  log->info("event=pull_started instance=\"{}\" topic=\"{}\" filter=\"{}\"", instance_->name(), topic, *filter);
  Pump();
}

void PullSession::HandleAck() {
  const bool is_error = request_.has_ack_error();
  StreamDelivery::AckResult result;
  {
    std::lock_guard lock(mutex_);
    result = delivery_.OnAck(request_.ack_message_id(), is_error, StreamDelivery::Clock::now());
  }
  switch (result.outcome) {
    case StreamDelivery::AckOutcome::kAcked:
      instance_->Acked(result.record);
      break;
    case StreamDelivery::AckOutcome::kExhausted:
      instance_->GiveUp(std::move(result.record), request_.ack_error().message());
      break;
    case StreamDelivery::AckOutcome::kNacked:
      Logger("grpc")->debug("event=nack instance=\"{}\" id={} error=\"{}\"", instance_->name(),
                            request_.ack_message_id(), request_.ack_error().message());
      break;
    case StreamDelivery::AckOutcome::kUnknown:
      Logger("grpc")->debug("event=ack_unknown_id instance=\"{}\" id={}", instance_->name(),
                            request_.ack_message_id());
      return;
  }
  Pump();
}

void PullSession::OnSubscriptionActive() {
  {
    std::lock_guard lock(mutex_);
    subscription_active_ = true;
  }
  SettleSetup();
  Pump();
}

void PullSession::SettleSetup() {
  {
    std::lock_guard lock(mutex_);
    if (!std::exchange(setup_pending_, false)) return;
  }
  instance_->EndSubscriptionSetup();
}

void PullSession::Offer(InboundRecord record) {
  // Runs under the inbox's lock: only queue here. The inbox calls Wake once
  // it let go, because a gRPC write may complete inline and end the stream,
  // which needs the inbox again.
  std::lock_guard lock(mutex_);
  delivery_.Enqueue(std::move(record));
}

std::vector<InboundRecord> PullSession::TakeUnacked() {
  std::lock_guard lock(mutex_);
  return delivery_.TakeAll();
}

bool PullSession::FillResponseLocked(const StreamDelivery::Delivery& delivery) {
  const MqttMessage& message = *delivery.record->message;
  response_.Clear();
  response_.set_id(delivery.id);
  response_.set_data(message.payload);
  auto dapr_topic = instance_->mapper().ToDaprTopic(message.topic);
  response_.set_topic_name(dapr_topic ? *dapr_topic : message.topic);
  auto fields = DescribeInboundPayload(message.payload, message.topic, message.qos, message.retained, delivery.id);
  response_.set_content_type(std::move(fields.content_type));
  response_.mutable_metadata()->insert(fields.metadata.begin(), fields.metadata.end());
  return response_.ByteSizeLong() <= kMaxResponseBytes;
}

void PullSession::Pump() {
  std::vector<InboundRecord> dropped;
  enum class Next { kNothing, kMetadata, kWrite } next = Next::kNothing;
  {
    std::unique_lock lock(mutex_);
    if (closing_ || write_in_flight_ || !attached_) return;
    if (!metadata_sent_ && subscription_active_) {
      // Response headers tell a client that the broker granted the
      // subscription; daprd ignores them, tests wait for them.
      next = Next::kMetadata;
    } else if (!instance_->paused()) {
      const auto now = StreamDelivery::Clock::now();
      while (auto delivery = delivery_.NextToSend(now)) {
        if (FillResponseLocked(*delivery)) {
          next = Next::kWrite;
          break;
        }
        // Policy: a message daprd could not receive is logged and dropped.
        Logger("grpc")->error(
            "event=message_too_large_dropped instance=\"{}\" mqtt_topic=\"{}\" bytes={} limit={}",
            instance_->name(), delivery->record->message->topic, response_.ByteSizeLong(), kMaxResponseBytes);
        if (auto record = delivery_.Discard(delivery->id)) dropped.push_back(std::move(*record));
      }
      if (next == Next::kNothing) {
        if (auto due = delivery_.NextRedeliveryDue()) ScheduleWakeLocked(*due);
      }
    }
    if (next != Next::kNothing) {
      write_in_flight_ = true;
      metadata_sent_ = true;  // a write carries the headers if they were not sent
      OperationStarted(lock);
    }
  }
  for (const auto& record : dropped) instance_->Acked(record);
  if (next == Next::kNothing) return;
  if (next == Next::kMetadata) {
    StartSendInitialMetadata();
  } else {
    StartWrite(&response_);
  }
  std::unique_lock lock(mutex_);
  --operations_starting_;
  MaybeFinish(lock);
}

void PullSession::ScheduleWakeLocked(StreamDelivery::Clock::time_point due) {
  if (wake_scheduled_for_ && *wake_scheduled_for_ <= due) return;
  wake_scheduled_for_ = due;
  std::weak_ptr<PullSession> weak = shared_from_this();
  timers_.ScheduleAt(due, [weak] {
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->mutex_);
      self->wake_scheduled_for_.reset();
    }
    self->Pump();
  });
}

void PullSession::OnWriteDone(bool ok) {
  {
    std::unique_lock lock(mutex_);
    write_in_flight_ = false;
    if (closing_) {
      MaybeFinish(lock);
      return;
    }
  }
  if (!ok) {
    Close(grpc::Status::OK);
    return;
  }
  Pump();
}

void PullSession::OnSendInitialMetadataDone(bool ok) { OnWriteDone(ok); }

void PullSession::OnCancel() { Close({grpc::StatusCode::CANCELLED, "cancelled by the client"}); }

void PullSession::Close(grpc::Status status) {
  bool detach;
  std::string filter;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
    final_status_ = std::move(status);
    detach = attached_;
    filter = filter_;
  }
  if (instance_) SettleSetup();
  if (detach) {
    // The inbox takes back every unacked record, atomically, for the next
    // stream on this filter.
    instance_->CloseSubscription(filter, this);
    Logger("grpc")->info("event=pull_ended instance=\"{}\" filter=\"{}\"", instance_->name(), filter);
  }
  std::unique_lock lock(mutex_);
  MaybeFinish(lock);
}

void PullSession::MaybeFinish(std::unique_lock<std::mutex>& lock) {
  if (!closing_ || finish_called_ || write_in_flight_ || operations_starting_ > 0) return;
  finish_called_ = true;
  auto status = final_status_;
  lock.unlock();
  Finish(status);
}

void PullSession::OnDone() {
  on_stop_.reset();  // waits for a stop callback running on another thread
  self_.reset();     // may destroy this
}

}  // namespace bridge
