#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "mqtt/mqtt_client.h"
#include "util/result.h"

namespace bridge {

/// Everything needed to reach one broker. A plain value; `password` is never
/// logged or put into an error message.
struct MqttConnectionSettings {
  std::string server_uri;  // tcp://host:port or ssl://host:port
  std::string client_id;
  std::string username;
  std::string password;
  bool clean_session = false;
  std::chrono::seconds keep_alive{30};
  std::string ca_file;    // PEM paths, empty = unused
  std::string cert_file;
  std::string key_file;
  // Capped exponential backoff between reconnect attempts after a lost
  // connection. Our own loop drives it, so sub-second values work (Paho's
  // built-in automatic reconnect only knows whole seconds).
  std::chrono::milliseconds reconnect_min{250};
  std::chrono::milliseconds reconnect_max{30000};
  // Sizes Paho's command buffer and in-flight window so that this many
  // pipelined publishes never fail with "-12: No more messages can be buffered".
  int max_in_flight_publishes = 1000;
};

/// Creates the Paho-backed MqttClient (not yet connected). Fails with
/// InvalidArgument for a URI or client id that Paho rejects.
///
/// Thread-safety: as MqttClient. The message handler runs synchronously on
/// Paho's receive thread, so for QoS1 the PUBACK leaves only after it returns.
/// Measured on Paho C 1.3.12: while any handler runs, Publish()/Subscribe()
/// calls on *every* Paho client in the process block until it returns, so a
/// handler must be quick. Calling back into the client from a handler (e.g.
/// resubscribing from the ConnectionHandler) is fine. Subscriptions are not
/// restored by this class: with clean_session=true, or a broker that lost its
/// state, the caller resubscribes on ConnectionHandler(true).
/// Also measured: with another Paho client already connected in the process,
/// a connect takes ~2.1 s (Paho C issue #1430), so connect timeouts below ~3 s
/// are risky.
Result<std::unique_ptr<MqttClient>> MakePahoMqttClient(MqttConnectionSettings settings);

}  // namespace bridge
