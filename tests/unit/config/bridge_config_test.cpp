#include "config/bridge_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bridge {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

using Metadata = std::map<std::string, std::string>;

constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
constexpr char kCertPem[] = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n";
constexpr char kKeyPem[] = "-----BEGIN PRIVATE KEY-----\nSuperSecretKeyMaterial\n-----END PRIVATE KEY-----\n";

// The smallest metadata daprd sends: it always fills consumerID.
Metadata Minimal(Metadata extra = {}) {
  extra.emplace("consumerID", "app1");
  return extra;
}

ParsedConfig MustParse(const Metadata& metadata) {
  auto result = ParseBridgeConfig(metadata);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : ParsedConfig{};
}

std::string ErrorOf(const Metadata& metadata) {
  auto result = ParseBridgeConfig(metadata);
  EXPECT_FALSE(result.ok()) << "parsed unexpectedly: " << (result.ok() ? result->config.Describe() : "");
  if (result.ok()) return {};
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidArgument);
  return result.error().message;
}

TEST(BridgeConfigTest, AppliesEveryDefault) {
  const ParsedConfig parsed = MustParse(Minimal());
  const BridgeConfig& config = parsed.config;
  EXPECT_EQ(config.broker_url, "tcp://127.0.0.1:1883");
  EXPECT_EQ(config.broker_url_redacted, "tcp://127.0.0.1:1883");
  EXPECT_EQ(config.qos, 1);
  EXPECT_FALSE(config.retain);
  EXPECT_FALSE(config.clean_session);
  EXPECT_EQ(config.client_id, "app1");
  EXPECT_EQ(config.username, "");
  EXPECT_EQ(config.password, "");
  EXPECT_FALSE(config.UsesTls());
  EXPECT_EQ(config.tls.ca_cert, "");
  EXPECT_EQ(config.tls.client_cert, "");
  EXPECT_EQ(config.tls.client_key, "");
  EXPECT_EQ(config.topic_prefix, "");
  EXPECT_EQ(config.keep_alive, milliseconds{30'000});
  EXPECT_EQ(config.connect_timeout, milliseconds{3'000});
  EXPECT_EQ(config.publish_timeout, milliseconds{10'000});
  EXPECT_EQ(config.redelivery_delay, milliseconds{1'000});
  EXPECT_EQ(config.max_redelivery_delay, milliseconds{60'000});
  EXPECT_EQ(config.max_in_flight_per_stream, 32U);
  EXPECT_TRUE(parsed.warnings.empty());
}

TEST(BridgeConfigTest, DefaultConnectTimeoutStaysWellUnderDaprdInitTimeout) {
  EXPECT_LE(MustParse(Minimal()).config.connect_timeout, milliseconds{4'000});
}

TEST(BridgeConfigTest, ReadsEveryKey) {
  const BridgeConfig config = MustParse({{"url", "mqtts://broker.example:8884"},
                                         {"consumerID", "client-7"},
                                         {"qos", "0"},
                                         {"retain", "true"},
                                         {"cleanSession", "yes"},
                                         {"username", "bob"},
                                         {"password", "hunter2"},
                                         {"caCert", kCaPem},
                                         {"clientCert", kCertPem},
                                         {"clientKey", kKeyPem},
                                         {"topicPrefix", "site/a/"},
                                         {"keepAlive", "1m"},
                                         {"connectTimeout", "1500ms"},
                                         {"publishTimeout", "5"},
                                         {"redeliveryDelay", "250ms"},
                                         {"maxRedeliveryDelay", "2m"},
                                         {"maxInFlightPerStream", "100"}})
                                    .config;
  EXPECT_EQ(config.broker_url, "ssl://broker.example:8884");
  EXPECT_TRUE(config.UsesTls());
  EXPECT_EQ(config.client_id, "client-7");
  EXPECT_EQ(config.qos, 0);
  EXPECT_TRUE(config.retain);
  EXPECT_TRUE(config.clean_session);
  EXPECT_EQ(config.username, "bob");
  EXPECT_EQ(config.password, "hunter2");
  EXPECT_EQ(config.tls.ca_cert, kCaPem);
  EXPECT_EQ(config.tls.client_cert, kCertPem);
  EXPECT_EQ(config.tls.client_key, kKeyPem);
  EXPECT_EQ(config.topic_prefix, "site/a");
  EXPECT_EQ(config.keep_alive, milliseconds{60'000});
  EXPECT_EQ(config.connect_timeout, milliseconds{1'500});
  EXPECT_EQ(config.publish_timeout, milliseconds{5'000});
  EXPECT_EQ(config.redelivery_delay, milliseconds{250});
  EXPECT_EQ(config.max_redelivery_delay, milliseconds{120'000});
  EXPECT_EQ(config.max_in_flight_per_stream, 100U);
}

TEST(BridgeConfigTest, MatchesKeyNamesCaseInsensitively) {
  const BridgeConfig config =
      MustParse({{"CONSUMERID", "app1"}, {"QoS", "0"}, {"cleansession", "true"}, {"TopicPrefix", "p"}}).config;
  EXPECT_EQ(config.client_id, "app1");
  EXPECT_EQ(config.qos, 0);
  EXPECT_TRUE(config.clean_session);
  EXPECT_EQ(config.topic_prefix, "p");
}

TEST(BridgeConfigTest, RejectsTheSameKeyGivenTwiceInDifferentCase) {
  EXPECT_THAT(ErrorOf(Minimal({{"qos", "0"}, {"QOS", "1"}})), HasSubstr("qos: given more than once"));
}

TEST(BridgeConfigTest, AcceptsEveryBooleanSpelling) {
  for (const char* yes : {"true", "TRUE", "True", "t", "T", "1", "yes", "YES", "y", "on"}) {
    EXPECT_TRUE(MustParse(Minimal({{"retain", yes}})).config.retain) << yes;
  }
  for (const char* no : {"false", "FALSE", "False", "f", "F", "0", "no", "No", "n", "off"}) {
    EXPECT_FALSE(MustParse(Minimal({{"retain", no}})).config.retain) << no;
  }
}

TEST(BridgeConfigTest, RejectsBadBooleanNamingTheKey) {
  EXPECT_THAT(ErrorOf(Minimal({{"retain", "maybe"}})), HasSubstr("retain: must be true or false"));
  EXPECT_THAT(ErrorOf(Minimal({{"cleanSession", "2"}})), HasSubstr("cleanSession: must be true or false"));
  EXPECT_THAT(ErrorOf(Minimal({{"retain", ""}})), HasSubstr("retain:"));
}

TEST(BridgeConfigTest, RejectsQosOtherThanZeroOrOne) {
  EXPECT_EQ(ErrorOf(Minimal({{"qos", "2"}})), "qos: must be 0 or 1, got \"2\"");
  EXPECT_THAT(ErrorOf(Minimal({{"qos", "one"}})), HasSubstr("qos: must be 0 or 1"));
  EXPECT_THAT(ErrorOf(Minimal({{"qos", "-1"}})), HasSubstr("qos: must be 0 or 1"));
}

TEST(BridgeConfigTest, RequiresConsumerId) {
  EXPECT_THAT(ErrorOf({}), HasSubstr("consumerID: required"));
  EXPECT_THAT(ErrorOf({{"consumerID", ""}}), HasSubstr("consumerID: must not be empty"));
}

TEST(BridgeConfigTest, RejectsConsumerIdThatIsNotAnMqttString) {
  EXPECT_THAT(ErrorOf({{"consumerID", std::string(65536, 'a')}}), HasSubstr("consumerID: must be at most 65535 bytes"));
  EXPECT_TRUE(ParseBridgeConfig({{"consumerID", std::string(65535, 'a')}}).ok());
  EXPECT_THAT(ErrorOf({{"consumerID", std::string("a\0b", 3)}}), HasSubstr("consumerID: must not contain a NUL"));
  EXPECT_THAT(ErrorOf({{"consumerID", "a\xff"}}), HasSubstr("consumerID: must be valid UTF-8"));
}

TEST(BridgeConfigTest, NormalisesPlainSchemesToTcp) {
  EXPECT_EQ(MustParse(Minimal({{"url", "tcp://broker:1884"}})).config.broker_url, "tcp://broker:1884");
  EXPECT_EQ(MustParse(Minimal({{"url", "mqtt://broker"}})).config.broker_url, "tcp://broker:1883");
  EXPECT_EQ(MustParse(Minimal({{"url", "MQTT://Broker/"}})).config.broker_url, "tcp://Broker:1883");
  EXPECT_EQ(MustParse(Minimal({{"url", "  tcp://10.0.0.1:1883 "}})).config.broker_url, "tcp://10.0.0.1:1883");
}

TEST(BridgeConfigTest, NormalisesTlsSchemesToSslWithPort8883) {
  for (const char* url : {"ssl://broker", "mqtts://broker", "tls://broker", "TLS://broker"}) {
    const BridgeConfig config = MustParse(Minimal({{"url", url}})).config;
    EXPECT_EQ(config.broker_url, "ssl://broker:8883") << url;
    EXPECT_TRUE(config.UsesTls());
  }
}

TEST(BridgeConfigTest, KeepsIpv6LiteralInBrackets) {
  EXPECT_EQ(MustParse(Minimal({{"url", "tcp://[::1]:1884"}})).config.broker_url, "tcp://[::1]:1884");
  EXPECT_EQ(MustParse(Minimal({{"url", "mqtts://[2001:db8::5]"}})).config.broker_url, "ssl://[2001:db8::5]:8883");
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://::1:1883"}})), HasSubstr("url: an IPv6 address must be in brackets"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://[::1:1883"}})), HasSubstr("url: IPv6 address is missing"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://[zz]:1883"}})), HasSubstr("url: host \"zz\" is not a valid IPv6"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://[::1]x"}})), HasSubstr("url: expected ':port'"));
}

TEST(BridgeConfigTest, TakesCredentialsFromUrlAndStripsThem) {
  const BridgeConfig config = MustParse(Minimal({{"url", "tcp://alice:s%40cret@broker:1883"}})).config;
  EXPECT_EQ(config.username, "alice");
  EXPECT_EQ(config.password, "s@cret");
  EXPECT_EQ(config.broker_url, "tcp://broker:1883");
  EXPECT_EQ(config.broker_url_redacted, "tcp://broker:1883");
}

TEST(BridgeConfigTest, ExplicitCredentialKeysOverrideUrlCredentials) {
  const ParsedConfig parsed =
      MustParse(Minimal({{"url", "tcp://alice:old@broker"}, {"username", "bob"}, {"password", "new"}}));
  EXPECT_EQ(parsed.config.username, "bob");
  EXPECT_EQ(parsed.config.password, "new");
  ASSERT_EQ(parsed.warnings.size(), 1U);
  EXPECT_THAT(parsed.warnings[0], HasSubstr("overridden"));
  EXPECT_THAT(parsed.warnings[0], Not(HasSubstr("old")));

  const BridgeConfig only_password = MustParse(Minimal({{"url", "tcp://alice:old@broker"}, {"password", "new"}})).config;
  EXPECT_EQ(only_password.username, "alice");
  EXPECT_EQ(only_password.password, "new");
}

TEST(BridgeConfigTest, RejectsPasswordWithoutUsername) {
  EXPECT_THAT(ErrorOf(Minimal({{"password", "pw"}})), HasSubstr("password: a password needs a username"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://:pw@broker"}})), HasSubstr("url: a password needs a username"));
}

TEST(BridgeConfigTest, RejectsUnsupportedSchemeListingTheAllowedOnes) {
  EXPECT_EQ(ErrorOf(Minimal({{"url", "http://broker"}})), "url: scheme \"http\" is not one of tcp, mqtt, ssl, mqtts, tls");
  EXPECT_THAT(ErrorOf(Minimal({{"url", "ws://broker"}})), HasSubstr("url: scheme \"ws\""));
}

TEST(BridgeConfigTest, RejectsMalformedUrls) {
  EXPECT_THAT(ErrorOf(Minimal({{"url", "broker:1883"}})), HasSubstr("url: must look like scheme://host[:port]"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://"}})), HasSubstr("url: host is missing"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://:1883"}})), HasSubstr("url: host is missing"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://bro ker"}})), HasSubstr("url: host \"bro ker\" is not a valid host"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://broker/path"}})), HasSubstr("url: must not have a path"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://broker?x=1"}})), HasSubstr("url: must not have a path"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://a:b%zz@broker"}})), HasSubstr("url: credentials contain an invalid"));
}

TEST(BridgeConfigTest, RejectsPortOutOfRange) {
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://broker:0"}})), HasSubstr("url: port \"0\" must be 1-65535"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://broker:65536"}})), HasSubstr("url: port \"65536\" must be 1-65535"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://broker:"}})), HasSubstr("url: port \"\" must be 1-65535"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://broker:http"}})), HasSubstr("url: port \"http\""));
  EXPECT_EQ(MustParse(Minimal({{"url", "tcp://broker:65535"}})).config.broker_url, "tcp://broker:65535");
}

TEST(BridgeConfigTest, NeverEchoesUrlCredentialsInErrors) {
  const std::string message = ErrorOf(Minimal({{"url", "http://alice:Pa55word@broker"}}));
  EXPECT_THAT(message, Not(HasSubstr("Pa55word")));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://alice:Pa55word@broker:99999"}})), Not(HasSubstr("Pa55word")));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "tcp://alice:Pa55word@broker/x"}})), Not(HasSubstr("Pa55word")));
}

TEST(BridgeConfigTest, RejectsPemWithoutBeginMarker) {
  EXPECT_THAT(ErrorOf(Minimal({{"url", "ssl://b"}, {"caCert", "not pem"}})), HasSubstr("caCert: must be PEM text"));
  const std::string message =
      ErrorOf(Minimal({{"url", "ssl://b"}, {"clientCert", kCertPem}, {"clientKey", "TopSecretNotPem"}}));
  EXPECT_THAT(message, HasSubstr("clientKey: must be PEM text"));
  EXPECT_THAT(message, Not(HasSubstr("TopSecretNotPem")));
}

TEST(BridgeConfigTest, TreatsEmptyPemAsUnset) {
  const BridgeConfig config = MustParse(Minimal({{"caCert", ""}, {"clientCert", ""}, {"clientKey", ""}})).config;
  EXPECT_EQ(config.tls.ca_cert, "");
}

TEST(BridgeConfigTest, RequiresClientCertAndKeyTogether) {
  EXPECT_THAT(ErrorOf(Minimal({{"url", "ssl://b"}, {"clientCert", kCertPem}})),
              HasSubstr("clientKey: required when clientCert is set"));
  EXPECT_THAT(ErrorOf(Minimal({{"url", "ssl://b"}, {"clientKey", kKeyPem}})),
              HasSubstr("clientCert: required when clientKey is set"));
}

TEST(BridgeConfigTest, RejectsTlsMaterialWithPlainTcpUrl) {
  const std::string message = ErrorOf(Minimal({{"caCert", kCaPem}, {"clientCert", kCertPem}, {"clientKey", kKeyPem}}));
  EXPECT_THAT(message, HasSubstr("caCert: set, but url tcp://127.0.0.1:1883 is not TLS"));
  EXPECT_THAT(message, HasSubstr("clientCert: set"));
  EXPECT_THAT(message, HasSubstr("clientKey: set"));
  EXPECT_THAT(message, Not(HasSubstr("SuperSecretKeyMaterial")));
}

TEST(BridgeConfigTest, AcceptsCaCertAloneWithTlsUrl) {
  const BridgeConfig config = MustParse(Minimal({{"url", "tls://b"}, {"caCert", kCaPem}})).config;
  EXPECT_TRUE(config.UsesTls());
  EXPECT_EQ(config.tls.ca_cert, kCaPem);
}

TEST(BridgeConfigTest, StripsTrailingSlashesFromTopicPrefix) {
  EXPECT_EQ(MustParse(Minimal({{"topicPrefix", "a/b//"}})).config.topic_prefix, "a/b");
  EXPECT_EQ(MustParse(Minimal({{"topicPrefix", "/"}})).config.topic_prefix, "");
}

TEST(BridgeConfigTest, RejectsWildcardsAndNulInTopicPrefix) {
  EXPECT_THAT(ErrorOf(Minimal({{"topicPrefix", "a/+"}})), HasSubstr("topicPrefix: must not contain the MQTT wildcards"));
  EXPECT_THAT(ErrorOf(Minimal({{"topicPrefix", "a/#"}})), HasSubstr("topicPrefix: must not contain the MQTT wildcards"));
  EXPECT_THAT(ErrorOf(Minimal({{"topicPrefix", std::string("a\0b", 3)}})), HasSubstr("topicPrefix: must not contain a NUL"));
}

TEST(BridgeConfigTest, ValidatesKeepAliveRange) {
  EXPECT_EQ(MustParse(Minimal({{"keepAlive", "1s"}})).config.keep_alive, milliseconds{1000});
  EXPECT_EQ(MustParse(Minimal({{"keepAlive", "65535"}})).config.keep_alive, milliseconds{65'535'000});
  EXPECT_THAT(ErrorOf(Minimal({{"keepAlive", "500ms"}})), HasSubstr("keepAlive: must be between 1s and 18h12m15s"));
  EXPECT_THAT(ErrorOf(Minimal({{"keepAlive", "65536s"}})), HasSubstr("keepAlive: must be between"));
  EXPECT_THAT(ErrorOf(Minimal({{"keepAlive", "1.5s"}})), HasSubstr("keepAlive: must be whole seconds"));
  EXPECT_THAT(ErrorOf(Minimal({{"keepAlive", "soon"}})), HasSubstr("keepAlive: \"soon\" is not a duration"));
}

TEST(BridgeConfigTest, ValidatesConnectTimeoutRange) {
  EXPECT_EQ(MustParse(Minimal({{"connectTimeout", "60s"}})).config.connect_timeout, milliseconds{60'000});
  EXPECT_THAT(ErrorOf(Minimal({{"connectTimeout", "0"}})), HasSubstr("connectTimeout: must be between 1ms and 1m0s"));
  EXPECT_THAT(ErrorOf(Minimal({{"connectTimeout", "61s"}})), HasSubstr("connectTimeout: must be between"));
  EXPECT_THAT(ErrorOf(Minimal({{"connectTimeout", "-1s"}})), HasSubstr("connectTimeout: \"-1s\" is negative"));
}

TEST(BridgeConfigTest, RequiresPositivePublishTimeoutAndRedeliveryDelay) {
  EXPECT_THAT(ErrorOf(Minimal({{"publishTimeout", "0s"}})), HasSubstr("publishTimeout: must be at least 1ms"));
  EXPECT_THAT(ErrorOf(Minimal({{"redeliveryDelay", "0"}})), HasSubstr("redeliveryDelay: must be at least 1ms"));
  EXPECT_THAT(ErrorOf(Minimal({{"maxRedeliveryDelay", "x"}})), HasSubstr("maxRedeliveryDelay: \"x\" is not"));
}

TEST(BridgeConfigTest, RejectsMaxRedeliveryDelayBelowRedeliveryDelay) {
  EXPECT_THAT(ErrorOf(Minimal({{"redeliveryDelay", "5s"}, {"maxRedeliveryDelay", "2s"}})),
              HasSubstr("maxRedeliveryDelay: must be at least redeliveryDelay (5s), got 2s"));
  EXPECT_THAT(ErrorOf(Minimal({{"redeliveryDelay", "2m"}})), HasSubstr("maxRedeliveryDelay: must be at least"));
  EXPECT_TRUE(ParseBridgeConfig(Minimal({{"redeliveryDelay", "2s"}, {"maxRedeliveryDelay", "2s"}})).ok());
}

TEST(BridgeConfigTest, ValidatesMaxInFlightPerStreamRange) {
  EXPECT_EQ(MustParse(Minimal({{"maxInFlightPerStream", "1"}})).config.max_in_flight_per_stream, 1U);
  EXPECT_EQ(MustParse(Minimal({{"maxInFlightPerStream", "10000"}})).config.max_in_flight_per_stream, 10000U);
  for (const char* bad : {"0", "10001", "-1", "1.5", "lots", "", "99999999999999999999999"}) {
    EXPECT_THAT(ErrorOf(Minimal({{"maxInFlightPerStream", bad}})),
                HasSubstr("maxInFlightPerStream: must be a whole number from 1 to 10000"))
        << bad;
  }
}

TEST(BridgeConfigTest, ReportsEveryProblemAtOnce) {
  const std::string message = ErrorOf({{"url", "http://b"},
                                       {"qos", "2"},
                                       {"retain", "perhaps"},
                                       {"keepAlive", "0"},
                                       {"maxInFlightPerStream", "0"}});
  EXPECT_THAT(message, HasSubstr("url: scheme \"http\" is not one of tcp, mqtt, ssl, mqtts, tls"));
  EXPECT_THAT(message, HasSubstr("qos: must be 0 or 1, got \"2\""));
  EXPECT_THAT(message, HasSubstr("retain: must be true or false"));
  EXPECT_THAT(message, HasSubstr("keepAlive: must be between"));
  EXPECT_THAT(message, HasSubstr("maxInFlightPerStream: must be"));
  EXPECT_THAT(message, HasSubstr("consumerID: required"));
  EXPECT_EQ(std::count(message.begin(), message.end(), ';'), 5);
}

TEST(BridgeConfigTest, WarnsOnUnknownKeyWithoutItsValue) {
  const ParsedConfig parsed = MustParse(Minimal({{"brokerHost", "SensitiveValue42"}}));
  ASSERT_EQ(parsed.warnings.size(), 1U);
  EXPECT_THAT(parsed.warnings[0], HasSubstr("\"brokerHost\""));
  EXPECT_THAT(parsed.warnings[0], Not(HasSubstr("SensitiveValue42")));
}

TEST(BridgeConfigTest, AcceptsDaprdKeysSilently) {
  const ParsedConfig parsed = MustParse(Minimal({{"publishingScopes", "app1=a,b"},
                                                 {"subscriptionScopes", "app1=a"},
                                                 {"allowedTopics", "a,b"},
                                                 {"protectedTopics", "c"}}));
  EXPECT_TRUE(parsed.warnings.empty());
}

TEST(BridgeConfigTest, WarnsThatBackOffMaxRetriesIsNotUsed) {
  const ParsedConfig parsed = MustParse(Minimal({{"backOffMaxRetries", "5"}}));
  ASSERT_EQ(parsed.warnings.size(), 1U);
  EXPECT_THAT(parsed.warnings[0], HasSubstr("backOffMaxRetries"));
  EXPECT_THAT(parsed.warnings[0], HasSubstr("not used"));
}

TEST(BridgeConfigTest, DescribeNeverContainsSecrets) {
  const BridgeConfig config = MustParse({{"url", "ssl://alice:UrlPa55@broker"},
                                         {"consumerID", "app1"},
                                         {"password", "KeyPa55"},
                                         {"caCert", kCaPem},
                                         {"clientCert", kCertPem},
                                         {"clientKey", kKeyPem}})
                                  .config;
  const std::string line = config.Describe();
  EXPECT_THAT(line, Not(HasSubstr("KeyPa55")));
  EXPECT_THAT(line, Not(HasSubstr("UrlPa55")));
  EXPECT_THAT(line, Not(HasSubstr("SuperSecretKeyMaterial")));
  EXPECT_THAT(line, Not(HasSubstr("BEGIN")));
  EXPECT_THAT(line, HasSubstr("password=<set>"));
  EXPECT_THAT(line, HasSubstr("clientKey=<set>"));
  EXPECT_THAT(line, HasSubstr("url=ssl://broker:8883"));
  EXPECT_THAT(line, HasSubstr("username=alice"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(BridgeConfigTest, DescribeListsEveryValueAsKeyEqualsValue) {
  const std::string line = MustParse(Minimal({{"consumerID", "my app"}})).config.Describe();
  EXPECT_EQ(line,
            "url=tcp://127.0.0.1:1883 consumerID=\"my app\" qos=1 retain=false cleanSession=false username=\"\" "
            "password=<unset> caCert=<unset> clientCert=<unset> clientKey=<unset> topicPrefix=\"\" keepAlive=30s "
            "connectTimeout=3s publishTimeout=10s redeliveryDelay=1s maxRedeliveryDelay=1m0s "
            "maxInFlightPerStream=32 maxRedeliveries=0 deadLetterTopic=\"\" maxPendingMessages=100000 maxPendingBytes=67108864 offlineBuffer=false maxOfflineMessages=10000 durability=process");
}

TEST(BridgeConfigTest, DocumentsEveryKeyOnce) {
  const auto docs = MetadataKeyDocs();
  std::set<std::string> names;
  for (const MetadataKeyDoc& doc : docs) {
    EXPECT_TRUE(names.insert(std::string(doc.name)).second) << doc.name;
    EXPECT_FALSE(doc.doc.empty()) << doc.name;
    EXPECT_FALSE(doc.type.empty()) << doc.name;
  }
  for (const char* key : {"url", "qos", "retain", "cleanSession", "consumerID", "caCert", "clientCert", "clientKey",
                          "username", "password", "topicPrefix", "keepAlive", "connectTimeout", "publishTimeout",
                          "redeliveryDelay", "maxRedeliveryDelay", "maxInFlightPerStream", "backOffMaxRetries",
                          "publishingScopes", "subscriptionScopes", "allowedTopics", "protectedTopics"}) {
    EXPECT_TRUE(names.contains(key)) << key;
  }
}

TEST(BridgeConfigTest, MarksPasswordAndClientKeyAsSecret) {
  for (const MetadataKeyDoc& doc : MetadataKeyDocs()) {
    const bool expected = doc.name == "password" || doc.name == "clientKey";
    EXPECT_EQ(doc.secret, expected) << doc.name;
  }
}

TEST(BridgeConfigTest, DocumentedDefaultsAreWhatParsingApplies) {
  // Passing each documented default explicitly must change nothing.
  Metadata explicit_defaults = Minimal();
  for (const MetadataKeyDoc& doc : MetadataKeyDocs()) {
    if (!doc.default_value.empty()) explicit_defaults.emplace(doc.name, doc.default_value);
  }
  EXPECT_EQ(MustParse(explicit_defaults).config.Describe(), MustParse(Minimal()).config.Describe());
}

TEST(BridgeConfigTest, NeverEchoesSecretValuesInErrors) {
  const std::string message = ErrorOf(Minimal({{"password", std::string(70'000, 'S')}}));
  EXPECT_THAT(message, HasSubstr("password: must be at most 65535 bytes"));
  EXPECT_THAT(message, Not(HasSubstr("SSSS")));
}

TEST(BridgeConfigTest, DurabilityDefaultsToProcessAndAcceptsTheThreeLevels) {
  auto parsed = ParseBridgeConfig({{"consumerID", "c"}});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->config.durability, Durability::kProcess);
  for (auto [text, level] : {std::pair{"memory", Durability::kMemory}, std::pair{"FSYNC", Durability::kFsync}}) {
    auto other = ParseBridgeConfig({{"consumerID", "c"}, {"durability", text}});
    ASSERT_TRUE(other.ok()) << text;
    EXPECT_EQ(other->config.durability, level);
  }
}

TEST(BridgeConfigTest, RejectsUnknownDurabilityNamingTheAllowedValues) {
  auto parsed = ParseBridgeConfig({{"consumerID", "c"}, {"durability", "disk"}});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("durability: must be memory, process or fsync"), std::string::npos)
      << parsed.error().message;
}

}  // namespace
}  // namespace bridge
