#pragma once

#include <chrono>
#include <string>

#include "bridge/instance_registry.h"

namespace bridge {

struct DaemonOptions {
  std::string socket_path;   // <folder>/<name>.sock
  std::string state_dir;
  std::string socket_group;  // empty: keep the process's group
  std::chrono::milliseconds shutdown_grace{2000};
};

/// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread
/// started after it; the daemon then takes them synchronously. Call first
/// thing in main, before any library starts a thread.
void BlockTerminationSignals();

/// Wires the pieces together and owns the one stop signal.
///
/// Threads: the main thread waits for signals and pings the systemd
/// watchdog; gRPC's callback threads run the RPCs; Paho's single receive
/// thread delivers MQTT messages into the instances' inboxes; the timer
/// thread fires redeliveries and publish deadlines.
///
/// Shutdown: SIGTERM/SIGINT → the stop source ends every PullMessages stream
/// → gRPC Shutdown with a deadline → MQTT disconnect → socket removed → 0.
class Daemon {
 public:
  Daemon(DaemonOptions options, InstanceFactories factories);
  /// Serves until a termination signal. Returns the process exit code.
  int Run();

 private:
  DaemonOptions options_;
  InstanceFactories factories_;
};

}  // namespace bridge
