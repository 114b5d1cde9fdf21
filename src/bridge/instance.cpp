#include "bridge/instance.h"

#include <atomic>

#include "config/bridge_config.h"
#include "util/logging.h"

namespace bridge {
namespace {

/// Completes a publish exactly once: by the broker's answer or by the
/// deadline, whichever comes first.
struct PublishCompletion {
  Instance::Done done;
  std::atomic<bool> completed{false};
  TimerQueue::TimerId deadline_timer = 0;

  bool Claim() { return !completed.exchange(true); }
};

}  // namespace

Instance::Instance(std::string name, BridgeConfig config, std::unique_ptr<MqttClient> client,
                   std::unique_ptr<MessageStore> store, TimerQueue& timers)
    : name_(std::move(name)),
      config_(std::move(config)),
      mapper_(config_.topic_prefix),
      timers_(timers),
      inbox_(std::make_shared<Inbox>(std::move(store))),
      client_(std::move(client)) {}

Instance::~Instance() { Shutdown(); }

Result<std::shared_ptr<Instance>> Instance::Start(std::string name, BridgeConfig config,
                                                  std::unique_ptr<MqttClient> client,
                                                  std::unique_ptr<MessageStore> store,
                                                  std::vector<InboundRecord> waiting,
                                                  TimerQueue& timers,
                                                  std::unique_ptr<OutboxStore> outbox) {
  std::shared_ptr<Instance> instance(
      new Instance(std::move(name), std::move(config), std::move(client), std::move(store), timers));
  instance->inbox_->AdoptWaiting(std::move(waiting));
  if (outbox) {
    instance->outbox_ = std::make_shared<OfflineOutbox>(std::move(outbox), instance->config_.max_offline_messages,
                                                        *instance->client_);
  }

  instance->intake_ = std::make_shared<IntakeGate>(
      IntakeGate::Bounds{instance->config_.max_pending_messages, instance->config_.max_pending_bytes},
      *instance->client_, instance->config_.connect_timeout, instance->name_);
  // The handler holds the inbox and the gate, not the instance: Paho may
  // still call it while the instance is being torn down.
  instance->client_->SetMessageHandler(
      [inbox = instance->inbox_, intake = instance->intake_, log = Logger("mqtt")](MqttMessage&& message) {
        const auto topic = message.topic;
        if (auto status = inbox->Accept(std::move(message)); !status.ok()) {
          log->error("event=inbox_accept_failed topic=\"{}\" error=\"{}\"", topic, status.error().message);
        }
        intake->Update(inbox->pending_messages(), inbox->pending_bytes());
      });
  std::weak_ptr<Instance> weak = instance;
  instance->client_->SetConnectionHandler([weak](bool connected) {
    if (auto self = weak.lock()) self->OnConnectionChange(connected);
  });

  const auto& cfg = instance->config_;
  if (auto status = instance->client_->Connect(cfg.connect_timeout); !status.ok()) {
    return Error{status.error().kind == ErrorKind::kInvalidArgument ? ErrorKind::kInvalidArgument
                                                                    : ErrorKind::kUnavailable,
                 "cannot connect to MQTT broker " + cfg.broker_url_redacted + " within " +
                     std::to_string(cfg.connect_timeout.count()) + " ms: " + status.error().message};
  }
  if (instance->outbox_) instance->outbox_->Drain();  // left over from before a restart
  Logger("bridge")->info("event=instance_started instance=\"{}\" {}", instance->name_, cfg.Describe());
  return instance;
}

void Instance::OnConnectionChange(bool connected) {
  auto log = Logger("mqtt");
  if (!connected) {
    log->warn("event=broker_connection_lost instance=\"{}\" url={}", name_, config_.broker_url_redacted);
    std::lock_guard lock(mutex_);
    for (auto& [filter, state] : filters_) state.granted = false;
    return;
  }
  log->info("event=broker_connected instance=\"{}\" url={}", name_, config_.broker_url_redacted);
  // A clean session forgets subscriptions; a persistent one keeps them, and
  // subscribing again is harmless. Either way every filter is renewed.
  std::vector<std::string> filters;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    for (const auto& [filter, state] : filters_) filters.push_back(filter);
  }
  for (const auto& filter : filters) SubscribeOnBroker(filter);
  if (outbox_) outbox_->Drain();
}

void Instance::SubscribeOnBroker(const std::string& filter) {
  std::weak_ptr<Instance> weak = weak_from_this();
  client_->Subscribe(filter, config_.qos, [weak, filter](Status status) {
    auto self = weak.lock();
    if (!self) return;
    if (!status.ok()) {
      // Kept, not fatal: the stream stays open and the next reconnect retries.
      Logger("mqtt")->error("event=subscribe_failed instance=\"{}\" filter=\"{}\" error=\"{}\"", self->name_,
                            filter, status.error().message);
      return;
    }
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(self->mutex_);
      auto it = self->filters_.find(filter);
      if (it == self->filters_.end()) return;
      it->second.granted = true;
      ready = std::exchange(it->second.on_active, {});
    }
    Logger("mqtt")->debug("event=subscribed instance=\"{}\" filter=\"{}\"", self->name_, filter);
    for (auto& callback : ready) callback();
  });
}

void Instance::BeginSubscriptionSetup() {
  std::lock_guard lock(mutex_);
  ++setups_pending_;
}

void Instance::EndSubscriptionSetup() {
  {
    std::lock_guard lock(mutex_);
    if (setups_pending_ > 0) --setups_pending_;
    if (setups_pending_ > 0) return;
  }
  ReleaseHeldPublishes();
}

void Instance::ReleaseHeldPublishes() {
  std::vector<std::function<void()>> held;
  {
    std::lock_guard lock(mutex_);
    held.swap(held_publishes_);
  }
  for (auto& publish : held) publish();
}

void Instance::Publish(const std::string& dapr_topic, std::string data,
                       const std::map<std::string, std::string>& metadata, Done done) {
  {
    std::unique_lock lock(mutex_);
    if (setups_pending_ > 0) {
      const bool first = held_publishes_.empty();
      std::weak_ptr<Instance> weak = weak_from_this();
      held_publishes_.push_back([weak, dapr_topic, data = std::move(data), metadata, done = std::move(done)]() mutable {
        auto self = weak.lock();
        if (!self) return done(Unavailable("the component instance went away"));
        self->PublishNow(dapr_topic, std::move(data), metadata, std::move(done));
      });
      lock.unlock();
      if (first) {
        timers_.ScheduleAfter(kPublishHoldLimit, [weak = weak_from_this()] {
          if (auto self = weak.lock()) self->ReleaseHeldPublishes();
        });
      }
      return;
    }
  }
  PublishNow(dapr_topic, std::move(data), metadata, std::move(done));
}

void Instance::PublishNow(const std::string& dapr_topic, std::string data,
                          const std::map<std::string, std::string>& metadata, Done done) {
  auto topic = mapper_.ToMqttPublishTopic(dapr_topic);
  if (!topic.ok()) return done(topic.error());

  bool retain = config_.retain;
  if (auto it = metadata.find("retain"); it != metadata.end()) {
    auto parsed = ParseBool(it->second);
    if (!parsed) return done(InvalidArgument("metadata retain: must be true or false, got \"" + it->second + "\""));
    retain = *parsed;
  }

  MqttPublish message{std::move(topic).value(), std::move(data), config_.qos, retain};
  if (outbox_ && (outbox_->Active() || !client_->IsConnected())) {
    // Behind stored messages, or with the broker away: into the line.
    auto stored = outbox_->Accept(message);
    if (stored.ok() && client_->IsConnected()) outbox_->Drain();
    return done(stored);
  }

  auto completion = std::make_shared<PublishCompletion>();
  completion->done = std::move(done);
  const auto timeout = config_.publish_timeout;
  completion->deadline_timer = timers_.ScheduleAfter(timeout, [completion, timeout] {
    // Not stored in the offline buffer: the broker may still have it, and
    // daprd's resiliency policy decides about retrying.
    if (completion->Claim()) {
      completion->done(DeadlineExceeded("no PUBACK from the broker within " + std::to_string(timeout.count()) +
                                        " ms"));
    }
  });
  // With the offline buffer, a publish the connection lost on the way is
  // stored instead of failed (it may reach the broker twice: at least once).
  std::weak_ptr<OfflineOutbox> fallback = outbox_;
  auto fallback_message = outbox_ ? std::make_shared<MqttPublish>(message) : nullptr;
  client_->Publish(std::move(message), [completion, &timers = timers_, fallback, fallback_message](Status status) {
    if (!completion->Claim()) return;
    timers.Cancel(completion->deadline_timer);
    auto outbox = fallback.lock();
    if (!status.ok() && outbox && status.error().kind == ErrorKind::kUnavailable) {
      status = outbox->Accept(*fallback_message);
    }
    completion->done(std::move(status));
  });
}

Result<std::string> Instance::OpenSubscription(const std::string& dapr_topic,
                                               std::shared_ptr<InboxSubscriber> subscriber,
                                               std::function<void()> on_active, std::function<void()> wake,
                                               std::function<void()> end) {
  auto filter = mapper_.ToMqttFilter(dapr_topic);
  if (!filter.ok()) return filter.error();

  bool first_subscriber = false;
  bool already_granted = false;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return FailedPrecondition("instance \"" + name_ + "\" was replaced or shut down");
    auto& state = filters_[*filter];
    first_subscriber = state.subscribers++ == 0 && !state.granted;
    already_granted = state.granted;
    if (!already_granted) state.on_active.push_back(std::move(on_active));
    hooks_[subscriber.get()] = {std::move(wake), std::move(end)};
  }
  inbox_->Attach(*filter, std::move(subscriber));
  if (already_granted) {
    on_active();
  } else if (first_subscriber) {
    SubscribeOnBroker(*filter);
  }
  return filter;
}

void Instance::CloseSubscription(const std::string& filter, const InboxSubscriber* subscriber) {
  inbox_->Detach(subscriber);
  bool unsubscribe = false;
  {
    std::lock_guard lock(mutex_);
    hooks_.erase(subscriber);
    auto it = filters_.find(filter);
    if (it == filters_.end()) return;
    // A persistent session keeps the subscription while no stream is
    // attached, so that messages keep arriving and wait in the inbox.
    if (--it->second.subscribers == 0 && (config_.clean_session || it->second.unsubscribe_when_idle)) {
      filters_.erase(it);
      unsubscribe = !shut_down_;
    }
  }
  if (unsubscribe) client_->Unsubscribe(filter);
}

void Instance::Acked(const InboundRecord& record) {
  inbox_->Acked(record);
  intake_->Update(inbox_->pending_messages(), inbox_->pending_bytes());
}

void Instance::GiveUp(InboundRecord record, const std::string& last_error) {
  auto log = Logger("bridge");
  const auto& topic = record.message->topic;
  if (config_.dead_letter_topic.empty()) {
    log->error("event=message_dropped reason=max_redeliveries instance=\"{}\" mqtt_topic=\"{}\" attempts={} "
               "last_error=\"{}\"",
               name_, topic, record.attempts, last_error);
    Acked(record);
    return;
  }
  log->warn("event=dead_lettered instance=\"{}\" mqtt_topic=\"{}\" dead_letter_topic=\"{}\" attempts={}", name_,
            topic, config_.dead_letter_topic, record.attempts);
  std::weak_ptr<Instance> weak = weak_from_this();
  auto shared = std::make_shared<InboundRecord>(std::move(record));
  Publish(config_.dead_letter_topic, shared->message->payload, {}, [weak, shared](Status status) {
    auto self = weak.lock();
    if (!self) return;
    if (status.ok()) {
      self->Acked(*shared);
      return;
    }
    Logger("bridge")->error("event=dead_letter_failed instance=\"{}\" error=\"{}\" note=\"kept for redelivery\"",
                            self->name_, status.error().message);
    self->inbox_->Requeue(std::move(*shared));
  });
}

void Instance::UnsubscribeWhenIdle(const std::string& filter) {
  std::lock_guard lock(mutex_);
  if (auto it = filters_.find(filter); it != filters_.end()) it->second.unsubscribe_when_idle = true;
}

void Instance::SetPaused(bool paused) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    if (paused_ == paused) return;
    paused_ = paused;
    if (!paused) {
      for (const auto& [subscriber, hooks] : hooks_) wake.push_back(hooks.wake);
    }
  }
  Logger("bridge")->info("event={} instance=\"{}\"", paused ? "paused" : "resumed", name_);
  for (auto& waker : wake) {
    if (waker) waker();
  }
}

bool Instance::paused() const { return paused_.load(); }

std::vector<InboundRecord> Instance::Shutdown() {
  std::vector<std::function<void()>> enders;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return {};
    shut_down_ = true;
    for (const auto& [subscriber, hooks] : hooks_) {
      if (hooks.end) enders.push_back(hooks.end);
    }
  }
  // Streams still attached to a replaced instance would otherwise stay open
  // and silent forever. Ending them hands their unacked records back first.
  for (auto& end : enders) end();
  if (outbox_) outbox_->Stop();
  if (intake_) intake_->Stop();
  client_->Disconnect(std::chrono::milliseconds(1000));
  return inbox_->TakeWaiting();
}

}  // namespace bridge
