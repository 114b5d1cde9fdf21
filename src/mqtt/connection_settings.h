#pragma once

#include <string>

#include "config/bridge_config.h"
#include "mqtt/paho_mqtt_client.h"
#include "util/result.h"

namespace bridge {

/// Turns an instance's config into Paho connection settings. Paho reads TLS
/// material only from files, so PEM text from the metadata is written to
/// `<instance_dir>/tls/` (folder 0700, files 0600) and referenced by path.
Result<MqttConnectionSettings> MakeConnectionSettings(const BridgeConfig& config, const std::string& instance_dir);

}  // namespace bridge
