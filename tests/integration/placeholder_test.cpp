#include <gtest/gtest.h>
#include <unistd.h>
TEST(DaemonBinaryTest, IsExecutable) { EXPECT_EQ(access(BRIDGE_DAEMON_PATH, X_OK), 0); }
