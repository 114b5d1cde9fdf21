#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "bridge/instance.h"
#include "util/result.h"
#include "util/timer_queue.h"

namespace bridge {

/// Builds the MQTT client for a config; the seam that lets tests swap Paho
/// for a fake. `instance_dir` is a private folder for that instance's files
/// (TLS material written from PEM metadata).
using MqttClientFactory =
    std::function<Result<std::unique_ptr<MqttClient>>(const BridgeConfig&, const std::string& instance_dir)>;

/// Builds the store an instance keeps its inbound records in.
using MessageStoreFactory =
    std::function<Result<std::unique_ptr<MessageStore>>(const BridgeConfig&, const std::string& instance_dir)>;

/// Builds the offline buffer's store; called only with offlineBuffer=true.
using OutboxStoreFactory =
    std::function<Result<std::unique_ptr<OutboxStore>>(const BridgeConfig&, const std::string& instance_dir)>;

/// Everything an instance is built from, besides its config.
struct InstanceFactories {
  MqttClientFactory make_client;
  MessageStoreFactory make_inbox_store;
  OutboxStoreFactory make_outbox_store;
};

/// All component instances, keyed by the `x-component-instance` header.
///
/// Thread-safety: all methods may be called from any thread. Init for one
/// name is serialised; different names proceed in parallel.
class InstanceRegistry {
 public:
  InstanceRegistry(std::string state_dir, InstanceFactories factories, TimerQueue& timers);
  ~InstanceRegistry();

  /// Parses the metadata and (re)starts the instance. A second Init for
  /// the same name replaces the first one's config and connection; the
  /// messages the old one still held move to the new one.
  Status Init(const std::string& name, const std::map<std::string, std::string>& metadata);

  /// The instance, or FAILED_PRECONDITION when Init has not succeeded.
  Result<std::shared_ptr<Instance>> Find(const std::string& name) const;

  /// Disconnects every instance from its broker.
  void ShutdownAll();

 private:
  std::string InstanceDir(const std::string& name) const;

  const std::string state_dir_;
  InstanceFactories factories_;
  TimerQueue& timers_;

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Instance>> instances_;
  std::map<std::string, std::shared_ptr<std::mutex>> init_locks_;
  std::map<std::string, std::vector<InboundRecord>> stranded_;
};

}  // namespace bridge
