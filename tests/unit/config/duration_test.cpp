#include "config/duration.h"

#include <gtest/gtest.h>

namespace bridge {
namespace {

using std::chrono::milliseconds;

milliseconds Parsed(std::string_view text) {
  auto result = ParseDuration(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : milliseconds{-1};
}

TEST(DurationTest, ParsesGoDurations) {
  EXPECT_EQ(Parsed("500ms"), milliseconds{500});
  EXPECT_EQ(Parsed("1.5s"), milliseconds{1500});
  EXPECT_EQ(Parsed("1m30s"), milliseconds{90'000});
  EXPECT_EQ(Parsed("2h"), milliseconds{7'200'000});
  EXPECT_EQ(Parsed("1h2m3s4ms"), milliseconds{3'723'004});
  EXPECT_EQ(Parsed(".5s"), milliseconds{500});
  EXPECT_EQ(Parsed("+3s"), milliseconds{3000});
  EXPECT_EQ(Parsed("0.25m"), milliseconds{15'000});
}

TEST(DurationTest, ParsesZeroWithoutUnit) { EXPECT_EQ(Parsed("0"), milliseconds{0}); }

TEST(DurationTest, ReadsBareIntegerAsSeconds) {
  EXPECT_EQ(Parsed("30"), milliseconds{30'000});
  EXPECT_EQ(Parsed("007"), milliseconds{7000});
}

TEST(DurationTest, TruncatesBelowOneMillisecond) {
  EXPECT_EQ(Parsed("1500us"), milliseconds{1});
  EXPECT_EQ(Parsed("999999ns"), milliseconds{0});
  EXPECT_EQ(Parsed("2\xC2\xB5s"), milliseconds{0});
}

TEST(DurationTest, RejectsNegativeValues) {
  EXPECT_FALSE(ParseDuration("-1s").ok());
  EXPECT_FALSE(ParseDuration("-5").ok());
  EXPECT_NE(ParseDuration("-1s").error().message.find("negative"), std::string::npos);
}

TEST(DurationTest, RejectsGarbage) {
  for (std::string_view text : {"", "abc", "1.5", "5 s", "s", "1x", "1s2", "1..5s", ".s", "+", "1S", " 1s", "1e3s"}) {
    auto result = ParseDuration(text);
    EXPECT_FALSE(result.ok()) << "accepted \"" << text << "\"";
    if (!result.ok()) {
      EXPECT_EQ(result.error().kind, ErrorKind::kInvalidArgument);
    }
  }
}

TEST(DurationTest, QuotesBadInputPrintablyAndBounded) {
  const std::string message = ParseDuration(std::string("1\n") + std::string(500, 'x')).error().message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_LT(message.size(), 200U);
}

TEST(DurationTest, RejectsOverflow) {
  EXPECT_FALSE(ParseDuration("99999999999999999999s").ok());
  EXPECT_FALSE(ParseDuration("3000000h").ok());
  EXPECT_FALSE(ParseDuration("9223372036855").ok());  // seconds beyond int64 nanoseconds
  EXPECT_FALSE(ParseDuration("2562047h2562047h").ok());
  EXPECT_TRUE(ParseDuration("2562047h").ok());  // just under Go's limit
}

TEST(DurationTest, FormatsAsGoDoesAndRoundTrips) {
  EXPECT_EQ(FormatDuration(milliseconds{0}), "0s");
  EXPECT_EQ(FormatDuration(milliseconds{250}), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds{30'000}), "30s");
  EXPECT_EQ(FormatDuration(milliseconds{90'000}), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds{1500}), "1.5s");
  EXPECT_EQ(FormatDuration(milliseconds{3'600'050}), "1h0m0.05s");
  for (std::int64_t ms : {1, 999, 1000, 1001, 59'999, 3'600'000, 86'400'123}) {
    EXPECT_EQ(Parsed(FormatDuration(milliseconds{ms})), milliseconds{ms}) << FormatDuration(milliseconds{ms});
  }
}

}  // namespace
}  // namespace bridge
