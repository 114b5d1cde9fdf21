// The only file in the project that includes Paho headers. No Paho exception
// leaves it: every call into Paho is wrapped and mapped to a Status.

#include "mqtt/paho_mqtt_client.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stop_token>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <mqtt/async_client.h>

#include "util/logging.h"

namespace bridge {
namespace {

// Removes "user:password@" from a URI, in case a caller put credentials there.
std::string RedactUri(const std::string& uri) {
  const auto scheme_end = uri.find("://");
  const auto authority_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto at = uri.find('@', authority_start);
  const auto slash = uri.find('/', authority_start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return uri;
  return uri.substr(0, authority_start) + "***@" + uri.substr(at + 1);
}

// Maps a Paho return code from a synchronous call or a failed token.
Error MapPahoCode(int rc, std::string message) {
  switch (rc) {
    case MQTTASYNC_BAD_UTF8_STRING:
    case MQTTASYNC_NULL_PARAMETER:
    case MQTTASYNC_TOPICNAME_TRUNCATED:
    case MQTTASYNC_BAD_STRUCTURE:
    case MQTTASYNC_BAD_QOS:
    case MQTTASYNC_BAD_PROTOCOL:
    case MQTTASYNC_BAD_MQTT_OPTION:
    case MQTTASYNC_WRONG_MQTT_VERSION:
    case MQTTASYNC_0_LEN_WILL_TOPIC:
      return InvalidArgument(std::move(message));
    case MQTTASYNC_MAX_MESSAGES_INFLIGHT:
    case MQTTASYNC_NO_MORE_MSGIDS:
    case MQTTASYNC_MAX_BUFFERED_MESSAGES:
    case MQTTASYNC_MAX_BUFFERED:
      return ResourceExhausted(std::move(message));
    default:
      // Disconnected, TCP/TLS failure, CONNACK refusal, and anything else: the
      // broker is not usable right now.
      return Unavailable(std::move(message));
  }
}

Error MapException(const mqtt::exception& e, std::string_view what, const std::string& uri) {
  std::string message = std::string(what) + " broker=" + RedactUri(uri) + ": " + e.what();
  if (dynamic_cast<const mqtt::timeout_error*>(&e) != nullptr) return DeadlineExceeded(std::move(message));
  return MapPahoCode(e.get_return_code(), std::move(message));
}

std::string TokenError(const mqtt::token& tok) {
  std::string text = "rc=" + std::to_string(tok.get_return_code());
  // Paho C++ 1.2 keeps the C library's failure text private; the code's
  // description is the best available.
  text += " " + mqtt::exception::error_str(tok.get_return_code());
  if (tok.get_reason_code() != mqtt::ReasonCode::SUCCESS) {
    text += " reason=" + std::to_string(static_cast<int>(tok.get_reason_code()));
  }
  return text;
}

constexpr std::chrono::milliseconds kMinReconnectTimeout{10000};

int CeilSeconds(std::chrono::milliseconds ms) {
  const auto s = std::chrono::ceil<std::chrono::seconds>(ms).count();
  return static_cast<int>(std::clamp<std::chrono::seconds::rep>(s, 1, 3600));
}

class PahoMqttClient;

/// One publish or subscribe in flight. Paho keeps a raw pointer to it, so the
/// client owns it until Paho has called back (or Paho itself is destroyed).
/// `done` is separate from the object's lifetime: Disconnect may fail the
/// operation early while the object must stay alive for Paho.
class OpListener final : public mqtt::iaction_listener {
 public:
  enum class Kind { kPublish, kSubscribe, kUnsubscribe };
  OpListener(PahoMqttClient* owner, Kind kind, std::string target, std::function<void(Status)> done)
      : owner_(owner), kind_(kind), target_(std::move(target)), done_(std::move(done)) {}

  void on_success(const mqtt::token& tok) override;
  void on_failure(const mqtt::token& tok) override;

  /// Returns the callback the first time, an empty function afterwards.
  std::function<void(Status)> TakeDone() {
    std::lock_guard lock(mu_);
    return std::exchange(done_, nullptr);
  }
  const std::string& target() const { return target_; }

 private:
  PahoMqttClient* owner_;
  Kind kind_;
  std::string target_;
  std::mutex mu_;
  std::function<void(Status)> done_;
};

class PahoMqttClient final : public MqttClient {
 public:
  PahoMqttClient(MqttConnectionSettings settings, std::unique_ptr<mqtt::async_client> client)
      : settings_(std::move(settings)), log_(Logger("mqtt")), client_(std::move(client)) {
    client_->set_message_callback([this](mqtt::const_message_ptr msg) { OnMessage(msg); });
    client_->set_connected_handler([this](const std::string& cause) { OnConnected(cause); });
    client_->set_connection_lost_handler([this](const std::string& cause) { OnConnectionLost(cause); });
  }

  ~PahoMqttClient() override {
    try {
      Disconnect(std::chrono::milliseconds(1000));
    } catch (...) {  // Disconnect does not throw; belt and braces for a destructor.
    }
    // Destroying the Paho client stops every callback; only then may the
    // listeners Paho still points to be freed.
    client_.reset();
    std::unordered_map<OpListener*, std::unique_ptr<OpListener>> ops;
    {
      std::lock_guard lock(ops_mu_);
      ops.swap(ops_);
    }
    for (auto& [raw, op] : ops) {
      CallDone(op->TakeDone(), Cancelled("mqtt client destroyed before the broker answered"));
    }
  }

  void SetMessageHandler(MessageHandler handler) override {
    auto shared = std::make_shared<const MessageHandler>(std::move(handler));
    std::lock_guard lock(handlers_mu_);
    message_handler_ = std::move(shared);
  }

  void SetConnectionHandler(ConnectionHandler handler) override {
    auto shared = std::make_shared<const ConnectionHandler>(std::move(handler));
    std::lock_guard lock(handlers_mu_);
    connection_handler_ = std::move(shared);
  }

  Status Connect(std::chrono::milliseconds timeout) override;
  void Publish(MqttPublish message, PublishDone done) override;
  void Subscribe(const std::string& filter, int qos, SubscribeDone done) override;
  void Unsubscribe(const std::string& filter) override;
  bool IsConnected() const override {
    try {
      return client_ && client_->is_connected();
    } catch (...) {
      return false;
    }
  }
  void Disconnect(std::chrono::milliseconds timeout) override;

  /// Called by a listener from Paho's thread, exactly once per listener.
  void Complete(OpListener* op, Status status) {
    std::unique_ptr<OpListener> owned;
    {
      std::lock_guard lock(ops_mu_);
      auto it = ops_.find(op);
      if (it != ops_.end()) {
        owned = std::move(it->second);
        ops_.erase(it);
      }
    }
    // `op` may be the caller; it is freed when `owned` goes out of scope, and
    // Paho's token no longer touches the listener after its callback returns.
    CallDone(op->TakeDone(), std::move(status));
  }

  const std::shared_ptr<spdlog::logger>& log() const { return log_; }

 private:
  void CallDone(std::function<void(Status)> done, Status status) {
    if (!done) return;
    try {
      done(std::move(status));
    } catch (const std::exception& e) {
      log_->error("event=done_callback_threw error=\"{}\"", e.what());
    } catch (...) {
      log_->error("event=done_callback_threw error=unknown");
    }
  }

  OpListener* Register(OpListener::Kind kind, std::string target, std::function<void(Status)> done) {
    auto op = std::make_unique<OpListener>(this, kind, std::move(target), std::move(done));
    OpListener* raw = op.get();
    std::lock_guard lock(ops_mu_);
    ops_.emplace(raw, std::move(op));
    return raw;
  }

  mqtt::connect_options BuildConnectOptions(std::chrono::milliseconds timeout) const;
  void OnMessage(const mqtt::const_message_ptr& msg);
  void OnConnected(const std::string& cause);
  void OnConnectionLost(const std::string& cause);
  void NotifyConnection(bool connected);
  void ReconnectLoop(std::stop_token stop);
  bool TryReconnect(const std::stop_token& stop);
  bool WaitToken(const mqtt::token_ptr& tok, std::chrono::milliseconds timeout, Status* status);

  const MqttConnectionSettings settings_;
  const std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<mqtt::async_client> client_;

  std::mutex handlers_mu_;
  std::shared_ptr<const MessageHandler> message_handler_;
  std::shared_ptr<const ConnectionHandler> connection_handler_;

  std::mutex ops_mu_;
  std::unordered_map<OpListener*, std::unique_ptr<OpListener>> ops_;

  // Serialises Connect and Disconnect with each other (not with publishes).
  std::mutex lifecycle_mu_;
  mqtt::token_ptr pending_connect_;  // a connect that outlived its Connect() call
  // Also read by the reconnect thread.
  std::atomic<std::chrono::milliseconds::rep> connect_timeout_ms_{5000};

  // Reconnect loop state.
  std::mutex reconnect_mu_;
  std::condition_variable_any reconnect_cv_;
  bool reconnect_needed_ = false;
  std::atomic<bool> want_connected_{false};
  std::jthread reconnect_thread_;
};

void OpListener::on_success(const mqtt::token& tok) {
  Status status;
  if (kind_ == Kind::kSubscribe) {
    // MQTT 3.1.1 reports a refused subscription as granted QoS 0x80 in a
    // successful SUBACK; Paho C usually turns that into on_failure, but check.
    try {
      const mqtt::subscribe_response response = tok.get_subscribe_response();
      for (auto code : response.get_reason_codes()) {
        if (static_cast<int>(code) >= MQTT_BAD_SUBSCRIBE) {
          status = Unavailable("broker refused subscription filter=" + target_ +
                               " code=" + std::to_string(static_cast<int>(code)));
        }
      }
    } catch (...) {  // no response data: nothing more to check
    }
  }
  owner_->Complete(this, std::move(status));
}

void OpListener::on_failure(const mqtt::token& tok) {
  const std::string what = kind_ == Kind::kPublish     ? "publish"
                           : kind_ == Kind::kSubscribe ? "subscribe"
                                                       : "unsubscribe";
  std::string message = what + " failed topic=" + target_ + " " + TokenError(tok);
  Error error = MapPahoCode(tok.get_return_code(), std::move(message));
  if (kind_ == Kind::kSubscribe && tok.get_return_code() == MQTT_BAD_SUBSCRIBE) {
    error = Unavailable("broker refused subscription filter=" + target_ + " code=128");
  }
  owner_->Complete(this, std::move(error));
}

mqtt::connect_options PahoMqttClient::BuildConnectOptions(std::chrono::milliseconds timeout) const {
  mqtt::connect_options opts;
  opts.set_mqtt_version(MQTTVERSION_3_1_1);
  opts.set_clean_session(settings_.clean_session);
  opts.set_keep_alive_interval(settings_.keep_alive);
  // Paho's own timeout is whole seconds; ours is enforced by waiting on the token.
  opts.set_connect_timeout(CeilSeconds(timeout));
  // Reconnect is our loop (ReconnectLoop): Paho's is in whole seconds and keeps
  // retrying in the background in ways Disconnect() cannot fully control.
  opts.set_automatic_reconnect(false);
  opts.set_max_inflight(std::max(settings_.max_in_flight_publishes, 10));
  if (!settings_.username.empty()) opts.set_user_name(settings_.username);
  if (!settings_.password.empty()) opts.set_password(settings_.password);
  const bool tls = settings_.server_uri.starts_with("ssl://") || !settings_.ca_file.empty() ||
                   !settings_.cert_file.empty() || !settings_.key_file.empty();
  if (tls) {
    mqtt::ssl_options ssl;
    if (!settings_.ca_file.empty()) ssl.set_trust_store(settings_.ca_file);
    if (!settings_.cert_file.empty()) ssl.set_key_store(settings_.cert_file);
    if (!settings_.key_file.empty()) ssl.set_private_key(settings_.key_file);
    auto log = log_;
    ssl.set_error_handler([log](const std::string& err) { log->warn("event=tls_error error=\"{}\"", err); });
    opts.set_ssl(std::move(ssl));
  }
  return opts;
}

bool PahoMqttClient::WaitToken(const mqtt::token_ptr& tok, std::chrono::milliseconds timeout, Status* status) {
  try {
    if (!tok->wait_for(timeout)) return false;
    *status = Status::Ok();
  } catch (const mqtt::exception& e) {
    *status = MapException(e, "connect", settings_.server_uri);
  } catch (const std::exception& e) {
    *status = Internal("connect broker=" + RedactUri(settings_.server_uri) + ": " + e.what());
  }
  return true;
}

Status PahoMqttClient::Connect(std::chrono::milliseconds timeout) {
  std::lock_guard lifecycle(lifecycle_mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string uri = RedactUri(settings_.server_uri);
  if (IsConnected()) return Status::Ok();

  // A connect that timed out earlier is still running inside Paho (it ends at
  // Paho's own whole-second timeout). Starting another one now would be
  // refused, so let it finish first, within this call's budget.
  if (pending_connect_) {
    Status previous;
    if (!WaitToken(pending_connect_, timeout, &previous)) {
      return DeadlineExceeded("connect broker=" + uri + ": previous attempt still in progress");
    }
    pending_connect_.reset();
    if (previous.ok()) {
      want_connected_ = true;
      if (!reconnect_thread_.joinable()) {
        reconnect_thread_ = std::jthread([this](std::stop_token stop) { ReconnectLoop(std::move(stop)); });
      }
      return previous;
    }
  }

  connect_timeout_ms_ = timeout.count();
  mqtt::token_ptr tok;
  try {
    tok = client_->connect(BuildConnectOptions(timeout));
  } catch (const mqtt::exception& e) {
    return MapException(e, "connect", settings_.server_uri);
  } catch (const std::exception& e) {
    return Internal("connect broker=" + uri + ": " + e.what());
  }

  const auto remaining = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now()),
                                  std::chrono::milliseconds(0));
  Status status;
  if (!WaitToken(tok, remaining, &status)) {
    pending_connect_ = tok;
    log_->warn("event=connect_timeout broker={} timeout_ms={}", uri, timeout.count());
    return DeadlineExceeded("connect broker=" + uri + ": no CONNACK within " +
                            std::to_string(timeout.count()) + " ms");
  }
  if (!status.ok()) {
    log_->warn("event=connect_failed broker={} error=\"{}\"", uri, status.error().message);
    return status;
  }
  log_->info("event=connected broker={} client_id={}", uri, settings_.client_id);
  want_connected_ = true;
  if (!reconnect_thread_.joinable()) {
    reconnect_thread_ = std::jthread([this](std::stop_token stop) { ReconnectLoop(std::move(stop)); });
  }
  return Status::Ok();
}

void PahoMqttClient::Publish(MqttPublish message, PublishDone done) {
  OpListener* op = Register(OpListener::Kind::kPublish, message.topic, std::move(done));
  try {
    auto msg = mqtt::make_message(message.topic, mqtt::binary_ref(std::move(message.payload)),
                                  message.qos, message.retain);
    client_->publish(msg, nullptr, *op);
    // Paho owns the listener pointer from here; the token need not be kept.
  } catch (const mqtt::exception& e) {
    // Paho did not keep the listener: a synchronous failure never calls back.
    Complete(op, MapException(e, "publish topic=" + message.topic, settings_.server_uri));
  } catch (const std::exception& e) {
    Complete(op, Internal("publish topic=" + message.topic + ": " + e.what()));
  }
}

void PahoMqttClient::Subscribe(const std::string& filter, int qos, SubscribeDone done) {
  OpListener* op = Register(OpListener::Kind::kSubscribe, filter, std::move(done));
  try {
    client_->subscribe(filter, qos, nullptr, *op);
  } catch (const mqtt::exception& e) {
    Complete(op, MapException(e, "subscribe filter=" + filter, settings_.server_uri));
  } catch (const std::exception& e) {
    Complete(op, Internal("subscribe filter=" + filter + ": " + e.what()));
  }
}

void PahoMqttClient::Unsubscribe(const std::string& filter) {
  // Fire and forget: nobody waits for the UNSUBACK, a failure is only logged.
  auto log = log_;
  OpListener* op = Register(OpListener::Kind::kUnsubscribe, filter, [log, filter](Status status) {
    if (!status.ok()) log->warn("event=unsubscribe_failed filter={} error=\"{}\"", filter, status.error().message);
  });
  try {
    client_->unsubscribe(filter, nullptr, *op);
  } catch (const mqtt::exception& e) {
    Complete(op, MapException(e, "unsubscribe filter=" + filter, settings_.server_uri));
  } catch (const std::exception& e) {
    Complete(op, Internal("unsubscribe filter=" + filter + ": " + e.what()));
  }
}

void PahoMqttClient::Disconnect(std::chrono::milliseconds timeout) {
  std::lock_guard lifecycle(lifecycle_mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  want_connected_ = false;
  if (reconnect_thread_.joinable()) {
    reconnect_thread_.request_stop();
    reconnect_cv_.notify_all();
    // TryReconnect polls its stop token every 50 ms, so this join is short.
    reconnect_thread_.join();
  }
  {
    std::lock_guard lock(reconnect_mu_);
    reconnect_needed_ = false;
  }
  if (!client_) return;

  try {
    // Disconnect also when "not connected": a connect may be in progress.
    const auto remaining = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now()),
                                    std::chrono::milliseconds(0));
    auto tok = client_->disconnect(static_cast<int>(remaining.count()));
    if (!tok->wait_for(remaining + std::chrono::milliseconds(100))) {
      log_->warn("event=disconnect_timeout broker={}", RedactUri(settings_.server_uri));
    } else {
      log_->info("event=disconnected broker={}", RedactUri(settings_.server_uri));
    }
  } catch (const mqtt::exception& e) {
    // MQTTASYNC_DISCONNECTED (-3) when already disconnected: harmless.
    if (e.get_return_code() != MQTTASYNC_DISCONNECTED) {
      log_->warn("event=disconnect_failed broker={} error=\"{}\"", RedactUri(settings_.server_uri), e.what());
    }
  } catch (const std::exception& e) {
    log_->warn("event=disconnect_failed broker={} error=\"{}\"", RedactUri(settings_.server_uri), e.what());
  }

  // Publishes and subscribes still waiting will not get an answer from this
  // session; fail them now. The listener objects stay alive for Paho.
  std::vector<std::function<void(Status)>> dones;
  {
    std::lock_guard lock(ops_mu_);
    for (auto& [raw, op] : ops_) {
      if (auto done = op->TakeDone()) dones.push_back(std::move(done));
    }
  }
  for (auto& done : dones) CallDone(std::move(done), Unavailable("mqtt client disconnected"));
}

void PahoMqttClient::OnMessage(const mqtt::const_message_ptr& msg) {
  std::shared_ptr<const MessageHandler> handler;
  {
    std::lock_guard lock(handlers_mu_);
    handler = message_handler_;
  }
  if (!msg) return;
  if (!handler || !*handler) {
    log_->warn("event=message_without_handler topic={}", msg->get_topic());
    return;
  }
  try {
    MqttMessage out;
    out.topic = msg->get_topic();
    out.payload = msg->get_payload();
    out.qos = msg->get_qos();
    out.retained = msg->is_retained();
    out.duplicate = msg->is_duplicate();
    (*handler)(std::move(out));
  } catch (const std::exception& e) {
    log_->error("event=message_handler_threw topic={} error=\"{}\"", msg->get_topic(), e.what());
  } catch (...) {
    log_->error("event=message_handler_threw topic={} error=unknown", msg->get_topic());
  }
}

void PahoMqttClient::NotifyConnection(bool connected) {
  std::shared_ptr<const ConnectionHandler> handler;
  {
    std::lock_guard lock(handlers_mu_);
    handler = connection_handler_;
  }
  if (!handler || !*handler) return;
  try {
    (*handler)(connected);
  } catch (const std::exception& e) {
    log_->error("event=connection_handler_threw error=\"{}\"", e.what());
  } catch (...) {
    log_->error("event=connection_handler_threw error=unknown");
  }
}

void PahoMqttClient::OnConnected(const std::string& cause) {
  log_->debug("event=connection_up broker={} cause=\"{}\"", RedactUri(settings_.server_uri), cause);
  NotifyConnection(true);
}

void PahoMqttClient::OnConnectionLost(const std::string& cause) {
  log_->warn("event=connection_lost broker={} cause=\"{}\"", RedactUri(settings_.server_uri), cause);
  NotifyConnection(false);
  if (!want_connected_) return;
  {
    std::lock_guard lock(reconnect_mu_);
    reconnect_needed_ = true;
  }
  reconnect_cv_.notify_all();
}

void PahoMqttClient::ReconnectLoop(std::stop_token stop) {
  const auto min_backoff = std::max(settings_.reconnect_min, std::chrono::milliseconds(1));
  const auto max_backoff = std::max(settings_.reconnect_max, min_backoff);
  std::unique_lock lock(reconnect_mu_);
  while (!stop.stop_requested()) {
    reconnect_cv_.wait(lock, stop, [this] { return reconnect_needed_; });
    auto backoff = min_backoff;
    int attempt = 0;
    while (reconnect_needed_ && !stop.stop_requested()) {
      // Interruptible sleep: only a stop request ends it early.
      reconnect_cv_.wait_for(lock, stop, backoff, [] { return false; });
      if (stop.stop_requested()) return;
      ++attempt;
      lock.unlock();
      const bool ok = TryReconnect(stop);
      lock.lock();
      if (ok) {
        reconnect_needed_ = false;
        log_->info("event=reconnected broker={} attempts={}", RedactUri(settings_.server_uri), attempt);
        break;
      }
      backoff = std::min(backoff * 2, max_backoff);
    }
  }
}

bool PahoMqttClient::TryReconnect(const std::stop_token& stop) {
  mqtt::token_ptr tok;
  try {
    if (client_->is_connected()) return true;
    // Generous Paho timeout in the background: with several clients in the
    // process, Paho C 1.3.12 needs ~2.1 s for a connect (its shared receive
    // thread only notices a new socket when its 1 s poll times out, twice).
    const auto timeout = std::max(std::chrono::milliseconds(connect_timeout_ms_.load()), kMinReconnectTimeout);
    tok = client_->connect(BuildConnectOptions(timeout));
  } catch (const mqtt::exception& e) {
    log_->debug("event=reconnect_failed broker={} error=\"{}\"", RedactUri(settings_.server_uri), e.what());
    return false;
  } catch (const std::exception& e) {
    log_->debug("event=reconnect_failed broker={} error=\"{}\"", RedactUri(settings_.server_uri), e.what());
    return false;
  }
  // Paho ends the attempt by itself at its connect timeout; poll so that a
  // Disconnect() is not held up for that long.
  Status status;
  while (!WaitToken(tok, std::chrono::milliseconds(50), &status)) {
    if (stop.stop_requested()) return false;
  }
  if (!status.ok()) {
    log_->debug("event=reconnect_failed broker={} error=\"{}\"", RedactUri(settings_.server_uri),
                status.error().message);
  }
  return status.ok();
}

}  // namespace

Result<std::unique_ptr<MqttClient>> MakePahoMqttClient(MqttConnectionSettings settings) {
  if (settings.server_uri.empty()) return InvalidArgument("mqtt server URI is empty");
  try {
    // No persistence: the bridge's own store decides what survives a restart.
    // Buffer limits are sized so a full window of pipelined publishes fits.
    const int window = std::max(settings.max_in_flight_publishes, 10);
    mqtt::create_options create(MQTTVERSION_3_1_1, window + window / 4 + 16);
    // That constructor also turns on offline buffering; we want a publish while
    // disconnected to fail at once so the caller sees Unavailable.
    create.set_send_while_disconnected(false);
    auto client = std::make_unique<mqtt::async_client>(settings.server_uri, settings.client_id, create,
                                                       nullptr);
    return std::unique_ptr<MqttClient>(std::make_unique<PahoMqttClient>(std::move(settings), std::move(client)));
  } catch (const mqtt::exception& e) {
    return InvalidArgument("mqtt client for broker=" + RedactUri(settings.server_uri) + ": " + e.what());
  } catch (const std::exception& e) {
    return Internal("mqtt client for broker=" + RedactUri(settings.server_uri) + ": " + e.what());
  }
}

}  // namespace bridge
