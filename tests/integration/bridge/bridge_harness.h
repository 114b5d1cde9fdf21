#pragma once

// Plays daprd against a real bridge process over its real Unix socket.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "dapr/proto/components/v1/pubsub.grpc.pb.h"
#include "support/test_support.h"

namespace bridge::testing {

namespace v1 = dapr::proto::components::v1;
using namespace std::chrono_literals;

/// The daemon binary (through the cross emulator when there is one), with
/// its own socket folder and state dir. The destructor SIGKILLs it.
class BridgeProcess {
 public:
  static std::unique_ptr<BridgeProcess> Start(const std::string& socket_folder, const std::string& state_dir,
                                              const std::string& log_path, const std::string& socket_name = "mqtt-bridge");
  const std::string& socket_path() const { return socket_path_; }
  ChildProcess& process() { return *process_; }
  std::string ReadLog() const { return process_->ReadLog(); }

 private:
  std::string socket_path_;
  std::unique_ptr<ChildProcess> process_;
};

/// One PullMessages stream as daprd drives it: a reader thread collects
/// messages, the test acks them. The stream has an overall 120 s deadline.
class PullStream {
 public:
  PullStream(v1::PubSub::Stub& stub, const std::string& instance, const std::string& topic,
             std::map<std::string, std::string> topic_metadata = {});
  ~PullStream();

  /// Waits for the response headers, which the bridge sends once the broker
  /// granted the MQTT subscription.
  bool WaitActive(std::chrono::milliseconds deadline = 10s);
  std::optional<v1::PullMessagesResponse> Next(std::chrono::milliseconds deadline = 10s);
  /// Collects `n` messages or returns what came before the deadline.
  std::vector<v1::PullMessagesResponse> NextN(std::size_t n, std::chrono::milliseconds deadline = 10s);
  bool Ack(const std::string& id);
  bool Nack(const std::string& id, const std::string& reason = "app said RETRY");
  /// Cancels the RPC the way daprd does when a subscription stops.
  void Cancel();
  /// Waits until the server ended the stream; its status.
  std::optional<grpc::Status> WaitFinished(std::chrono::milliseconds deadline = 10s);

 private:
  void ReadLoop();

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::PullMessagesRequest, v1::PullMessagesResponse>> stream_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<v1::PullMessagesResponse> received_;
  bool active_ = false;
  bool ended_ = false;
  std::optional<grpc::Status> status_;
  std::mutex write_mutex_;
  std::thread reader_;
};

/// A gRPC client for the bridge's PubSub service, with the instance header.
class FakeDaprd {
 public:
  explicit FakeDaprd(const std::string& socket_path);

  grpc::Status Init(const std::string& instance, const std::map<std::string, std::string>& metadata);
  grpc::Status Features(const std::string& instance, std::vector<std::string>* features);
  grpc::Status Publish(const std::string& instance, const std::string& topic, const std::string& data,
                       const std::map<std::string, std::string>& metadata = {});
  grpc::Status BulkPublish(const std::string& instance, const v1::BulkPublishRequest& request,
                           v1::BulkPublishResponse* response);
  grpc::Status Pause(const std::string& instance);
  grpc::Status Resume(const std::string& instance);
  grpc::Status Ping(const std::string& instance);
  std::unique_ptr<PullStream> Pull(const std::string& instance, const std::string& topic,
                                   std::map<std::string, std::string> topic_metadata = {});

  /// A PullMessages stream that never sends its first message: a stuck or
  /// slow subscriber. Cancelled when the returned context is destroyed.
  struct SilentStream {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<v1::PullMessagesRequest, v1::PullMessagesResponse>> stream;
    ~SilentStream() { context.TryCancel(); }
  };
  std::unique_ptr<SilentStream> OpenSilentStream(const std::string& instance);

  /// Metadata for an instance on `broker_url` with a unique client id.
  static std::map<std::string, std::string> Metadata(const std::string& broker_url, const std::string& consumer_id,
                                                     std::map<std::string, std::string> extra = {});

 private:
  void Prepare(grpc::ClientContext& context, const std::string& instance, std::chrono::milliseconds deadline = 15s);
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PubSub::Stub> stub_;
};

}  // namespace bridge::testing
