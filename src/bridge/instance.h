#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/inbox.h"
#include "bridge/intake_gate.h"
#include "bridge/offline_outbox.h"
#include "bridge/topic_mapper.h"
#include "config/bridge_config.h"
#include "mqtt/mqtt_client.h"
#include "util/result.h"
#include "util/timer_queue.h"

namespace bridge {

/// One Dapr component instance (one `x-component-instance` value): its
/// immutable config, its MQTT connection, its subscriptions and its inbox.
///
/// Thread-safety: all methods may be called from any thread. MQTT callbacks
/// arrive on Paho's thread; gRPC handlers call in from gRPC's threads.
class Instance : public std::enable_shared_from_this<Instance> {
 public:
  using Done = std::function<void(Status)>;

  /// Connects to the broker within the config's connectTimeout.
  /// `waiting` are records adopted from the instance this one replaces.
  static Result<std::shared_ptr<Instance>> Start(std::string name, BridgeConfig config,
                                                 std::unique_ptr<MqttClient> client,
                                                 std::unique_ptr<MessageStore> store,
                                                 std::vector<InboundRecord> waiting,
                                                 TimerQueue& timers,
                                                 std::unique_ptr<OutboxStore> outbox = nullptr);
  ~Instance();

  const std::string& name() const { return name_; }
  const BridgeConfig& config() const { return config_; }
  const TopicMapper& mapper() const { return mapper_; }

  /// Publishes `data` byte-exact to the mapped topic. `done` runs once: OK
  /// after the broker's PUBACK (QoS1), else UNAVAILABLE, DEADLINE_EXCEEDED
  /// or INVALID_ARGUMENT. Never blocks; many publishes may be in flight.
  void Publish(const std::string& dapr_topic, std::string data,
               const std::map<std::string, std::string>& metadata, Done done);

  /// Attaches a subscriber for a Dapr topic (wildcards allowed) and
  /// subscribes on MQTT if this is the filter's first subscriber.
  /// `on_active` runs once the broker has granted the subscription.
  /// `wake` runs on Resume; `end` runs when the instance is replaced or
  /// shut down, so that the stream ends visibly instead of going quiet.
  /// Returns the MQTT filter.
  Result<std::string> OpenSubscription(const std::string& dapr_topic,
                                       std::shared_ptr<InboxSubscriber> subscriber,
                                       std::function<void()> on_active, std::function<void()> wake,
                                       std::function<void()> end = {});
  void CloseSubscription(const std::string& filter, const InboxSubscriber* subscriber);

  /// A subscription asked (metadata `unsubscribeWhenIdle: "true"`) that the
  /// MQTT subscription end with its last stream, as with cleanSession=true;
  /// by default it stays so that messages keep arriving into the inbox.
  void UnsubscribeWhenIdle(const std::string& filter);

  /// A PullMessages stream opened and is not subscribed on the broker yet.
  /// daprd returns from Subscribe before the bridge has read the stream's
  /// topic, and may publish to that topic at once (Dapr's conformance suite
  /// does); the built-in mqtt3 subscribes before returning. So publishes
  /// wait, at most kPublishHoldLimit, until every such setup has settled.
  void BeginSubscriptionSetup();
  /// The setup settled: the broker granted the subscription, or the stream
  /// ended. Call exactly once per Begin.
  void EndSubscriptionSetup();
  static constexpr std::chrono::milliseconds kPublishHoldLimit{2000};

  /// The runtime processed `record` (or the bridge dropped it).
  void Acked(const InboundRecord& record);

  /// The record's redeliveries ran out: publish it to deadLetterTopic and
  /// forget it once the broker has it, or drop it with an error log when no
  /// dead-letter topic is set. If the dead-letter publish fails, the record
  /// goes back to the inbox to be delivered again.
  void GiveUp(InboundRecord record, const std::string& last_error);

  /// Pause stops handing messages to the runtime (they keep arriving and
  /// wait in the inbox); Resume starts again. Both are idempotent.
  void SetPaused(bool paused);
  bool paused() const;

  /// Whether the MQTT connection is up right now.
  bool connected() const { return client_->IsConnected(); }

  /// Detaches from the broker for good and returns the records still
  /// waiting, so a replacement instance can take them over.
  std::vector<InboundRecord> Shutdown();

 private:
  struct FilterState {
    int subscribers = 0;
    bool granted = false;
    bool unsubscribe_when_idle = false;
    std::vector<std::function<void()>> on_active;
  };

  Instance(std::string name, BridgeConfig config, std::unique_ptr<MqttClient> client,
           std::unique_ptr<MessageStore> store, TimerQueue& timers);
  void OnConnectionChange(bool connected);
  void PublishNow(const std::string& dapr_topic, std::string data,
                  const std::map<std::string, std::string>& metadata, Done done);
  void SubscribeOnBroker(const std::string& filter);

  const std::string name_;
  const BridgeConfig config_;
  const TopicMapper mapper_;
  TimerQueue& timers_;
  std::shared_ptr<Inbox> inbox_;  // shared with the MQTT message handler
  std::unique_ptr<MqttClient> client_;
  std::shared_ptr<OfflineOutbox> outbox_;  // null unless offlineBuffer; after client_: goes first
  std::shared_ptr<IntakeGate> intake_;     // shared with the MQTT message handler

  mutable std::mutex mutex_;
  std::map<std::string, FilterState> filters_;
  struct SubscriberHooks {
    std::function<void()> wake;
    std::function<void()> end;
  };
  std::map<const InboxSubscriber*, SubscriberHooks> hooks_;
  int setups_pending_ = 0;
  std::vector<std::function<void()>> held_publishes_;
  void ReleaseHeldPublishes();
  std::atomic<bool> paused_{false};  // read by sessions on every send
  bool shut_down_ = false;
};

}  // namespace bridge
