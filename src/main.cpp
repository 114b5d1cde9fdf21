// Wires the daemon together: flags, logging, the Paho client factory and
// the in-memory store. Everything else lives in dapr_mqtt_bridge_core.
#include <iostream>

#include <CLI/CLI.hpp>

#include "bridge_version.h"
#include "daemon/daemon.h"
#include "daemon/socket_path.h"
#include "mqtt/connection_settings.h"
#include "store/sqlite_message_store.h"
#include "store/sqlite_outbox_store.h"
#include "util/logging.h"

int main(int argc, char** argv) {
  bridge::BlockTerminationSignals();

  CLI::App app{"Dapr pluggable pub/sub component that bridges Dapr topics to an MQTT broker"};
  std::string socket_name = "mqtt-bridge";
  std::string state_dir;
  std::string socket_group;
  std::string log_level = "info";
  app.add_option("--socket-name", socket_name,
                 "Socket file name without .sock; daprd sees the component as pubsub.<NAME>")
      ->capture_default_str();
  app.add_option("--state-dir", state_dir,
                 "Folder for the bridge's state (default: $STATE_DIRECTORY or /var/lib/dapr-mqtt-bridge)");
  app.add_option("--socket-group", socket_group, "Group that may connect to the socket (mode 0660)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();
  app.set_version_flag("--version", std::string("dapr-mqtt-bridge ") + bridge::kVersion);
  CLI11_PARSE(app, argc, argv);

  if (!bridge::ConfigureLogging(log_level)) {
    std::cerr << "dapr-mqtt-bridge: --log-level: unknown level \"" << log_level << "\"\n";
    return 2;
  }
  const auto env = bridge::ProcessEnv();
  auto socket_path = bridge::SocketPath(bridge::ResolveSocketFolder(env), socket_name);
  if (!socket_path.ok()) {
    std::cerr << "dapr-mqtt-bridge: " << socket_path.error().message << "\n";
    return 2;
  }

  bridge::DaemonOptions options;
  options.socket_path = *socket_path;
  options.state_dir = bridge::ResolveStateDir(state_dir, env);
  options.socket_group = socket_group;

  auto make_client = [](const bridge::BridgeConfig& config,
                        const std::string& instance_dir) -> bridge::Result<std::unique_ptr<bridge::MqttClient>> {
    auto settings = bridge::MakeConnectionSettings(config, instance_dir);
    if (!settings.ok()) return settings.error();
    return bridge::MakePahoMqttClient(std::move(settings).value());
  };
  auto make_store = [](const bridge::BridgeConfig& config,
                       const std::string& instance_dir) -> bridge::Result<std::unique_ptr<bridge::MessageStore>> {
    if (config.durability == bridge::Durability::kMemory) {
      return std::unique_ptr<bridge::MessageStore>(std::make_unique<bridge::InMemoryStore>());
    }
    auto store = bridge::SqliteMessageStore::Open(instance_dir + "/inbox.db", config.durability);
    if (!store.ok()) return store.error();
    return std::unique_ptr<bridge::MessageStore>(std::move(store).value());
  };
  auto make_outbox_store = [](const bridge::BridgeConfig& config,
                              const std::string& instance_dir) -> bridge::Result<std::unique_ptr<bridge::OutboxStore>> {
    auto store = bridge::SqliteOutboxStore::Open(instance_dir + "/outbox.db", config.durability);
    if (!store.ok()) return store.error();
    return std::unique_ptr<bridge::OutboxStore>(std::move(store).value());
  };
  return bridge::Daemon(std::move(options), {make_client, make_store, make_outbox_store}).Run();
}
