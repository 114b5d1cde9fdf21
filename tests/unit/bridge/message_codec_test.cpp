#include "bridge/message_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bridge {
namespace {

using ::testing::Contains;
using ::testing::Key;
using ::testing::Not;

constexpr char kCloudEvent[] =
    R"({"specversion":"1.0","id":"1","source":"app","type":"com.dapr.event.sent","data":{"x":1}})";

bool IsHeaderToken(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool IsSafeHeaderValue(const std::string& value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  return value.empty() || (value.front() != ' ' && value.back() != ' ');
}

TEST(MessageCodecTest, RecognisesCloudEventJson) {
  EXPECT_TRUE(IsCloudEventJson(kCloudEvent));
  EXPECT_TRUE(IsCloudEventJson(" \r\n\t{\"specversion\":\"1.0\"} \n"));
}

TEST(MessageCodecTest, SendsCloudEventAsCloudEventJson) {
  const OutboundFields fields = DescribeInboundPayload(kCloudEvent, "p/orders", 1, true, "id-1");
  EXPECT_EQ(fields.content_type, "application/cloudevents+json");
  EXPECT_EQ(fields.metadata, (std::map<std::string, std::string>{
                                 {"retained", "true"}, {"mqtt-topic", "p/orders"}, {"mqtt-qos", "1"}}));
}

TEST(MessageCodecTest, SendsPlainTextInBinaryMode) {
  const OutboundFields fields = DescribeInboundPayload("hello", "sensors/t1", 0, false, "id-7");
  EXPECT_EQ(fields.content_type, "application/octet-stream");
  EXPECT_EQ(fields.metadata, (std::map<std::string, std::string>{{"retained", "false"},
                                                                 {"mqtt-topic", "sensors/t1"},
                                                                 {"mqtt-qos", "0"},
                                                                 {"ce_id", "id-7"},
                                                                 {"ce_source", "dapr-mqtt-bridge"},
                                                                 {"ce_type", "com.dapr.mqtt.message"},
                                                                 {"ce_specversion", "1.0"},
                                                                 {"ce_subject", "sensors/t1"}}));
}

TEST(MessageCodecTest, SendsJsonWithoutSpecversionInBinaryMode) {
  for (const char* payload : {R"({"temp":21.5})", R"({"specversion":1})", R"({"specversion":null})",
                              R"({"data":{"specversion":"1.0"}})", R"([{"specversion":"1.0"}])",
                              R"("specversion")", "42", "null", "{}"}) {
    EXPECT_FALSE(IsCloudEventJson(payload)) << payload;
    EXPECT_EQ(DescribeInboundPayload(payload, "t", 1, false, "i").content_type, "application/octet-stream")
        << payload;
  }
}

TEST(MessageCodecTest, SendsMalformedJsonInBinaryMode) {
  for (const char* payload :
       {R"({"specversion":"1.0")", R"({"specversion":"1.0",})", R"({"specversion":"1.0"} trailing)",
        R"({specversion:"1.0"})", "{", R"({"specversion":"1.0" /* c */})", R"({"specversion":"1.0","x":1e400})"}) {
    EXPECT_FALSE(IsCloudEventJson(payload)) << payload;
  }
}

TEST(MessageCodecTest, SendsJsonWithByteOrderMarkInBinaryMode) {
  // Go's encoding/json refuses a BOM, so daprd could not parse it either.
  EXPECT_FALSE(IsCloudEventJson("\xEF\xBB\xBF{\"specversion\":\"1.0\"}"));
}

TEST(MessageCodecTest, SendsDeeplyNestedJsonInBinaryMode) {
  const std::string deep = R"({"specversion":"1.0","x":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_FALSE(IsCloudEventJson(deep));
  const std::string shallow = R"({"specversion":"1.0","x":)" + std::string(50, '[') + std::string(50, ']') + "}";
  EXPECT_TRUE(IsCloudEventJson(shallow));
}

TEST(MessageCodecTest, SendsPayloadWithNulBytesInBinaryMode) {
  const std::string payload("{\"specversion\":\"1.0\"}\0", 22);
  EXPECT_FALSE(IsCloudEventJson(payload));
  EXPECT_FALSE(IsCloudEventJson(std::string("\0\0\0", 3)));
  EXPECT_EQ(DescribeInboundPayload(std::string("\0{", 2), "t", 1, false, "i").content_type,
            "application/octet-stream");
}

TEST(MessageCodecTest, SendsEmptyPayloadInBinaryMode) {
  EXPECT_FALSE(IsCloudEventJson(""));
  EXPECT_EQ(DescribeInboundPayload("", "t", 1, false, "i").content_type, "application/octet-stream");
}

TEST(MessageCodecTest, PercentEncodesBytesAHeaderCannotCarry) {
  const std::string topic("a\r\nb\0c%d\x7f", 9);
  const OutboundFields fields = DescribeInboundPayload("x", topic, 1, false, "i");
  EXPECT_EQ(fields.metadata.at("mqtt-topic"), "a%0D%0Ab%00c%25d%7F");
  EXPECT_EQ(fields.metadata.at("ce_subject"), "a%0D%0Ab%00c%25d%7F");
  EXPECT_EQ(EncodeMetadataValue(" a b "), "%20a b%20");
  EXPECT_EQ(EncodeMetadataValue("caf\xC3\xA9/+"), "caf\xC3\xA9/+");
}

TEST(MessageCodecTest, UsesOnlyLowercaseHeaderTokensAndSafeValues) {
  const std::string topic("we\x01ird\ntopic ", 13);
  for (const char* payload : {kCloudEvent, "binary"}) {
    const OutboundFields fields = DescribeInboundPayload(payload, topic, 1, true, std::string("id\r\n", 4));
    for (const auto& [key, value] : fields.metadata) {
      EXPECT_TRUE(IsHeaderToken(key)) << key;
      EXPECT_TRUE(IsSafeHeaderValue(value)) << key << "=" << value;
    }
  }
}

TEST(MessageCodecTest, KeepsCeAttributesOutOfCloudEventMode) {
  const OutboundFields fields = DescribeInboundPayload(kCloudEvent, "t", 1, false, "i");
  EXPECT_THAT(fields.metadata, Not(Contains(Key("ce_id"))));
  EXPECT_THAT(fields.metadata, Not(Contains(Key("ce_source"))));
}

}  // namespace
}  // namespace bridge
