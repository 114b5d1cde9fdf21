#include "config/bridge_config.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include "config/duration.h"

namespace bridge {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kMaxMqttStringBytes = 65535;
constexpr int kDefaultTcpPort = 1883;
constexpr int kDefaultSslPort = 8883;

// ---------------------------------------------------------------------------
// Small text helpers.

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), AsciiLower);
  return out;
}

std::string_view Trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Quotes a non-secret value for an error message: printable and bounded.
std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f || byte == '"' || byte == '\\') {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += text[i];
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code_point = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1;
      code_point = lead & 0x1Fu;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2;
      code_point = lead & 0x0Fu;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3;
      code_point = lead & 0x07u;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[extra] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// An MQTT UTF-8 string (client id, username, topic): valid UTF-8, no NUL, bounded.
std::optional<std::string> CheckMqttString(std::string_view value) {
  if (value.size() > kMaxMqttStringBytes) {
    return "must be at most 65535 bytes, got " + std::to_string(value.size());
  }
  if (value.find('\0') != std::string_view::npos) return std::string("must not contain a NUL byte");
  if (!IsValidUtf8(value)) return std::string("must be valid UTF-8");
  return std::nullopt;
}

std::optional<std::uint64_t> ParseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;  // 18 digits cannot overflow
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex(text[i + 1]);
    const int low = hex(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The url key.

struct BrokerUrl {
  std::string normalised;  // scheme://host:port, no credentials
  bool has_userinfo = false;
  std::string username, password;
};

// Messages never quote the whole value: it may carry a password.
std::variant<BrokerUrl, std::string> ParseBrokerUrl(std::string_view raw) {
  const std::string_view text = Trim(raw);
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return std::string("must look like scheme://host[:port], e.g. tcp://127.0.0.1:1883");
  }
  const std::string scheme = Lower(text.substr(0, scheme_end));
  bool tls = false;
  if (scheme == "tcp" || scheme == "mqtt") {
    tls = false;
  } else if (scheme == "ssl" || scheme == "mqtts" || scheme == "tls") {
    tls = true;
  } else {
    return "scheme " + Quote(scheme) + " is not one of tcp, mqtt, ssl, mqtts, tls";
  }

  std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (authority_end != std::string_view::npos && rest.substr(authority_end) != "/") {
    return std::string("must not have a path, query or fragment (only scheme://host[:port])");
  }

  BrokerUrl url;
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const std::size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon));
    auto password = PercentDecode(colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1));
    if (!user || !password) return std::string("credentials contain an invalid %-escape");
    url.has_userinfo = true;
    url.username = std::move(*user);
    url.password = std::move(*password);
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  bool ipv6 = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::string("IPv6 address is missing its closing ']'");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::string("expected ':port' after the IPv6 address");
      has_port = true;
      port_text = after.substr(1);
    }
    ipv6 = true;
    const bool chars_ok = std::all_of(host.begin(), host.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    });
    if (host.find(':') == std::string_view::npos || !chars_ok) {
      return "host " + Quote(host) + " is not a valid IPv6 address";
    }
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      return std::string("an IPv6 address must be in brackets, e.g. tcp://[::1]:1883");
    }
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    const bool chars_ok = std::all_of(host.begin(), host.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
             c == '_';
    });
    if (!chars_ok) return "host " + Quote(host) + " is not a valid host name";
  }
  if (host.empty()) return std::string("host is missing (e.g. tcp://127.0.0.1:1883)");

  int port = tls ? kDefaultSslPort : kDefaultTcpPort;
  if (has_port) {
    const auto parsed = ParseUnsigned(port_text);
    if (!parsed || *parsed < 1 || *parsed > 65535) return "port " + Quote(port_text) + " must be 1-65535";
    port = static_cast<int>(*parsed);
  }
  url.normalised = std::string(tls ? "ssl://" : "tcp://") + (ipv6 ? "[" : "") + std::string(host) + (ipv6 ? "]" : "") +
                   ":" + std::to_string(port);
  return url;
}

// ---------------------------------------------------------------------------
// The key table.

struct Draft {
  BridgeConfig config;
  BrokerUrl url;
  std::set<std::string_view> given;   // canonical names present in the metadata
  std::set<std::string_view> failed;  // canonical names that had an error
  std::vector<std::string> warnings;
};

// Returns the problem (without the key name) or nullopt.
using ApplyFn = std::optional<std::string> (*)(std::string_view value, Draft& draft);
// The value Describe() prints; nullptr keeps the key out of Describe().
using ShowFn = std::string (*)(const BridgeConfig& config);

struct KeySpec {
  MetadataKeyDoc doc;
  ApplyFn apply;              // nullptr: daprd's own key, accepted and ignored
  ShowFn show;                // secret keys print only <set>/<unset>, whatever show returns
  std::string_view warning;  // non-empty: warn whenever the key is given
};

template <bool BridgeConfig::*kField>
std::optional<std::string> ApplyBool(std::string_view value, Draft& draft) {
  const auto parsed = ParseBool(value);
  if (!parsed) return "must be true or false (or 1/0, yes/no, on/off), got " + Quote(value);
  draft.config.*kField = *parsed;
  return std::nullopt;
}

template <bool BridgeConfig::*kField>
std::string ShowBool(const BridgeConfig& config) {
  return config.*kField ? "true" : "false";
}

template <milliseconds BridgeConfig::*kField, std::int64_t kMinMs, std::int64_t kMaxMs>
std::optional<std::string> ApplyDuration(std::string_view value, Draft& draft) {
  auto parsed = ParseDuration(Trim(value));
  if (!parsed.ok()) return parsed.error().message;
  const milliseconds min{kMinMs};
  const milliseconds max{kMaxMs};
  if (*parsed < min || *parsed > max) {
    std::string range = kMaxMs == INT64_MAX ? "at least " + FormatDuration(min)
                                            : "between " + FormatDuration(min) + " and " + FormatDuration(max);
    return "must be " + range + ", got " + Quote(value);
  }
  draft.config.*kField = *parsed;
  return std::nullopt;
}

template <milliseconds BridgeConfig::*kField>
std::string ShowDuration(const BridgeConfig& config) {
  return FormatDuration(config.*kField);
}

template <std::size_t BridgeConfig::*kField, std::uint64_t kMin, std::uint64_t kMax>
std::optional<std::string> ApplyCount(std::string_view value, Draft& draft) {
  const auto parsed = ParseUnsigned(Trim(value));
  if (!parsed || *parsed < kMin || *parsed > kMax) {
    return "must be a whole number from " + std::to_string(kMin) + " to " + std::to_string(kMax) + ", got " +
           Quote(value);
  }
  draft.config.*kField = static_cast<std::size_t>(*parsed);
  return std::nullopt;
}

template <std::size_t BridgeConfig::*kField>
std::string ShowCount(const BridgeConfig& config) {
  return std::to_string(config.*kField);
}

// PEM text is never echoed: a private key is secret and a certificate is noise.
template <std::string TlsPem::*kField>
std::optional<std::string> ApplyPem(std::string_view value, Draft& draft) {
  if (Trim(value).empty()) return std::nullopt;  // `caCert: ""` means not set
  if (value.find("-----BEGIN") == std::string_view::npos) {
    return std::string("must be PEM text containing \"-----BEGIN\"");
  }
  draft.config.tls.*kField = std::string(value);
  return std::nullopt;
}

template <std::string TlsPem::*kField>
std::string ShowPem(const BridgeConfig& config) {
  return (config.tls.*kField).empty() ? "<unset>" : "<set>";
}

std::optional<std::string> ApplyUrl(std::string_view value, Draft& draft) {
  auto parsed = ParseBrokerUrl(value);
  if (auto* problem = std::get_if<std::string>(&parsed)) return std::move(*problem);
  draft.url = std::get<BrokerUrl>(std::move(parsed));
  draft.config.broker_url = draft.url.normalised;
  draft.config.broker_url_redacted = draft.url.normalised;
  return std::nullopt;
}

std::optional<std::string> ApplyQos(std::string_view value, Draft& draft) {
  const std::string_view trimmed = Trim(value);
  if (trimmed != "0" && trimmed != "1") return "must be 0 or 1, got " + Quote(value);
  draft.config.qos = trimmed == "1" ? 1 : 0;
  return std::nullopt;
}

std::optional<std::string> ApplyConsumerId(std::string_view value, Draft& draft) {
  if (value.empty()) return std::string("must not be empty (daprd normally sets it to the app id)");
  if (auto problem = CheckMqttString(value)) return problem;
  draft.config.client_id = std::string(value);
  return std::nullopt;
}

std::optional<std::string> ApplyUsername(std::string_view value, Draft& draft) {
  if (auto problem = CheckMqttString(value)) return problem;
  draft.config.username = std::string(value);
  return std::nullopt;
}

std::optional<std::string> ApplyPassword(std::string_view value, Draft& draft) {
  if (value.size() > kMaxMqttStringBytes) return std::string("must be at most 65535 bytes");
  draft.config.password = std::string(value);
  return std::nullopt;
}

std::optional<std::string> ApplyTopicPrefix(std::string_view value, Draft& draft) {
  std::string_view prefix = value;
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.find_first_of("+#") != std::string_view::npos) {
    return "must not contain the MQTT wildcards '+' or '#', got " + Quote(value);
  }
  if (auto problem = CheckMqttString(prefix)) return problem;
  draft.config.topic_prefix = std::string(prefix);
  return std::nullopt;
}

std::optional<std::string> ApplyKeepAlive(std::string_view value, Draft& draft) {
  constexpr std::int64_t kMaxMs = 65535 * 1000;
  if (auto problem = ApplyDuration<&BridgeConfig::keep_alive, 1000, kMaxMs>(value, draft)) return problem;
  // MQTT carries keep-alive in whole seconds.
  if (draft.config.keep_alive.count() % 1000 != 0) return "must be whole seconds, got " + Quote(value);
  return std::nullopt;
}

std::string ShowUrl(const BridgeConfig& config) { return config.broker_url_redacted; }
std::optional<std::string> ApplyDurability(std::string_view value, Draft& draft) {
  const std::string lower = Lower(Trim(value));
  for (auto durability : {Durability::kMemory, Durability::kProcess, Durability::kFsync}) {
    if (lower == DurabilityName(durability)) {
      draft.config.durability = durability;
      return std::nullopt;
    }
  }
  return "must be memory, process or fsync, got " + Quote(value);
}

std::string ShowDurability(const BridgeConfig& config) { return std::string(DurabilityName(config.durability)); }

std::string ShowQos(const BridgeConfig& config) { return std::to_string(config.qos); }
std::string ShowClientId(const BridgeConfig& config) { return config.client_id; }
std::string ShowUsername(const BridgeConfig& config) { return config.username; }
std::string ShowPassword(const BridgeConfig& config) { return config.password; }
std::string ShowTopicPrefix(const BridgeConfig& config) { return config.topic_prefix; }

std::optional<std::string> ApplyDeadLetterTopic(std::string_view value, Draft& draft) {
  if (value.find_first_of("+#") != std::string_view::npos) {
    return "must be a topic to publish to, without the MQTT wildcards '+' or '#', got " + Quote(value);
  }
  if (auto problem = CheckMqttString(value)) return problem;
  draft.config.dead_letter_topic = std::string(value);
  return std::nullopt;
}

std::string ShowDeadLetterTopic(const BridgeConfig& config) { return config.dead_letter_topic; }

constexpr std::string_view kDaprdKeyDoc = "Interpreted by daprd itself; accepted and ignored by the bridge.";

// To add a key: a field in BridgeConfig, a row here (parsing, default, docs
// and Describe() all follow), and any cross-key rule in CheckAcrossKeys.
const std::array kKeys = {
    KeySpec{{"url", "url", "tcp://127.0.0.1:1883", false, false,
             "Broker address: tcp:// or mqtt:// (plain), ssl://, mqtts:// or tls:// (TLS); port defaults to 1883/8883; "
             "user:pass@ sets the credentials."},
            &ApplyUrl, &ShowUrl, {}},
    KeySpec{{"consumerID", "string", "", false, true,
             "MQTT client id. daprd fills it with the app id when the component does not set it."},
            &ApplyConsumerId, &ShowClientId, {}},
    KeySpec{{"qos", "int", "1", false, false, "MQTT QoS for publishes and subscriptions: 0 or 1."},
            &ApplyQos, &ShowQos, {}},
    KeySpec{{"retain", "bool", "false", false, false,
             "Publish with the MQTT retain flag (per-message `retain` metadata overrides)."},
            &ApplyBool<&BridgeConfig::retain>, &ShowBool<&BridgeConfig::retain>, {}},
    KeySpec{{"cleanSession", "bool", "false", false, false,
             "Start a clean MQTT session; false keeps the broker-side session (and QoS1 messages) across "
             "reconnects."},
            &ApplyBool<&BridgeConfig::clean_session>, &ShowBool<&BridgeConfig::clean_session>, {}},
    KeySpec{{"username", "string", "", false, false, "MQTT username; overrides one given in url."},
            &ApplyUsername, &ShowUsername, {}},
    KeySpec{{"password", "string", "", true, false, "MQTT password; overrides one given in url."},
            &ApplyPassword, &ShowPassword, {}},
    KeySpec{{"caCert", "PEM", "", false, false, "CA certificate(s) to verify the broker; needs a TLS url."},
            &ApplyPem<&TlsPem::ca_cert>, &ShowPem<&TlsPem::ca_cert>, {}},
    KeySpec{{"clientCert", "PEM", "", false, false, "Client certificate for mutual TLS; needs clientKey."},
            &ApplyPem<&TlsPem::client_cert>, &ShowPem<&TlsPem::client_cert>, {}},
    KeySpec{{"clientKey", "PEM", "", true, false, "Private key for clientCert."},
            &ApplyPem<&TlsPem::client_key>, &ShowPem<&TlsPem::client_key>, {}},
    KeySpec{{"topicPrefix", "string", "", false, false,
             "Dapr topic `orders` is MQTT `<prefix>/orders`; no '+' or '#'; a trailing '/' is dropped."},
            &ApplyTopicPrefix, &ShowTopicPrefix, {}},
    KeySpec{{"keepAlive", "duration", "30s", false, false, "MQTT keep-alive interval, whole seconds from 1s to 65535s."},
            &ApplyKeepAlive, &ShowDuration<&BridgeConfig::keep_alive>, {}},
    KeySpec{{"connectTimeout", "duration", "3s", false, false,
             "How long Init waits for the broker; up to 60s, but keep it under daprd's 5s init timeout."},
            &ApplyDuration<&BridgeConfig::connect_timeout, 1, 60'000>,
            &ShowDuration<&BridgeConfig::connect_timeout>, {}},
    KeySpec{{"publishTimeout", "duration", "10s", false, false, "How long a Publish waits for the broker's PUBACK."},
            &ApplyDuration<&BridgeConfig::publish_timeout, 1, INT64_MAX>,
            &ShowDuration<&BridgeConfig::publish_timeout>, {}},
    KeySpec{{"redeliveryDelay", "duration", "1s", false, false,
             "First delay before redelivering a message the app nacked; doubles per attempt."},
            &ApplyDuration<&BridgeConfig::redelivery_delay, 1, INT64_MAX>,
            &ShowDuration<&BridgeConfig::redelivery_delay>, {}},
    KeySpec{{"maxRedeliveryDelay", "duration", "60s", false, false,
             "Cap on the redelivery delay; at least redeliveryDelay."},
            &ApplyDuration<&BridgeConfig::max_redelivery_delay, 1, INT64_MAX>,
            &ShowDuration<&BridgeConfig::max_redelivery_delay>, {}},
    KeySpec{{"maxInFlightPerStream", "int", "32", false, false,
             "Messages sent on one PullMessages stream and not yet acked, 1 to 10000."},
            &ApplyCount<&BridgeConfig::max_in_flight_per_stream, 1, 10'000>,
            &ShowCount<&BridgeConfig::max_in_flight_per_stream>, {}},
    KeySpec{{"maxRedeliveries", "int", "0", false, false,
             "Redeliveries after the app's first nack before the message goes to deadLetterTopic (or is dropped "
             "with an error log); 0 means unlimited."},
            &ApplyCount<&BridgeConfig::max_redeliveries, 0, 1'000'000>,
            &ShowCount<&BridgeConfig::max_redeliveries>, {}},
    KeySpec{{"deadLetterTopic", "string", "", false, false,
             "Dapr topic (topicPrefix applies) that receives messages whose redeliveries ran out."},
            &ApplyDeadLetterTopic, &ShowDeadLetterTopic, {}},
    KeySpec{{"maxPendingMessages", "int", "100000", false, false,
             "Inbound messages the bridge holds for the app at most; at the bound it stops taking messages from "
             "the broker (it disconnects; a persistent session keeps them queued there) until acks bring it to 90%."},
            &ApplyCount<&BridgeConfig::max_pending_messages, 1, 100'000'000>,
            &ShowCount<&BridgeConfig::max_pending_messages>, {}},
    KeySpec{{"maxPendingBytes", "int", "67108864", false, false,
             "The same bound in payload bytes (default 64 MiB)."},
            &ApplyCount<&BridgeConfig::max_pending_bytes, 1024, 17'179'869'184>,
            &ShowCount<&BridgeConfig::max_pending_bytes>, {}},
    KeySpec{{"offlineBuffer", "bool", "false", false, false,
             "While the broker is unreachable, Publish stores the message durably and returns OK; stored "
             "messages are published in order when the broker is back. false: Publish fails with UNAVAILABLE."},
            &ApplyBool<&BridgeConfig::offline_buffer>, &ShowBool<&BridgeConfig::offline_buffer>, {}},
    KeySpec{{"maxOfflineMessages", "int", "10000", false, false,
             "Bound of the offline buffer; beyond it Publish fails with RESOURCE_EXHAUSTED."},
            &ApplyCount<&BridgeConfig::max_offline_messages, 1, 10'000'000>,
            &ShowCount<&BridgeConfig::max_offline_messages>, {}},
    KeySpec{{"durability", "string", "process", false, false,
             "Where inbound messages wait for the app's ack: memory (lost if the bridge crashes), process "
             "(SQLite, survives a crash of the bridge) or fsync (also survives power loss; slower)."},
            &ApplyDurability, &ShowDurability, {}},
    KeySpec{{"backOffMaxRetries", "int", "", false, false,
             "Accepted for compatibility with Dapr's mqtt3 and ignored; see redeliveryDelay."},
            nullptr, nullptr,
            "backOffMaxRetries: accepted for mqtt3 compatibility but not used; redelivery follows redeliveryDelay "
            "and maxRedeliveryDelay"},
    KeySpec{{"publishingScopes", "string", "", false, false, kDaprdKeyDoc}, nullptr, nullptr, {}},
    KeySpec{{"subscriptionScopes", "string", "", false, false, kDaprdKeyDoc}, nullptr, nullptr, {}},
    KeySpec{{"allowedTopics", "string", "", false, false, kDaprdKeyDoc}, nullptr, nullptr, {}},
    KeySpec{{"protectedTopics", "string", "", false, false, kDaprdKeyDoc}, nullptr, nullptr, {}},
};

// Rules that involve more than one key. Runs after every row; skips rules
// whose inputs already failed, so one mistake gives one message.
void CheckAcrossKeys(Draft& draft, std::vector<std::string>& errors) {
  BridgeConfig& config = draft.config;
  const auto ok = [&draft](std::string_view key) { return !draft.failed.contains(key); };

  if (draft.url.has_userinfo && ok("url")) {
    if (!draft.given.contains("username")) config.username = draft.url.username;
    if (!draft.given.contains("password")) config.password = draft.url.password;
    if (draft.given.contains("username") || draft.given.contains("password")) {
      draft.warnings.emplace_back("url: credentials in the url are overridden by the username/password keys");
    }
  }
  if (!config.password.empty() && config.username.empty() && ok("username") && ok("password")) {
    errors.emplace_back(std::string(draft.given.contains("password") ? "password" : "url") +
                        ": a password needs a username (MQTT 3.1.1)");
  }

  if (ok("url") && !config.UsesTls()) {
    const std::pair<std::string_view, const std::string*> tls_keys[] = {
        {"caCert", &config.tls.ca_cert}, {"clientCert", &config.tls.client_cert}, {"clientKey", &config.tls.client_key}};
    for (const auto& [key, pem] : tls_keys) {
      if (!pem->empty()) {
        errors.emplace_back(std::string(key) + ": set, but url " + config.broker_url +
                            " is not TLS; use an ssl://, mqtts:// or tls:// url");
      }
    }
  }
  if (ok("clientCert") && ok("clientKey")) {
    if (!config.tls.client_cert.empty() && config.tls.client_key.empty()) {
      errors.emplace_back("clientKey: required when clientCert is set");
    }
    if (config.tls.client_cert.empty() && !config.tls.client_key.empty()) {
      errors.emplace_back("clientCert: required when clientKey is set");
    }
  }

  if (ok("redeliveryDelay") && ok("maxRedeliveryDelay") && config.max_redelivery_delay < config.redelivery_delay) {
    errors.emplace_back("maxRedeliveryDelay: must be at least redeliveryDelay (" +
                        FormatDuration(config.redelivery_delay) + "), got " +
                        FormatDuration(config.max_redelivery_delay));
  }
}

// Describe() values: quoted when they would break key=value parsing.
std::string LogValue(std::string_view value) {
  const bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f || c == '"' || c == '=' || c == '\\';
  });
  return plain ? std::string(value) : Quote(value);
}

}  // namespace

std::optional<bool> ParseBool(std::string_view text) {
  const std::string lower = Lower(Trim(text));
  for (std::string_view yes : {"true", "t", "1", "yes", "y", "on"}) {
    if (lower == yes) return true;
  }
  for (std::string_view no : {"false", "f", "0", "no", "n", "off"}) {
    if (lower == no) return false;
  }
  return std::nullopt;
}

bool BridgeConfig::UsesTls() const { return broker_url.starts_with("ssl://"); }

std::string BridgeConfig::Describe() const {
  std::string out;
  for (const KeySpec& key : kKeys) {
    if (key.show == nullptr) continue;
    if (!out.empty()) out += ' ';
    out += key.doc.name;
    out += '=';
    if (key.doc.secret) {
      // Only presence, whatever show() would return.
      out += key.show(*this).empty() || key.show(*this) == "<unset>" ? "<unset>" : "<set>";
    } else {
      out += LogValue(key.show(*this));
    }
  }
  return out;
}

Result<ParsedConfig> ParseBridgeConfig(const std::map<std::string, std::string>& metadata) {
  Draft draft;
  std::vector<std::string> errors;

  // Case-insensitive lookup: canonical lowercase name -> (row, given spelling, value).
  std::map<std::string, const KeySpec*> by_lower_name;
  for (const KeySpec& key : kKeys) by_lower_name.emplace(Lower(key.doc.name), &key);

  std::map<const KeySpec*, std::pair<std::string_view, std::string_view>> values;  // row -> (spelling, value)
  for (const auto& [name, value] : metadata) {
    const auto row = by_lower_name.find(Lower(name));
    if (row == by_lower_name.end()) {
      draft.warnings.push_back("unknown metadata key " + Quote(name) + " ignored");
      continue;
    }
    const KeySpec* key = row->second;
    const auto [existing, inserted] = values.emplace(key, std::pair{std::string_view(name), std::string_view(value)});
    if (!inserted) {
      errors.push_back(std::string(key->doc.name) + ": given more than once (as " + Quote(existing->second.first) +
                       " and " + Quote(name) + ")");
      draft.failed.insert(key->doc.name);
      continue;
    }
    draft.given.insert(key->doc.name);
  }

  for (const KeySpec& key : kKeys) {
    if (draft.failed.contains(key.doc.name)) continue;
    const auto given = values.find(&key);
    if (given != values.end() && !key.warning.empty()) draft.warnings.emplace_back(key.warning);
    if (key.apply == nullptr) continue;

    std::string_view value;
    if (given != values.end()) {
      value = given->second.second;
    } else if (!key.doc.default_value.empty()) {
      value = key.doc.default_value;
    } else {
      if (key.doc.required) {
        errors.push_back(std::string(key.doc.name) + ": required but not set");
        draft.failed.insert(key.doc.name);
      }
      continue;
    }
    if (auto problem = key.apply(value, draft)) {
      errors.push_back(std::string(key.doc.name) + ": " + *problem);
      draft.failed.insert(key.doc.name);
    }
  }

  CheckAcrossKeys(draft, errors);

  if (!errors.empty()) {
    std::string message;
    for (const std::string& error : errors) {
      if (!message.empty()) message += "; ";
      message += error;
    }
    return InvalidArgument(std::move(message));
  }
  return ParsedConfig{std::move(draft.config), std::move(draft.warnings)};
}

std::span<const MetadataKeyDoc> MetadataKeyDocs() {
  static const std::vector<MetadataKeyDoc> docs = [] {
    std::vector<MetadataKeyDoc> out;
    for (const KeySpec& key : kKeys) out.push_back(key.doc);
    return out;
  }();
  return docs;
}

std::string_view DurabilityName(Durability durability) {
  switch (durability) {
    case Durability::kMemory: return "memory";
    case Durability::kProcess: return "process";
    case Durability::kFsync: return "fsync";
  }
  return "process";
}

}  // namespace bridge
