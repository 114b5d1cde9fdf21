#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "child_process.h"
#include "temp_dir.h"

namespace bridge::testing {

struct MosquittoOptions {
  bool persistence = false;
  // `log_type all` into a log file, which includes one "Received PUBACK from
  // <client id>" line per inbound PUBACK.
  bool verbose_log = false;
  // mosquitto's default of 1000 silently drops QoS1 messages for a slow or
  // offline subscriber; tests that push more must not hit it.
  int max_queued_messages = 100000;
};

/// A private mosquitto (BRIDGE_MOSQUITTO_PATH) on a free 127.0.0.1 port, with
/// its own config, log and persistence in a temp dir. Anonymous access.
/// Not thread-safe; the destructor stops the broker.
class MosquittoBroker {
 public:
  /// Waits (up to 10 s) until the broker accepts TCP connections. nullptr on
  /// failure (the reason and the broker's log go to stderr).
  static std::unique_ptr<MosquittoBroker> Start(MosquittoOptions options = {});
  ~MosquittoBroker();
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // "tcp://127.0.0.1:<port>"
  /// SIGTERM, wait up to 5 s, then SIGKILL. Safe to call twice.
  void Stop();
  /// Stop, then start again on the same port with the same persistence dir;
  /// waits until it accepts connections.
  bool Restart();
  /// The verbose log file (if any) followed by the process's stdout/stderr.
  std::string ReadLog() const;
  const std::string& dir() const { return dir_.path(); }

 private:
  explicit MosquittoBroker(MosquittoOptions options) : options_(options) {}
  bool Launch();

  MosquittoOptions options_;
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace bridge::testing
