#include "bridge/bridge_harness.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace bridge::testing {
namespace {

bool SocketAccepts(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::unique_ptr<BridgeProcess> BridgeProcess::Start(const std::string& socket_folder, const std::string& state_dir,
                                                    const std::string& log_path, const std::string& socket_name) {
  std::vector<std::string> argv;
  const std::string emulator = BRIDGE_EMULATOR;
  if (!emulator.empty()) argv.push_back(emulator);
  argv.insert(argv.end(), {BRIDGE_DAEMON_PATH, "--socket-name", socket_name, "--state-dir", state_dir,
                           "--log-level", "debug"});
  auto bridge = std::make_unique<BridgeProcess>();
  bridge->socket_path_ = socket_folder + "/" + socket_name + ".sock";
  bridge->process_ = ChildProcess::Start(argv, {{"DAPR_COMPONENTS_SOCKETS_FOLDER", socket_folder}}, log_path);
  if (!bridge->process_) return nullptr;
  const auto& path = bridge->socket_path_;
  if (!WaitUntil([&] { return SocketAccepts(path) || !bridge->process_->Running(); }, 20s) ||
      !bridge->process_->Running()) {
    std::fprintf(stderr, "bridge did not start listening on %s:\n%s\n", path.c_str(), bridge->ReadLog().c_str());
    return nullptr;
  }
  return bridge;
}

PullStream::PullStream(v1::PubSub::Stub& stub, const std::string& instance, const std::string& topic,
                       std::map<std::string, std::string> topic_metadata) {
  context_.AddMetadata("x-component-instance", instance);
  context_.set_deadline(std::chrono::system_clock::now() + 120s);
  stream_ = stub.PullMessages(&context_);
  v1::PullMessagesRequest first;
  first.mutable_topic()->set_name(topic);
  first.mutable_topic()->mutable_metadata()->insert(topic_metadata.begin(), topic_metadata.end());
  stream_->Write(first);
  reader_ = std::thread([this] { ReadLoop(); });
}

PullStream::~PullStream() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

void PullStream::ReadLoop() {
  stream_->WaitForInitialMetadata();
  {
    std::lock_guard lock(mutex_);
    active_ = true;
  }
  changed_.notify_all();
  v1::PullMessagesResponse response;
  while (stream_->Read(&response)) {
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(response));
    changed_.notify_all();
  }
  auto status = stream_->Finish();
  std::lock_guard lock(mutex_);
  ended_ = true;
  status_ = status;
  changed_.notify_all();
}

bool PullStream::WaitActive(std::chrono::milliseconds deadline) {
  std::unique_lock lock(mutex_);
  // Headers arrive with the trailers when the server rejects the stream.
  return changed_.wait_for(lock, deadline, [this] { return active_ || ended_; }) && !ended_;
}

std::optional<v1::PullMessagesResponse> PullStream::Next(std::chrono::milliseconds deadline) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, deadline, [this] { return !received_.empty() || ended_; })) return std::nullopt;
  if (received_.empty()) return std::nullopt;
  auto response = std::move(received_.front());
  received_.pop_front();
  return response;
}

std::vector<v1::PullMessagesResponse> PullStream::NextN(std::size_t n, std::chrono::milliseconds deadline) {
  std::vector<v1::PullMessagesResponse> out;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto next = Next(left);
    if (!next) break;
    out.push_back(std::move(*next));
  }
  return out;
}

bool PullStream::Ack(const std::string& id) {
  v1::PullMessagesRequest ack;
  ack.set_ack_message_id(id);
  std::lock_guard lock(write_mutex_);
  return stream_->Write(ack);
}

bool PullStream::Nack(const std::string& id, const std::string& reason) {
  v1::PullMessagesRequest ack;
  ack.set_ack_message_id(id);
  ack.mutable_ack_error()->set_message(reason);
  std::lock_guard lock(write_mutex_);
  return stream_->Write(ack);
}

void PullStream::Cancel() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

std::optional<grpc::Status> PullStream::WaitFinished(std::chrono::milliseconds deadline) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, deadline, [this] { return ended_; })) return std::nullopt;
  return status_;
}

FakeDaprd::FakeDaprd(const std::string& socket_path) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 * 1024 * 1024);  // what daprd's grpc-go client allows
  args.SetMaxSendMessageSize(-1);
  channel_ = grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::PubSub::NewStub(channel_);
}

void FakeDaprd::Prepare(grpc::ClientContext& context, const std::string& instance,
                        std::chrono::milliseconds deadline) {
  if (!instance.empty()) context.AddMetadata("x-component-instance", instance);
  context.set_deadline(std::chrono::system_clock::now() + deadline);
}

grpc::Status FakeDaprd::Init(const std::string& instance, const std::map<std::string, std::string>& metadata) {
  grpc::ClientContext context;
  Prepare(context, instance);
  v1::PubSubInitRequest request;
  request.mutable_metadata()->mutable_properties()->insert(metadata.begin(), metadata.end());
  v1::PubSubInitResponse response;
  return stub_->Init(&context, request, &response);
}

grpc::Status FakeDaprd::Features(const std::string& instance, std::vector<std::string>* features) {
  grpc::ClientContext context;
  Prepare(context, instance);
  v1::FeaturesResponse response;
  auto status = stub_->Features(&context, v1::FeaturesRequest{}, &response);
  features->assign(response.features().begin(), response.features().end());
  return status;
}

grpc::Status FakeDaprd::Publish(const std::string& instance, const std::string& topic, const std::string& data,
                                const std::map<std::string, std::string>& metadata) {
  grpc::ClientContext context;
  Prepare(context, instance);
  v1::PublishRequest request;
  request.set_topic(topic);
  request.set_data(data);
  request.set_pubsub_name(instance);
  request.mutable_metadata()->insert(metadata.begin(), metadata.end());
  v1::PublishResponse response;
  return stub_->Publish(&context, request, &response);
}

grpc::Status FakeDaprd::BulkPublish(const std::string& instance, const v1::BulkPublishRequest& request,
                                    v1::BulkPublishResponse* response) {
  grpc::ClientContext context;
  Prepare(context, instance);
  return stub_->BulkPublish(&context, request, response);
}

grpc::Status FakeDaprd::Pause(const std::string& instance) {
  grpc::ClientContext context;
  Prepare(context, instance);
  v1::PauseResponse response;
  return stub_->Pause(&context, v1::PauseRequest{}, &response);
}

grpc::Status FakeDaprd::Resume(const std::string& instance) {
  grpc::ClientContext context;
  Prepare(context, instance);
  v1::ResumeResponse response;
  return stub_->Resume(&context, v1::ResumeRequest{}, &response);
}

grpc::Status FakeDaprd::Ping(const std::string& instance) {
  grpc::ClientContext context;
  Prepare(context, instance);
  v1::PingResponse response;
  return stub_->Ping(&context, v1::PingRequest{}, &response);
}

std::unique_ptr<PullStream> FakeDaprd::Pull(const std::string& instance, const std::string& topic,
                                            std::map<std::string, std::string> topic_metadata) {
  return std::make_unique<PullStream>(*stub_, instance, topic, std::move(topic_metadata));
}

std::unique_ptr<FakeDaprd::SilentStream> FakeDaprd::OpenSilentStream(const std::string& instance) {
  auto silent = std::make_unique<SilentStream>();
  Prepare(silent->context, instance, 120s);
  silent->stream = stub_->PullMessages(&silent->context);
  return silent;
}

std::map<std::string, std::string> FakeDaprd::Metadata(const std::string& broker_url, const std::string& consumer_id,
                                                       std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> metadata{{"url", broker_url}, {"consumerID", consumer_id},
                                              {"redeliveryDelay", "100ms"}, {"maxRedeliveryDelay", "1s"}};
  for (auto& [key, value] : extra) metadata[key] = value;
  return metadata;
}

}  // namespace bridge::testing
