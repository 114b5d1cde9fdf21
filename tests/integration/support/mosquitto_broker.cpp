#include "mosquitto_broker.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "wait.h"

#ifndef BRIDGE_MOSQUITTO_PATH
#define BRIDGE_MOSQUITTO_PATH "mosquitto"
#endif

namespace bridge::testing {
namespace {

constexpr std::chrono::milliseconds kStartDeadline{10000};
constexpr std::chrono::milliseconds kStopDeadline{5000};

std::string CurrentUserName() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : "root";
}

}  // namespace

std::unique_ptr<MosquittoBroker> MosquittoBroker::Start(MosquittoOptions options) {
  std::unique_ptr<MosquittoBroker> broker(new MosquittoBroker(options));
  if (broker->dir_.path().empty()) {
    std::cerr << "MosquittoBroker: mkdtemp failed\n";
    return nullptr;
  }
  broker->port_ = FreeLoopbackPort();
  if (broker->port_ == 0) {
    std::cerr << "MosquittoBroker: no free port\n";
    return nullptr;
  }
  const std::string& dir = broker->dir_.path();
  std::ofstream config(dir + "/mosquitto.conf");
  config << "listener " << broker->port_ << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         // Run as whoever runs the tests: as root mosquitto would otherwise
         // switch to the `mosquitto` user and lose access to the temp dir.
         << "user " << CurrentUserName() << "\n"
         << "max_queued_messages " << options.max_queued_messages << "\n"
         << "persistence " << (options.persistence ? "true" : "false") << "\n"
         << "persistence_location " << dir << "/\n";
  if (options.verbose_log) {
    config << "log_dest file " << dir << "/mosquitto.log\n"
           << "log_type all\n";
  } else {
    config << "log_dest stderr\n";
  }
  config.close();
  if (!config) {
    std::cerr << "MosquittoBroker: cannot write config\n";
    return nullptr;
  }
  if (!broker->Launch()) return nullptr;
  return broker;
}

bool MosquittoBroker::Launch() {
  const std::string& dir = dir_.path();
  process_ = ChildProcess::Start({BRIDGE_MOSQUITTO_PATH, "-c", dir + "/mosquitto.conf"}, {},
                                 dir + "/process.log");
  if (!process_) {
    std::cerr << "MosquittoBroker: cannot spawn " << BRIDGE_MOSQUITTO_PATH << "\n";
    return false;
  }
  const bool accepting = WaitUntil(
      [this] { return !process_->Running() || LoopbackPortAccepts(port_); }, kStartDeadline);
  if (!accepting || !process_->Running()) {
    std::cerr << "MosquittoBroker: not accepting on port " << port_ << "\n" << ReadLog();
    process_.reset();
    return false;
  }
  return true;
}

MosquittoBroker::~MosquittoBroker() { Stop(); }

std::string MosquittoBroker::url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

void MosquittoBroker::Stop() {
  if (!process_) return;
  process_->Signal(SIGTERM);
  if (!process_->WaitExit(kStopDeadline)) {
    process_->Signal(SIGKILL);
    process_->WaitExit(kStopDeadline);
  }
  process_.reset();
}

bool MosquittoBroker::Restart() {
  Stop();
  return Launch();
}

std::string MosquittoBroker::ReadLog() const {
  return ReadFile(dir_.path() + "/mosquitto.log") + ReadFile(dir_.path() + "/process.log");
}

}  // namespace bridge::testing
