#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bridge::testing {

/// A child started with posix_spawnp, its stdout and stderr appended to one
/// log file. The destructor SIGKILLs and reaps it if it is still running, so a
/// failing test never leaves a process behind. Not thread-safe.
class ChildProcess {
 public:
  /// argv[0] is looked up in PATH unless it contains a '/'. `extra_env` is
  /// added to (and overrides) the test's environment. nullptr on failure.
  static std::unique_ptr<ChildProcess> Start(const std::vector<std::string>& argv,
                                             const std::map<std::string, std::string>& extra_env,
                                             const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// False if the process has already been reaped or kill() fails.
  bool Signal(int sig);
  /// Exit code, or 128+signal; nullopt if still running at the deadline.
  std::optional<int> WaitExit(std::chrono::milliseconds deadline);
  bool Running();
  std::string ReadLog() const;

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  bool Reap(bool block);

  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

/// Reads a whole file; empty if missing.
std::string ReadFile(const std::string& path);

}  // namespace bridge::testing
