#include "daemon/systemd_notify.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace bridge {
namespace {

using std::chrono::microseconds;

/// The manager's end: a bound AF_UNIX datagram socket, at a path in a fresh
/// temporary directory or, when `abstract`, at a unique abstract name.
class FakeManagerSocket {
 public:
  explicit FakeManagerSocket(bool abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    timeval timeout{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socklen_t length = 0;
    if (abstract) {
      name_ = "@dapr-mqtt-bridge-test-" + std::to_string(::getpid()) + "-" + std::to_string(fd_);
      std::memcpy(address.sun_path, name_.data(), name_.size());
      address.sun_path[0] = '\0';
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    } else {
      std::string pattern = (std::filesystem::temp_directory_path() / "notify-XXXXXX").string();
      EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      name_ = (dir_ / "notify.sock").string();
      std::memcpy(address.sun_path, name_.c_str(), name_.size() + 1);
      length = static_cast<socklen_t>(sizeof(address));
    }
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length), 0) << std::strerror(errno);
  }
  ~FakeManagerSocket() {
    ::close(fd_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  FakeManagerSocket(const FakeManagerSocket&) = delete;
  FakeManagerSocket& operator=(const FakeManagerSocket&) = delete;

  const std::string& name() const { return name_; }

  /// The next datagram, or nullopt after a 2 s timeout.
  std::optional<std::string> Receive() {
    std::array<char, 4096> buffer{};
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer.data(), static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  std::filesystem::path dir_;
  std::string name_;
};

class SystemdNotifierSocketTest : public ::testing::TestWithParam<bool> {};

TEST_P(SystemdNotifierSocketTest, SendsReadyStoppingAndWatchdogDatagrams) {
  FakeManagerSocket manager(GetParam());
  SystemdNotifier notifier(manager.name());
  ASSERT_TRUE(notifier.enabled());

  notifier.Ready();
  EXPECT_EQ(manager.Receive(), "READY=1");
  notifier.Watchdog();
  EXPECT_EQ(manager.Receive(), "WATCHDOG=1");
  notifier.Stopping();
  EXPECT_EQ(manager.Receive(), "STOPPING=1");
  EXPECT_TRUE(notifier.Notify("STATUS=listening\nMAINPID=1"));
  EXPECT_EQ(manager.Receive(), "STATUS=listening\nMAINPID=1");
}

std::string SocketKindName(const ::testing::TestParamInfo<bool>& param_info) {
  return param_info.param ? "Abstract" : "Path";
}

INSTANTIATE_TEST_SUITE_P(PathAndAbstract, SystemdNotifierSocketTest, ::testing::Values(false, true),
                         SocketKindName);

TEST(SystemdNotifierTest, IsDisabledWithoutSocketAndSendsNothing) {
  SystemdNotifier notifier("");
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.Notify("READY=1"));
  notifier.Ready();  // must not crash or throw
  EXPECT_FALSE(notifier.WatchdogInterval().has_value());
}

TEST(SystemdNotifierTest, IgnoresRelativeSocketPath) {
  EXPECT_FALSE(SystemdNotifier("relative/notify.sock").enabled());
}

TEST(SystemdNotifierTest, ReportsFailureWhenNobodyListens) {
  SystemdNotifier notifier("/nonexistent-dir-for-bridge-test/notify.sock");
  EXPECT_TRUE(notifier.enabled());
  EXPECT_FALSE(notifier.Notify("READY=1"));
}

TEST(SystemdNotifierTest, ReadsSocketAndWatchdogFromEnvironment) {
  FakeManagerSocket manager(false);
  ::setenv("NOTIFY_SOCKET", manager.name().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  auto notifier = SystemdNotifier::FromEnvironment();
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");

  EXPECT_EQ(notifier.socket(), manager.name());
  EXPECT_EQ(notifier.WatchdogInterval(), microseconds(30'000'000));
  notifier.Ready();
  EXPECT_EQ(manager.Receive(), "READY=1");
}

TEST(WatchdogIntervalTest, ParsesMicrosecondsWithoutPid) {
  EXPECT_EQ(ParseWatchdogInterval("15000000", nullptr, 42), microseconds(15'000'000));
}

TEST(WatchdogIntervalTest, AcceptsOwnPidOnly) {
  EXPECT_EQ(ParseWatchdogInterval("1000", "42", 42), microseconds(1000));
  EXPECT_FALSE(ParseWatchdogInterval("1000", "43", 42).has_value());
  EXPECT_FALSE(ParseWatchdogInterval("1000", "not-a-pid", 42).has_value());
}

TEST(WatchdogIntervalTest, RejectsMissingZeroAndGarbage) {
  EXPECT_FALSE(ParseWatchdogInterval(nullptr, nullptr, 42).has_value());
  EXPECT_FALSE(ParseWatchdogInterval("", nullptr, 42).has_value());
  EXPECT_FALSE(ParseWatchdogInterval("0", nullptr, 42).has_value());
  EXPECT_FALSE(ParseWatchdogInterval("-5", nullptr, 42).has_value());
  EXPECT_FALSE(ParseWatchdogInterval("12s", nullptr, 42).has_value());
}

}  // namespace
}  // namespace bridge
