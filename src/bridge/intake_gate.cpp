#include "bridge/intake_gate.h"

#include "util/logging.h"

namespace bridge {

IntakeGate::IntakeGate(Bounds bounds, MqttClient& client, std::chrono::milliseconds connect_timeout,
                       std::string instance)
    : bounds_(bounds),
      client_(client),
      connect_timeout_(connect_timeout),
      instance_(std::move(instance)),
      worker_([this](std::stop_token stop) { Run(stop); }) {}

IntakeGate::~IntakeGate() { Stop(); }

void IntakeGate::Stop() {
  worker_.request_stop();
  changed_.notify_all();
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

void IntakeGate::Update(std::size_t pending_messages, std::size_t pending_bytes) {
  std::lock_guard lock(mutex_);
  const bool over = pending_messages >= bounds_.max_messages || pending_bytes >= bounds_.max_bytes;
  const bool drained =
      pending_messages <= bounds_.max_messages / 10 * 9 && pending_bytes <= bounds_.max_bytes / 10 * 9;
  // Hysteresis: close at the bound, open again only at 90 %.
  const bool want = want_closed_ ? !drained : over;
  if (want == want_closed_) return;
  want_closed_ = want;
  changed_.notify_all();
}

void IntakeGate::Run(std::stop_token stop) {
  auto log = Logger("mqtt");
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    changed_.wait(lock, stop, [this] { return want_closed_ != closed_; });
    if (stop.stop_requested()) return;
    const bool close = want_closed_;
    lock.unlock();
    bool done = true;
    if (close) {
      log->warn("event=intake_paused instance=\"{}\" reason=\"maxPendingMessages or maxPendingBytes reached\"",
                instance_);
      client_.Disconnect(std::chrono::milliseconds(1000));
    } else {
      const auto status = client_.Connect(connect_timeout_);
      done = status.ok();
      if (done) {
        log->info("event=intake_resumed instance=\"{}\"", instance_);
      } else {
        log->warn("event=intake_resume_failed instance=\"{}\" error=\"{}\"", instance_, status.error().message);
      }
    }
    lock.lock();
    if (done) {
      closed_ = close;
    } else {
      // Try again in a second unless told to stop or to stay closed.
      changed_.wait_for(lock, stop, std::chrono::seconds(1), [this] { return want_closed_; });
    }
  }
}

}  // namespace bridge
