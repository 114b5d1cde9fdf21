#include "mqtt/connection_settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace bridge {
namespace {

Status WritePrivateFile(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("cannot write " + path + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);  // the file may have existed with wider permissions
  std::size_t written = 0;
  while (written < content.size()) {
    const auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      return Unavailable("cannot write " + path + ": " + reason);
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace

Result<MqttConnectionSettings> MakeConnectionSettings(const BridgeConfig& config, const std::string& instance_dir) {
  MqttConnectionSettings settings;
  settings.server_uri = config.broker_url;
  settings.client_id = config.client_id;
  settings.username = config.username;
  settings.password = config.password;
  settings.clean_session = config.clean_session;
  settings.keep_alive = std::chrono::duration_cast<std::chrono::seconds>(config.keep_alive);
  settings.max_in_flight_publishes = 65535;

  if (!config.UsesTls()) return settings;
  namespace fs = std::filesystem;
  const std::string tls_dir = instance_dir + "/tls";
  std::error_code ec;
  fs::create_directories(tls_dir, ec);
  if (ec) return Unavailable("cannot create " + tls_dir + ": " + ec.message());
  fs::permissions(tls_dir, fs::perms::owner_all, ec);

  const struct {
    const std::string& pem;
    const char* file;
    std::string MqttConnectionSettings::*target;
  } materials[] = {
      {config.tls.ca_cert, "ca.pem", &MqttConnectionSettings::ca_file},
      {config.tls.client_cert, "client-cert.pem", &MqttConnectionSettings::cert_file},
      {config.tls.client_key, "client-key.pem", &MqttConnectionSettings::key_file},
  };
  for (const auto& material : materials) {
    if (material.pem.empty()) continue;
    const std::string path = tls_dir + "/" + material.file;
    if (auto status = WritePrivateFile(path, material.pem); !status.ok()) return status.error();
    settings.*material.target = path;
  }
  return settings;
}

}  // namespace bridge
