#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bridge {

/// The sd_notify(3) datagram protocol, without libsystemd: each call sends one
/// datagram ("READY=1", "STOPPING=1", "WATCHDOG=1", ...) to the AF_UNIX socket
/// named by NOTIFY_SOCKET. A path starting with '@' names an abstract socket.
///
/// When NOTIFY_SOCKET is unset (not under systemd, or not Type=notify) the
/// notifier is disabled and every call is a no-op. Failures to send are
/// reported by Notify() and otherwise ignored: the service must keep running
/// even if the manager went away.
///
/// Thread-safety: immutable after construction; every call opens, uses and
/// closes its own socket, so any thread may call any method concurrently
/// (the watchdog pinger usually runs on its own thread).
class SystemdNotifier {
 public:
  /// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. Does not unset them.
  static SystemdNotifier FromEnvironment();

  /// A notifier for an explicit socket ("" disables it) and watchdog interval.
  explicit SystemdNotifier(std::string notify_socket,
                           std::optional<std::chrono::microseconds> watchdog_interval = std::nullopt);

  bool enabled() const { return !socket_.empty(); }
  const std::string& socket() const { return socket_; }

  void Ready() { Notify("READY=1"); }
  void Stopping() { Notify("STOPPING=1"); }
  void Watchdog() { Notify("WATCHDOG=1"); }

  /// Sends `state` as one datagram (newline-separated assignments).
  /// Returns true if it was sent, false if disabled or on error.
  bool Notify(std::string_view state) const;

  /// WatchdogSec= as seen by this process: the manager expects WATCHDOG=1 at
  /// least this often (ping at half of it). Empty when no watchdog is set or
  /// the watchdog is meant for another process (WATCHDOG_PID).
  std::optional<std::chrono::microseconds> WatchdogInterval() const { return watchdog_interval_; }

 private:
  std::string socket_;
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

/// Pure parsing of WATCHDOG_USEC / WATCHDOG_PID (either may be null), as
/// sd_watchdog_enabled(3) does: a positive integer interval, and if a PID is
/// given it must be `self`.
std::optional<std::chrono::microseconds> ParseWatchdogInterval(const char* watchdog_usec,
                                                               const char* watchdog_pid, pid_t self);

}  // namespace bridge
