#include "daemon/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

namespace bridge {
namespace {

template <typename T>
std::optional<T> ParsePositive(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  const char* end = text + std::strlen(text);
  T value{};
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::chrono::microseconds> ParseWatchdogInterval(const char* watchdog_usec,
                                                               const char* watchdog_pid, pid_t self) {
  auto usec = ParsePositive<std::uint64_t>(watchdog_usec);
  if (!usec) return std::nullopt;
  if (watchdog_pid != nullptr) {
    auto pid = ParsePositive<pid_t>(watchdog_pid);
    if (!pid || *pid != self) return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(*usec));
}

SystemdNotifier SystemdNotifier::FromEnvironment() {
  const char* notify_socket = std::getenv("NOTIFY_SOCKET");
  return SystemdNotifier(notify_socket ? notify_socket : "",
                         ParseWatchdogInterval(std::getenv("WATCHDOG_USEC"),
                                               std::getenv("WATCHDOG_PID"), getpid()));
}

SystemdNotifier::SystemdNotifier(std::string notify_socket,
                                 std::optional<std::chrono::microseconds> watchdog_interval)
    : socket_(std::move(notify_socket)), watchdog_interval_(watchdog_interval) {
  // Only absolute paths and abstract names are valid (as in sd_notify).
  if (!socket_.empty() && socket_[0] != '/' && socket_[0] != '@') socket_.clear();
}

bool SystemdNotifier::Notify(std::string_view state) const {
  if (!enabled()) return false;

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, socket_.data(), socket_.size());
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size());
  if (socket_[0] == '@') {
    address.sun_path[0] = '\0';  // abstract namespace: no terminator counted
  } else {
    length = static_cast<socklen_t>(length + 1);
  }

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t sent = -1;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

}  // namespace bridge
