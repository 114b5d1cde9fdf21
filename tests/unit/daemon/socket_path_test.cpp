#include "daemon/socket_path.h"

#include <sys/un.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace bridge {
namespace {

using ::testing::HasSubstr;

// An environment made of a map, so no test touches the real one.
EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr std::size_t kSunPathMax = sizeof(sockaddr_un{}.sun_path) - 1;

TEST(SocketFolderTest, PrefersDaprdsOwnVariable) {
  EXPECT_EQ(ResolveSocketFolder(FakeEnv({{"DAPR_COMPONENTS_SOCKETS_FOLDER", "/run/daprd"},
                                         {"DAPR_COMPONENT_SOCKETS_FOLDER", "/run/sdk"}})),
            "/run/daprd");
}

TEST(SocketFolderTest, FallsBackToTheGoSdkVariable) {
  EXPECT_EQ(ResolveSocketFolder(FakeEnv({{"DAPR_COMPONENT_SOCKETS_FOLDER", "/run/sdk"}})), "/run/sdk");
}

TEST(SocketFolderTest, SkipsAnEmptyDaprdVariable) {
  EXPECT_EQ(ResolveSocketFolder(FakeEnv({{"DAPR_COMPONENTS_SOCKETS_FOLDER", ""},
                                         {"DAPR_COMPONENT_SOCKETS_FOLDER", "/run/sdk"}})),
            "/run/sdk");
}

TEST(SocketFolderTest, DefaultsToDaprdsDefaultFolder) {
  EXPECT_EQ(ResolveSocketFolder(FakeEnv({})), "/tmp/dapr-components-sockets");
  EXPECT_EQ(ResolveSocketFolder(
                FakeEnv({{"DAPR_COMPONENTS_SOCKETS_FOLDER", ""}, {"DAPR_COMPONENT_SOCKETS_FOLDER", ""}})),
            "/tmp/dapr-components-sockets");
}

TEST(SocketPathTest, JoinsFolderNameAndSockSuffix) {
  auto path = SocketPath("/tmp/dapr-components-sockets", "mqtt");
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(*path, "/tmp/dapr-components-sockets/mqtt.sock");
}

TEST(SocketPathTest, DropsTrailingSlashesOfTheFolder) {
  auto path = SocketPath("/run/x//", "mqtt");
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(*path, "/run/x/mqtt.sock");
}

TEST(SocketPathTest, RejectsANameWithASlash) {
  auto path = SocketPath("/tmp", "a/b");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_THAT(path.error().message, HasSubstr("a/b"));
}

TEST(SocketPathTest, RejectsAnEmptyName) {
  auto path = SocketPath("/tmp", "");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().kind, ErrorKind::kInvalidArgument);
}

TEST(SocketPathTest, RejectsDotNames) {
  EXPECT_FALSE(SocketPath("/tmp", ".").ok());
  EXPECT_FALSE(SocketPath("/tmp", "..").ok());
}

TEST(SocketPathTest, AcceptsAPathThatExactlyFitsSunPath) {
  // "/" + name + ".sock" after a one-character folder.
  const std::string name(kSunPathMax - std::string("/x/.sock").size(), 'n');
  auto path = SocketPath("/x", name);
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(path->size(), kSunPathMax);
}

TEST(SocketPathTest, RejectsAPathLongerThanSunPath) {
  const std::string name(kSunPathMax - std::string("/x/.sock").size() + 1, 'n');
  auto path = SocketPath("/x", name);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_THAT(path.error().message, HasSubstr(std::to_string(kSunPathMax)));
}

TEST(StateDirTest, FlagWinsOverEverything) {
  EXPECT_EQ(ResolveStateDir("/srv/state", FakeEnv({{"STATE_DIRECTORY", "/var/lib/x"}})), "/srv/state");
}

TEST(StateDirTest, UsesSystemdStateDirectory) {
  EXPECT_EQ(ResolveStateDir("", FakeEnv({{"STATE_DIRECTORY", "/var/lib/x"}})), "/var/lib/x");
}

TEST(StateDirTest, TakesTheFirstOfSeveralSystemdStateDirectories) {
  EXPECT_EQ(ResolveStateDir("", FakeEnv({{"STATE_DIRECTORY", "/var/lib/a:/var/lib/b"}})), "/var/lib/a");
}

TEST(StateDirTest, DefaultsWhenNothingIsSet) {
  EXPECT_EQ(ResolveStateDir("", FakeEnv({})), "/var/lib/dapr-mqtt-bridge");
  EXPECT_EQ(ResolveStateDir("", FakeEnv({{"STATE_DIRECTORY", ""}})), "/var/lib/dapr-mqtt-bridge");
}

}  // namespace
}  // namespace bridge
