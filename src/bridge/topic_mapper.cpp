#include "bridge/topic_mapper.h"

#include <algorithm>
#include <utility>

namespace bridge {
namespace {

std::string Quoted(std::string_view topic) {
  // Topics can hold anything; keep the error message printable and short.
  constexpr std::size_t kMaxShown = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < topic.size() && i < kMaxShown; ++i) {
    const auto byte = static_cast<unsigned char>(topic[i]);
    if (byte < 0x20 || byte == 0x7f || byte == '"' || byte == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += topic[i];
    }
  }
  if (topic.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

// Checks what publish topics and filters share: not empty, no NUL.
std::optional<Error> CheckCommon(std::string_view dapr_topic) {
  if (dapr_topic.empty()) return InvalidArgument("topic must not be empty");
  if (dapr_topic.find('\0') != std::string_view::npos) {
    return InvalidArgument("topic " + Quoted(dapr_topic) + " must not contain a NUL byte");
  }
  return std::nullopt;
}

std::optional<Error> CheckLength(const std::string& mqtt_topic) {
  if (mqtt_topic.size() > kMaxMqttTopicBytes) {
    return InvalidArgument("topic is " + std::to_string(mqtt_topic.size()) +
                           " bytes with the prefix; MQTT allows at most 65535");
  }
  return std::nullopt;
}

}  // namespace

TopicMapper::TopicMapper(std::string prefix) : prefix_(std::move(prefix)) {}

std::string TopicMapper::Join(std::string_view dapr_topic) const {
  if (prefix_.empty()) return std::string(dapr_topic);
  std::string out;
  out.reserve(prefix_.size() + 1 + dapr_topic.size());
  out += prefix_;
  out += '/';
  out += dapr_topic;
  return out;
}

Result<std::string> TopicMapper::ToMqttPublishTopic(std::string_view dapr_topic) const {
  if (auto error = CheckCommon(dapr_topic)) return *error;
  if (dapr_topic.find_first_of("+#") != std::string_view::npos) {
    return InvalidArgument("topic " + Quoted(dapr_topic) +
                           " contains an MQTT wildcard ('+' or '#'); a publish needs a concrete topic");
  }
  std::string mqtt_topic = Join(dapr_topic);
  if (auto error = CheckLength(mqtt_topic)) return *error;
  return mqtt_topic;
}

Result<std::string> TopicMapper::ToMqttFilter(std::string_view dapr_topic) const {
  if (auto error = CheckCommon(dapr_topic)) return *error;
  std::size_t level_start = 0;
  while (true) {
    const std::size_t slash = dapr_topic.find('/', level_start);
    const bool last = slash == std::string_view::npos;
    const std::string_view level =
        dapr_topic.substr(level_start, last ? std::string_view::npos : slash - level_start);
    if (level.find('#') != std::string_view::npos && (level != "#" || !last)) {
      return InvalidArgument("topic filter " + Quoted(dapr_topic) +
                             ": '#' is allowed only as the whole last level (e.g. \"a/#\")");
    }
    if (level.find('+') != std::string_view::npos && level != "+") {
      return InvalidArgument("topic filter " + Quoted(dapr_topic) +
                             ": '+' is allowed only as a whole level (e.g. \"a/+/c\")");
    }
    if (last) break;
    level_start = slash + 1;
  }
  std::string filter = Join(dapr_topic);
  if (auto error = CheckLength(filter)) return *error;
  return filter;
}

std::optional<std::string> TopicMapper::ToDaprTopic(std::string_view mqtt_topic) const {
  if (prefix_.empty()) {
    if (mqtt_topic.empty()) return std::nullopt;
    return std::string(mqtt_topic);
  }
  if (mqtt_topic.size() <= prefix_.size() + 1) return std::nullopt;
  if (mqtt_topic.substr(0, prefix_.size()) != prefix_ || mqtt_topic[prefix_.size()] != '/') return std::nullopt;
  return std::string(mqtt_topic.substr(prefix_.size() + 1));
}

bool TopicMatchesFilter(std::string_view filter, std::string_view topic) {
  if (filter.empty() || topic.empty()) return false;
  // §4.7.2: "$SYS/..." and friends are not matched by a leading wildcard.
  if (topic.front() == '$' && (filter.front() == '+' || filter.front() == '#')) return false;

  std::size_t f = 0;
  std::size_t t = 0;
  while (true) {
    const std::size_t f_end = std::min(filter.find('/', f), filter.size());
    const std::string_view f_level = filter.substr(f, f_end - f);
    if (f_level == "#") return f_end == filter.size();  // matches the rest, including the parent level

    const std::size_t t_end = std::min(topic.find('/', t), topic.size());
    const std::string_view t_level = topic.substr(t, t_end - t);
    if (f_level != "+" && f_level != t_level) return false;

    const bool f_done = f_end == filter.size();
    const bool t_done = t_end == topic.size();
    if (f_done && t_done) return true;
    if (t_done) {
      // The topic has no more levels; "sport/#" still matches "sport".
      return filter.substr(f_end) == "/#";
    }
    if (f_done) return false;
    f = f_end + 1;
    t = t_end + 1;
  }
}

}  // namespace bridge
