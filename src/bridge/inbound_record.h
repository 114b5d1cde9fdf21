#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mqtt/mqtt_client.h"

namespace bridge {

/// One message the bridge owes one subscription: an inbound MQTT message
/// routed to a subscription filter. A message that matches several streams
/// becomes several records, one per delivery owed.
///
/// `seq` is unique within an instance and is the key a durable store uses.
/// The payload is shared and immutable, so fan-out and redelivery never copy it.
struct InboundRecord {
  std::uint64_t seq = 0;
  std::string filter;  // the MQTT subscription filter this record is owed to
  std::shared_ptr<const MqttMessage> message;
  std::uint32_t attempts = 0;  // deliveries so far, nacked or lost with a stream
};

}  // namespace bridge
