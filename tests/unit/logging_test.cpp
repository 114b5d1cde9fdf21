#include "util/logging.h"

#include <gtest/gtest.h>

namespace bridge {
namespace {

TEST(LoggingTest, RejectsUnknownLevelName) {
  EXPECT_FALSE(ConfigureLogging("loud"));
  EXPECT_TRUE(ConfigureLogging("off"));
  EXPECT_TRUE(ConfigureLogging("info"));
  EXPECT_EQ(Logger("bridge")->level(), spdlog::level::info);
}

}  // namespace
}  // namespace bridge
