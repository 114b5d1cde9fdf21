#include "bridge/message_codec.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace bridge {
namespace {

// Well under Go's encoding/json limit of 10000, so that anything we call a
// CloudEvent daprd can decode too; real CloudEvents are shallow.
constexpr int kMaxJsonDepth = 1000;

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

bool IsCloudEventJson(std::string_view payload) {
  std::size_t first = 0;
  while (first < payload.size() && IsJsonWhitespace(payload[first])) ++first;
  if (first == payload.size() || payload[first] != '{') return false;
  // nlohmann stops at a NUL as if the input ended there, where Go reports an
  // error; valid JSON never holds a raw NUL, so refuse it outright.
  if (payload.find('\0') != std::string_view::npos) return false;

  bool go_compatible = true;
  const nlohmann::json::parser_callback_t check = [&go_compatible](int depth, nlohmann::json::parse_event_t event,
                                                                   nlohmann::json& parsed) {
    if (depth > kMaxJsonDepth) {
      go_compatible = false;
      return false;  // do not build the rest of a hostile document
    }
    // nlohmann turns 1e400 into inf; Go refuses it, which would be the poison loop again.
    if (event == nlohmann::json::parse_event_t::value && parsed.is_number_float() &&
        !std::isfinite(parsed.get<double>())) {
      go_compatible = false;
    }
    return true;
  };
  const nlohmann::json document = nlohmann::json::parse(payload.begin(), payload.end(), check, false);
  if (!go_compatible || document.is_discarded() || !document.is_object()) return false;
  const auto specversion = document.find("specversion");
  return specversion != document.end() && specversion->is_string();
}

std::string EncodeMetadataValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    const bool edge_space = byte == ' ' && (i == 0 || i + 1 == value.size());
    if (byte < 0x20 || byte == 0x7f || byte == '%' || edge_space) {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += value[i];
    }
  }
  return out;
}

OutboundFields DescribeInboundPayload(std::string_view payload, std::string_view mqtt_topic, int qos, bool retained,
                                      std::string_view message_id) {
  OutboundFields fields;
  const std::string encoded_topic = EncodeMetadataValue(mqtt_topic);
  fields.metadata.emplace(kMetaRetained, retained ? "true" : "false");
  fields.metadata.emplace(kMetaMqttTopic, encoded_topic);
  fields.metadata.emplace(kMetaMqttQos, std::to_string(qos));
  if (IsCloudEventJson(payload)) {
    fields.content_type = kContentTypeCloudEventJson;
    return fields;
  }
  fields.content_type = kContentTypeOctetStream;
  fields.metadata.emplace(kMetaCeId, EncodeMetadataValue(message_id));
  fields.metadata.emplace(kMetaCeSource, kCloudEventSource);
  fields.metadata.emplace(kMetaCeType, kCloudEventType);
  fields.metadata.emplace(kMetaCeSpecVersion, "1.0");
  fields.metadata.emplace(kMetaCeSubject, encoded_topic);
  return fields;
}

}  // namespace bridge
