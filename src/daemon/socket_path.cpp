#include "daemon/socket_path.h"

#include <sys/un.h>

#include <cstdlib>

namespace bridge {

EnvLookup ProcessEnv() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string ResolveSocketFolder(const EnvLookup& env) {
  for (const char* name : {"DAPR_COMPONENTS_SOCKETS_FOLDER", "DAPR_COMPONENT_SOCKETS_FOLDER"}) {
    if (auto value = env(name); value && !value->empty()) return *value;
  }
  return "/tmp/dapr-components-sockets";
}

Result<std::string> SocketPath(const std::string& folder, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return InvalidArgument("--socket-name must be a non-empty file name without '/', got \"" + name + "\"");
  }
  std::string path = folder;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  path += "/" + name + ".sock";
  constexpr std::size_t kMaxPath = sizeof(sockaddr_un{}.sun_path) - 1;  // room for the NUL
  if (path.size() > kMaxPath) {
    return InvalidArgument("socket path \"" + path + "\" is " + std::to_string(path.size()) +
                           " bytes; Unix sockets allow at most " + std::to_string(kMaxPath));
  }
  return path;
}

std::string ResolveStateDir(const std::string& flag_value, const EnvLookup& env) {
  if (!flag_value.empty()) return flag_value;
  if (auto value = env("STATE_DIRECTORY"); value && !value->empty()) {
    return value->substr(0, value->find(':'));  // systemd joins several with ':'
  }
  return "/var/lib/dapr-mqtt-bridge";
}

}  // namespace bridge
