#include "bridge/instance_registry.h"

#include <iomanip>
#include <sstream>

#include "config/bridge_config.h"
#include "util/logging.h"

namespace bridge {

InstanceRegistry::InstanceRegistry(std::string state_dir, InstanceFactories factories, TimerQueue& timers)
    : state_dir_(std::move(state_dir)), factories_(std::move(factories)), timers_(timers) {}

InstanceRegistry::~InstanceRegistry() { ShutdownAll(); }

std::string InstanceRegistry::InstanceDir(const std::string& name) const {
  // The header value is chosen by whoever calls us: hex-encode it so it can
  // never escape the state folder.
  std::ostringstream dir;
  dir << state_dir_ << "/instances/i-";
  for (unsigned char c : name) dir << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(c);
  return dir.str();
}

Status InstanceRegistry::Init(const std::string& name, const std::map<std::string, std::string>& metadata) {
  auto log = Logger("bridge");
  auto parsed = ParseBridgeConfig(metadata);
  if (!parsed.ok()) {
    log->error("event=init_rejected instance=\"{}\" error=\"{}\"", name, parsed.error().message);
    return parsed.error();
  }
  for (const auto& warning : parsed->warnings) log->warn("event=init_warning instance=\"{}\" {}", name, warning);

  std::shared_ptr<std::mutex> init_lock;
  {
    std::lock_guard lock(mutex_);
    auto& slot = init_locks_[name];
    if (!slot) slot = std::make_shared<std::mutex>();
    init_lock = slot;
  }
  std::lock_guard serialise_init(*init_lock);

  // The old connection goes first: with the same client id the broker would
  // otherwise throw one of the two off, and they would fight forever.
  std::vector<InboundRecord> carried_over;
  std::shared_ptr<Instance> previous;
  {
    std::lock_guard lock(mutex_);
    if (auto it = instances_.find(name); it != instances_.end()) {
      // The same settings again (a restarted daprd, or a second daprd using
      // the same Component with its own app id as consumerID) join the live
      // instance: its connection, subscriptions and streams stay as they are.
      BridgeConfig wanted = parsed->config;
      wanted.client_id = it->second->config().client_id;
      if (wanted == it->second->config() && it->second->connected()) {
        if (parsed->config.client_id == wanted.client_id) {
          log->info("event=init_unchanged instance=\"{}\"", name);
        } else {
          log->warn("event=init_joined instance=\"{}\" consumerID=\"{}\" connection_client_id=\"{}\" "
                    "note=\"same settings; sharing the existing MQTT connection\"",
                    name, parsed->config.client_id, wanted.client_id);
        }
        return Status::Ok();
      }
      previous = std::move(it->second);
      instances_.erase(it);
    }
  }
  bool previous_was_durable = false;
  if (previous) {
    log->info("event=instance_reinit instance=\"{}\"", name);
    carried_over = previous->Shutdown();
    previous_was_durable = previous->config().durability != Durability::kMemory;
  }
  {
    // Records of an instance whose re-Init failed wait here for the next one.
    std::lock_guard lock(mutex_);
    auto& stash = stranded_[name];
    stash.insert(stash.end(), std::make_move_iterator(carried_over.begin()),
                 std::make_move_iterator(carried_over.end()));
    carried_over = stash;  // cheap: payloads are shared
  }

  const std::string dir = InstanceDir(name);
  auto client = factories_.make_client(parsed->config, dir);
  if (!client.ok()) return client.error();
  auto store = factories_.make_inbox_store(parsed->config, dir);
  if (!store.ok()) return store.error();
  std::unique_ptr<OutboxStore> outbox;
  if (parsed->config.offline_buffer) {
    auto opened = factories_.make_outbox_store(parsed->config, dir);
    if (!opened.ok()) return opened.error();
    outbox = std::move(opened).value();
  }
  // A durable store reloads what the old instance saved in the same file;
  // adopting the in-memory copies as well would deliver them twice.
  if ((*store)->durable() && previous_was_durable) carried_over.clear();

  auto instance = Instance::Start(name, std::move(parsed->config), std::move(client).value(),
                                  std::move(store).value(), std::move(carried_over), timers_, std::move(outbox));
  if (!instance.ok()) {
    log->error("event=init_failed instance=\"{}\" error=\"{}\"", name, instance.error().message);
    return instance.error();
  }
  std::lock_guard lock(mutex_);
  stranded_.erase(name);
  instances_[name] = std::move(instance).value();
  return Status::Ok();
}

Result<std::shared_ptr<Instance>> InstanceRegistry::Find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = instances_.find(name);
  if (it == instances_.end()) {
    return FailedPrecondition("component instance \"" + name + "\" is not initialised: call Init first");
  }
  return it->second;
}

void InstanceRegistry::ShutdownAll() {
  std::map<std::string, std::shared_ptr<Instance>> instances;
  {
    std::lock_guard lock(mutex_);
    instances.swap(instances_);
  }
  for (auto& [name, instance] : instances) instance->Shutdown();
}

}  // namespace bridge
