#pragma once

#include <map>
#include <string>
#include <string_view>

namespace bridge {

/// How the bridge labels an inbound MQTT message for daprd (spec §6.5).
///
/// Why this matters: unless content_type is application/octet-stream, daprd
/// parses the payload as a JSON CloudEvent, and a payload that is not a JSON
/// object fails that parse on every delivery, so the message is nacked and
/// redelivered forever (the poison loop of spec §6.3). Plain MQTT producers
/// send arbitrary bytes, so the bridge claims "CloudEvent JSON" only for a
/// payload it has parsed and found to be a JSON object with a string
/// `specversion` (it came from Dapr). Everything else goes in binary mode:
/// application/octet-stream with the CloudEvent attributes in `ce_*`
/// metadata, which daprd takes as-is without looking at the bytes.
///
/// Metadata keys become HTTP header names in daprd, so they are fixed
/// lowercase tokens. Values (the topic, the id) are percent-encoded where
/// they hold bytes a header value cannot carry: control bytes (NUL, CR, LF,
/// ...), DEL, a leading or trailing space, and '%' itself so that decoding
/// with any URL decoder gives back the exact topic.
///
/// Pure functions; thread-safe.

inline constexpr std::string_view kContentTypeCloudEventJson = "application/cloudevents+json";
inline constexpr std::string_view kContentTypeOctetStream = "application/octet-stream";

inline constexpr std::string_view kMetaRetained = "retained";      // "true" / "false", as Dapr's mqtt3
inline constexpr std::string_view kMetaMqttTopic = "mqtt-topic";   // percent-encoded as above
inline constexpr std::string_view kMetaMqttQos = "mqtt-qos";       // "0", "1" or "2"
inline constexpr std::string_view kMetaCeId = "ce_id";
inline constexpr std::string_view kMetaCeSource = "ce_source";
inline constexpr std::string_view kMetaCeType = "ce_type";
inline constexpr std::string_view kMetaCeSpecVersion = "ce_specversion";
inline constexpr std::string_view kMetaCeSubject = "ce_subject";

// A fixed source: the topic is not a safe URI-reference in general.
inline constexpr std::string_view kCloudEventSource = "dapr-mqtt-bridge";
inline constexpr std::string_view kCloudEventType = "com.dapr.mqtt.message";

struct OutboundFields {
  std::string content_type;
  std::map<std::string, std::string> metadata;
};

/// The content_type and metadata of the TopicEventRequest for one inbound
/// MQTT message. The payload itself is always passed on byte-exact.
OutboundFields DescribeInboundPayload(std::string_view payload, std::string_view mqtt_topic, int qos, bool retained,
                                      std::string_view message_id);

/// True when daprd can take the payload as a JSON CloudEvent: a JSON object
/// with a string `specversion`, parseable by Go's encoding/json too (no raw
/// NUL, no nesting deeper than 1000, no number beyond float64). A payload whose first
/// non-whitespace byte is not '{' is rejected without parsing.
bool IsCloudEventJson(std::string_view payload);

/// Percent-encodes the bytes a header value cannot carry (see above).
std::string EncodeMetadataValue(std::string_view value);

}  // namespace bridge
