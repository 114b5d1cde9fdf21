#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bridge {

/// PEM text straight from the metadata; an empty string means "not set".
struct TlsPem {
  std::string ca_cert, client_cert, client_key;
  bool operator==(const TlsPem&) const = default;
};

/// How far the inbox's promise reaches (see README "Guarantees").
enum class Durability {
  kMemory,   // survives stream and daprd restarts, not a bridge crash
  kProcess,  // also survives a crash or SIGKILL of the bridge (SQLite WAL, no fsync)
  kFsync,    // also survives power loss (fsync before every PUBACK)
};
std::string_view DurabilityName(Durability durability);

/// The component's configuration, parsed from the metadata of daprd's Init.
/// Immutable once built: share it between threads as `shared_ptr<const>`.
/// Build it with ParseBridgeConfig; a value-initialised BridgeConfig is not a
/// valid configuration (the defaults live in the key table, not here).
struct BridgeConfig {
  std::string broker_url;           // tcp://host:port or ssl://host:port (Paho form), no credentials
  std::string broker_url_redacted;  // safe to log; today equal to broker_url, kept apart so it stays that way
  int qos = 0;
  bool retain = false;
  bool clean_session = false;
  std::string client_id;  // from consumerID
  std::string username, password;
  TlsPem tls;
  bool UsesTls() const;
  bool operator==(const BridgeConfig&) const = default;
  std::string topic_prefix;  // no trailing '/'; empty = none
  std::chrono::milliseconds keep_alive{}, connect_timeout{}, publish_timeout{};
  std::chrono::milliseconds redelivery_delay{}, max_redelivery_delay{};
  std::size_t max_in_flight_per_stream = 0;
  Durability durability = Durability::kProcess;
  std::size_t max_redeliveries = 0;  // 0 = unlimited
  std::string dead_letter_topic;     // Dapr topic (prefix applies); empty = drop with an error log
  std::size_t max_pending_messages = 0;  // inbox bounds: above them, backpressure
  std::size_t max_pending_bytes = 0;
  bool offline_buffer = false;       // Publish while the broker is away stores instead of failing
  std::size_t max_offline_messages = 0;

  /// One `key=value ...` line for logs, keyed by metadata key names. Secret
  /// keys (password, clientKey) and PEM text show only `<set>`/`<unset>`.
  std::string Describe() const;
};

struct ParsedConfig {
  BridgeConfig config;
  std::vector<std::string> warnings;  // unknown or unused keys; never holds a value
};

/// Parses Init metadata into a BridgeConfig.
///
/// - Key names match case-insensitively, as contrib's metadata decoder does
///   ("QoS" is "qos"); the same key given twice in different case is an error.
/// - Every problem is reported at once: one InvalidArgument whose message is
///   `key: problem; key: problem`, each naming the allowed values. A secret's
///   value, or credentials inside `url`, never appear in a message.
/// - Unknown keys produce a warning naming the key. daprd's own keys
///   (publishingScopes, subscriptionScopes, allowedTopics, protectedTopics)
///   are accepted silently; mqtt3's backOffMaxRetries with a warning.
/// - Credentials in `url` (`tcp://user:pass@host`) fill username/password
///   unless those keys are given; they are stripped from broker_url.
/// - caCert/clientCert/clientKey with a tcp:// url is an error (not a warning):
///   the user asked for TLS and would silently get plain text.
/// - Booleans accept true/false, 1/0, yes/no, on/off, t/f, y/n in any case
///   (a superset of Go's strconv.ParseBool and Dapr's IsTruthy); anything
///   else is an error, where Dapr would silently read false.
/// Pure; thread-safe.
Result<ParsedConfig> ParseBridgeConfig(const std::map<std::string, std::string>& metadata);

/// The boolean grammar of the metadata, for per-message metadata too (e.g. a
/// Publish's `retain`): true/false, 1/0, yes/no, on/off, t/f, y/n in any case,
/// surrounding whitespace ignored. nullopt for anything else.
std::optional<bool> ParseBool(std::string_view text);

/// One metadata key, for the README and --help. The same table drives
/// parsing, defaults and error messages.
struct MetadataKeyDoc {
  std::string_view name;           // canonical spelling, e.g. "consumerID"
  std::string_view type;           // "url", "bool", "int", "duration", "string", "PEM"
  std::string_view default_value;  // empty: no default (unset, or required)
  bool secret;                     // never logged or echoed in errors
  bool required;
  std::string_view doc;  // one line
};

/// Every key the bridge recognises, in table order.
std::span<const MetadataKeyDoc> MetadataKeyDocs();

}  // namespace bridge
