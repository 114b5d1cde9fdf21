#include "bridge/topic_mapper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bridge {
namespace {

using ::testing::HasSubstr;

std::string Ok(const Result<std::string>& result) {
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : std::string("<error>");
}

std::string ErrorOf(const Result<std::string>& result) {
  EXPECT_FALSE(result.ok()) << "unexpectedly mapped to " << (result.ok() ? *result : "");
  if (result.ok()) return {};
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidArgument);
  return result.error().message;
}

TEST(TopicMapperTest, JoinsPrefixWithSlash) {
  const TopicMapper mapper("p");
  EXPECT_EQ(Ok(mapper.ToMqttPublishTopic("orders")), "p/orders");
  EXPECT_EQ(Ok(mapper.ToMqttFilter("orders/+")), "p/orders/+");
  EXPECT_EQ(Ok(TopicMapper("a/b").ToMqttPublishTopic("c/d")), "a/b/c/d");
}

TEST(TopicMapperTest, LeavesTopicsUnchangedWithoutPrefix) {
  const TopicMapper mapper;
  EXPECT_EQ(Ok(mapper.ToMqttPublishTopic("orders")), "orders");
  EXPECT_EQ(Ok(mapper.ToMqttPublishTopic("/leading/slash/")), "/leading/slash/");
  EXPECT_EQ(Ok(mapper.ToMqttFilter("#")), "#");
}

TEST(TopicMapperTest, RejectsEmptyPublishTopic) {
  EXPECT_THAT(ErrorOf(TopicMapper("p").ToMqttPublishTopic("")), HasSubstr("must not be empty"));
}

TEST(TopicMapperTest, RejectsWildcardInPublishTopic) {
  const TopicMapper mapper;
  EXPECT_THAT(ErrorOf(mapper.ToMqttPublishTopic("a/+/c")), HasSubstr("wildcard"));
  EXPECT_THAT(ErrorOf(mapper.ToMqttPublishTopic("a/#")), HasSubstr("wildcard"));
  EXPECT_THAT(ErrorOf(mapper.ToMqttPublishTopic("a+b")), HasSubstr("wildcard"));
}

TEST(TopicMapperTest, RejectsNulInPublishTopicAndShowsItEscaped) {
  const std::string message = ErrorOf(TopicMapper().ToMqttPublishTopic(std::string("a\0b", 3)));
  EXPECT_THAT(message, HasSubstr("NUL"));
  EXPECT_THAT(message, HasSubstr("a\\x00b"));
}

TEST(TopicMapperTest, RejectsTopicOverMqttLimitCountingThePrefix) {
  EXPECT_EQ(Ok(TopicMapper().ToMqttPublishTopic(std::string(65535, 'a'))).size(), 65535U);
  EXPECT_THAT(ErrorOf(TopicMapper().ToMqttPublishTopic(std::string(65536, 'a'))), HasSubstr("65535"));
  EXPECT_THAT(ErrorOf(TopicMapper("p").ToMqttPublishTopic(std::string(65534, 'a'))), HasSubstr("65535"));
  EXPECT_THAT(ErrorOf(TopicMapper("p").ToMqttFilter(std::string(65534, 'a'))), HasSubstr("65535"));
}

TEST(TopicMapperTest, AcceptsValidFilters) {
  const TopicMapper mapper;
  for (const char* filter : {"a", "+", "#", "a/+", "a/#", "+/+", "+/b/#", "a//b", "/", "/#", "a/+/+/#"}) {
    EXPECT_EQ(Ok(mapper.ToMqttFilter(filter)), filter);
  }
}

TEST(TopicMapperTest, RejectsHashThatIsNotTheWholeLastLevel) {
  const TopicMapper mapper;
  for (const char* filter : {"a/#/b", "a#", "a/b#", "#/a", "##"}) {
    EXPECT_THAT(ErrorOf(mapper.ToMqttFilter(filter)), HasSubstr("'#' is allowed only as the whole last level"))
        << filter;
  }
}

TEST(TopicMapperTest, RejectsPlusThatIsNotAWholeLevel) {
  const TopicMapper mapper;
  for (const char* filter : {"a+", "a/b+/c", "++", "+a/b"}) {
    EXPECT_THAT(ErrorOf(mapper.ToMqttFilter(filter)), HasSubstr("'+' is allowed only as a whole level")) << filter;
  }
}

TEST(TopicMapperTest, RejectsEmptyOrNulFilter) {
  EXPECT_THAT(ErrorOf(TopicMapper().ToMqttFilter("")), HasSubstr("must not be empty"));
  EXPECT_THAT(ErrorOf(TopicMapper().ToMqttFilter(std::string("a/\0", 3))), HasSubstr("NUL"));
}

TEST(TopicMapperTest, StripsPrefixForDaprTopic) {
  const TopicMapper mapper("p");
  EXPECT_EQ(mapper.ToDaprTopic("p/orders"), "orders");
  EXPECT_EQ(mapper.ToDaprTopic("p/a/b"), "a/b");
  EXPECT_EQ(mapper.ToDaprTopic("p//x"), "/x");
}

TEST(TopicMapperTest, ReturnsNothingForTopicOutsidePrefix) {
  const TopicMapper mapper("p");
  EXPECT_EQ(mapper.ToDaprTopic("q/orders"), std::nullopt);
  EXPECT_EQ(mapper.ToDaprTopic("px/orders"), std::nullopt);
  EXPECT_EQ(mapper.ToDaprTopic("p"), std::nullopt);
  EXPECT_EQ(mapper.ToDaprTopic("p/"), std::nullopt);
  EXPECT_EQ(mapper.ToDaprTopic("orders"), std::nullopt);
}

TEST(TopicMapperTest, ReturnsTopicUnchangedWithoutPrefix) {
  EXPECT_EQ(TopicMapper().ToDaprTopic("a/b"), "a/b");
  EXPECT_EQ(TopicMapper().ToDaprTopic(""), std::nullopt);
}

TEST(TopicMapperTest, RoundTripsPublishTopicThroughDaprTopic) {
  const TopicMapper mapper("site/1");
  for (const char* topic : {"orders", "a/b/c", "/x", "y/"}) {
    EXPECT_EQ(mapper.ToDaprTopic(Ok(mapper.ToMqttPublishTopic(topic))), topic);
  }
}

TEST(TopicMatchesFilterTest, MatchesExactTopic) {
  EXPECT_TRUE(TopicMatchesFilter("a/b", "a/b"));
  EXPECT_FALSE(TopicMatchesFilter("a/b", "a/b/c"));
  EXPECT_FALSE(TopicMatchesFilter("a/b/c", "a/b"));
  EXPECT_FALSE(TopicMatchesFilter("a/b", "A/b"));
}

TEST(TopicMatchesFilterTest, MatchesPlusAsExactlyOneLevel) {
  EXPECT_TRUE(TopicMatchesFilter("sport/tennis/+", "sport/tennis/player1"));
  EXPECT_FALSE(TopicMatchesFilter("sport/tennis/+", "sport/tennis/player1/ranking"));
  EXPECT_FALSE(TopicMatchesFilter("sport/+", "sport"));
  EXPECT_TRUE(TopicMatchesFilter("sport/+", "sport/"));
  EXPECT_TRUE(TopicMatchesFilter("+/+", "/finance"));
  EXPECT_TRUE(TopicMatchesFilter("/+", "/finance"));
  EXPECT_FALSE(TopicMatchesFilter("+", "/finance"));
  EXPECT_TRUE(TopicMatchesFilter("+/b/+", "a/b/c"));
}

TEST(TopicMatchesFilterTest, MatchesHashIncludingTheParentLevel) {
  EXPECT_TRUE(TopicMatchesFilter("sport/#", "sport"));
  EXPECT_TRUE(TopicMatchesFilter("sport/#", "sport/"));
  EXPECT_TRUE(TopicMatchesFilter("sport/#", "sport/tennis/player1"));
  EXPECT_TRUE(TopicMatchesFilter("sport/tennis/#", "sport/tennis"));
  EXPECT_FALSE(TopicMatchesFilter("sport/#", "sports"));
  EXPECT_FALSE(TopicMatchesFilter("sport/tennis/#", "sport"));
  EXPECT_TRUE(TopicMatchesFilter("#", "a/b/c"));
  EXPECT_TRUE(TopicMatchesFilter("#", "/"));
  EXPECT_TRUE(TopicMatchesFilter("+/#", "a"));
}

TEST(TopicMatchesFilterTest, DoesNotMatchDollarTopicsWithLeadingWildcard) {
  EXPECT_FALSE(TopicMatchesFilter("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(TopicMatchesFilter("+/broker/uptime", "$SYS/broker/uptime"));
  EXPECT_TRUE(TopicMatchesFilter("$SYS/#", "$SYS/broker/uptime"));
  EXPECT_TRUE(TopicMatchesFilter("$SYS/+/uptime", "$SYS/broker/uptime"));
  EXPECT_TRUE(TopicMatchesFilter("a/#", "a/$b"));
}

TEST(TopicMatchesFilterTest, NeverMatchesEmptyTopicOrFilter) {
  EXPECT_FALSE(TopicMatchesFilter("", "a"));
  EXPECT_FALSE(TopicMatchesFilter("#", ""));
}

}  // namespace
}  // namespace bridge
