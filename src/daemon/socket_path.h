#pragma once

#include <functional>
#include <optional>
#include <string>

#include "util/result.h"

namespace bridge {

/// Reads an environment variable; injectable so tests need no real env.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;
EnvLookup ProcessEnv();

/// The folder daprd scans for pluggable sockets: DAPR_COMPONENTS_SOCKETS_FOLDER
/// (daprd's own variable), then DAPR_COMPONENT_SOCKETS_FOLDER (the Go SDK's),
/// then /tmp/dapr-components-sockets.
std::string ResolveSocketFolder(const EnvLookup& env);

/// `<folder>/<name>.sock`, checked against what daprd and Linux accept: the
/// name must be non-empty without '/', and the path must fit sun_path.
Result<std::string> SocketPath(const std::string& folder, const std::string& name);

/// The state folder: --state-dir, else $STATE_DIRECTORY (set by systemd's
/// StateDirectory=, first entry if several), else /var/lib/dapr-mqtt-bridge.
std::string ResolveStateDir(const std::string& flag_value, const EnvLookup& env);

}  // namespace bridge
