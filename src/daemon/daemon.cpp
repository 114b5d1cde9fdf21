#include "daemon/daemon.h"

#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stop_token>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>

#include "daemon/systemd_notify.h"
#include "grpc/pubsub_service.h"
#include "util/logging.h"
#include "util/timer_queue.h"

namespace bridge {
namespace {

// A Publish carries daprd's CloudEvent envelope around a body of up to
// --max-body-size (4 MiB by default), base64-inflated for binary data.
constexpr int kMaxReceiveBytes = 16 * 1024 * 1024;

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

Status PrepareSocketFolder(const std::string& socket_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto folder = fs::path(socket_path).parent_path();
  fs::create_directories(folder, ec);
  if (ec) return Unavailable("cannot create socket folder " + folder.string() + ": " + ec.message());
  // A stale socket with nothing listening would stall daprd's discovery.
  if (fs::is_socket(fs::symlink_status(socket_path, ec))) {
    fs::remove(socket_path, ec);
    if (ec) return Unavailable("cannot remove stale socket " + socket_path + ": " + ec.message());
  } else if (fs::exists(fs::symlink_status(socket_path, ec))) {
    return FailedPrecondition(socket_path + " exists and is not a socket; refusing to replace it");
  }
  return Status::Ok();
}

Status RestrictSocket(const std::string& socket_path, const std::string& group) {
  // 0660: daprd must be able to connect, nobody else. The Go SDK makes its
  // socket world-writable; we do not.
  if (!group.empty()) {
    errno = 0;
    const struct group* entry = getgrnam(group.c_str());
    if (entry == nullptr) return InvalidArgument("--socket-group: no such group \"" + group + "\"");
    if (chown(socket_path.c_str(), static_cast<uid_t>(-1), entry->gr_gid) != 0) {
      return Unavailable("cannot give " + socket_path + " to group " + group + ": " + std::strerror(errno));
    }
  }
  if (chmod(socket_path.c_str(), 0660) != 0) {
    return Unavailable("cannot chmod " + socket_path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Daemon::Daemon(DaemonOptions options, InstanceFactories factories)
    : options_(std::move(options)), factories_(std::move(factories)) {}

int Daemon::Run() {
  auto log = Logger("daemon");
  auto notifier = SystemdNotifier::FromEnvironment();

  if (auto status = PrepareSocketFolder(options_.socket_path); !status.ok()) {
    log->critical("event=startup_failed reason=\"{}\"", status.error().message);
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) {
    log->critical("event=startup_failed reason=\"cannot create state dir {}: {}\"", options_.state_dir, ec.message());
    return 1;
  }

  std::stop_source stop;
  TimerQueue timers;
  InstanceRegistry registry(options_.state_dir, factories_, timers);
  PubSubService service(registry, timers, stop.get_token());

  // Referencing the plugin's initialiser makes sure reflection is linked in
  // and registered: daprd discovers the component only through it.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + options_.socket_path, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    log->critical("event=startup_failed reason=\"cannot listen on unix:{}\"", options_.socket_path);
    return 1;
  }
  if (auto status = RestrictSocket(options_.socket_path, options_.socket_group); !status.ok()) {
    log->critical("event=startup_failed reason=\"{}\"", status.error().message);
    server->Shutdown();
    std::filesystem::remove(options_.socket_path, ec);
    return 1;
  }
  log->info("event=listening socket={} state_dir={}", options_.socket_path, options_.state_dir);
  notifier.Ready();

  // Wait for SIGTERM/SIGINT, waking up to feed the watchdog if there is one.
  const sigset_t signals = TerminationSignals();
  const auto watchdog = notifier.WatchdogInterval();
  const auto tick = watchdog ? *watchdog / 2 : std::chrono::microseconds(std::chrono::seconds(3600));
  int signal_number = -1;
  while (signal_number < 0) {
    timespec timeout{};
    timeout.tv_sec = static_cast<time_t>(tick.count() / 1000000);
    timeout.tv_nsec = static_cast<long>((tick.count() % 1000000) * 1000);
    signal_number = sigtimedwait(&signals, nullptr, &timeout);
    if (signal_number < 0 && watchdog) notifier.Watchdog();
  }
  log->info("event=stopping signal={}", strsignal(signal_number));
  notifier.Stopping();

  stop.request_stop();  // ends every PullMessages stream
  server->Shutdown(std::chrono::system_clock::now() + options_.shutdown_grace);
  registry.ShutdownAll();
  std::filesystem::remove(options_.socket_path, ec);
  log->info("event=stopped");
  return 0;
}

}  // namespace bridge
