// daprd finds pluggable components only through gRPC server reflection
// (grpc.reflection.v1alpha, one list_services request). Do what it does.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace bridge::testing {
namespace {

using namespace std::chrono_literals;
namespace reflection = grpc::reflection::v1alpha;

bool SocketAccepts(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

TEST(ReflectionTest, ListsThePubSubServiceTheWayDaprdDiscoversIt) {
  TempDir dir;
  const std::string folder = dir.path() + "/sockets";
  std::vector<std::string> argv;
  if (std::string emulator = BRIDGE_EMULATOR; !emulator.empty()) argv.push_back(emulator);
  argv.insert(argv.end(), {BRIDGE_DAEMON_PATH, "--socket-name", "mqtt-bridge", "--state-dir", dir.path() + "/state"});
  auto bridge = ChildProcess::Start(argv, {{"DAPR_COMPONENTS_SOCKETS_FOLDER", folder}}, dir.path() + "/bridge.log");
  ASSERT_NE(bridge, nullptr);
  const std::string socket = folder + "/mqtt-bridge.sock";
  ASSERT_TRUE(WaitUntil([&] { return SocketAccepts(socket); }, 20s)) << bridge->ReadLog();

  auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  auto stub = reflection::ServerReflection::NewStub(channel);
  grpc::ClientContext context;  // daprd sends no x-component-instance here
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto stream = stub->ServerReflectionInfo(&context);
  reflection::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  reflection::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(stream->Finish().ok());

  std::vector<std::string> services;
  for (const auto& service : response.list_services_response().service()) services.push_back(service.name());
  EXPECT_NE(std::find(services.begin(), services.end(), "dapr.proto.components.v1.PubSub"), services.end())
      << "daprd registers pubsub.mqtt-bridge only if this exact name is listed";
}

}  // namespace
}  // namespace bridge::testing
