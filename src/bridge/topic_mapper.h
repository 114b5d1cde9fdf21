#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bridge {

/// The longest MQTT topic name or filter, in bytes (MQTT 3.1.1 §1.5.3).
inline constexpr std::size_t kMaxMqttTopicBytes = 65535;

/// Maps Dapr topic names to MQTT topics and back, under an optional prefix:
/// with prefix "p", Dapr "orders" is MQTT "p/orders". An empty prefix maps
/// names unchanged. The prefix is taken as given (BridgeConfig has already
/// validated it and stripped any trailing '/').
///
/// Validation follows MQTT 3.1.1 §4.7: publish topics carry no wildcards,
/// filters use '+' and '#' only as whole levels, neither may be empty, hold
/// NUL, or exceed 65535 bytes once the prefix is added. Levels may be empty
/// ("a//b" is a valid topic), as in MQTT.
///
/// Immutable after construction; safe to share between threads.
class TopicMapper {
 public:
  explicit TopicMapper(std::string prefix = {});

  /// The MQTT topic a Dapr Publish goes to. InvalidArgument for an empty
  /// topic, a '+', '#' or NUL in it, or a result over 65535 bytes.
  Result<std::string> ToMqttPublishTopic(std::string_view dapr_topic) const;

  /// The MQTT filter a Dapr subscription subscribes with; wildcards allowed.
  Result<std::string> ToMqttFilter(std::string_view dapr_topic) const;

  /// The Dapr topic for a concrete MQTT topic: the prefix and its '/' removed.
  /// nullopt when the topic is not under the prefix (or is the prefix itself).
  std::optional<std::string> ToDaprTopic(std::string_view mqtt_topic) const;

  const std::string& prefix() const { return prefix_; }

 private:
  std::string Join(std::string_view dapr_topic) const;

  std::string prefix_;
};

/// MQTT 3.1.1 topic matching (§4.7): '+' matches exactly one level, '#' the
/// parent level and any number of levels below ("sport/#" matches "sport"),
/// and a filter starting with a wildcard never matches a topic starting with
/// '$'. Assumes both arguments are valid; an invalid filter matches nothing
/// useful but never crashes.
bool TopicMatchesFilter(std::string_view filter, std::string_view topic);

}  // namespace bridge
