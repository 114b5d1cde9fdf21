#include "grpc/pubsub_service.h"

#include <atomic>
#include <map>

#include "grpc/pull_session.h"
#include "grpc/status_mapping.h"
#include "util/logging.h"

namespace bridge {

namespace v1 = dapr::proto::components::v1;

namespace {

std::string InstanceName(const grpc::CallbackServerContext* context) {
  const auto& headers = context->client_metadata();
  auto it = headers.find(kInstanceHeader);
  if (it == headers.end()) return kDefaultInstance;
  return std::string(it->second.data(), it->second.size());
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const grpc::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

std::map<std::string, std::string> ToMap(const google::protobuf::Map<std::string, std::string>& map) {
  return {map.begin(), map.end()};
}

}  // namespace

PubSubService::PubSubService(InstanceRegistry& registry, TimerQueue& timers, std::stop_token stop)
    : registry_(registry), timers_(timers), stop_(std::move(stop)) {}

grpc::ServerUnaryReactor* PubSubService::Init(grpc::CallbackServerContext* context,
                                              const v1::PubSubInitRequest* request, v1::PubSubInitResponse*) {
  // Blocks this callback thread for at most connectTimeout (default 3 s,
  // below daprd's 5 s init timeout). Init happens once per component.
  const auto status = registry_.Init(InstanceName(context), ToMap(request->metadata().properties()));
  return FinishNow(context, ToGrpcStatus(status));
}

grpc::ServerUnaryReactor* PubSubService::Features(grpc::CallbackServerContext* context, const v1::FeaturesRequest*,
                                                  v1::FeaturesResponse* response) {
  for (const char* feature : kFeatures) response->add_features(feature);
  return FinishNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* PubSubService::Publish(grpc::CallbackServerContext* context,
                                                 const v1::PublishRequest* request, v1::PublishResponse*) {
  auto instance = registry_.Find(InstanceName(context));
  if (!instance.ok()) return FinishNow(context, ToGrpcStatus(instance.error()));
  auto* reactor = context->DefaultReactor();
  (*instance)->Publish(request->topic(), request->data(), ToMap(request->metadata()),
                       [reactor](Status status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

grpc::ServerUnaryReactor* PubSubService::BulkPublish(grpc::CallbackServerContext* context,
                                                     const v1::BulkPublishRequest* request,
                                                     v1::BulkPublishResponse* response) {
  auto instance = registry_.Find(InstanceName(context));
  if (!instance.ok()) return FinishNow(context, ToGrpcStatus(instance.error()));
  if (request->entries_size() == 0) return FinishNow(context, grpc::Status::OK);

  // Every entry goes in flight at once; the last answer finishes the call.
  struct Batch {
    grpc::ServerUnaryReactor* reactor;
    v1::BulkPublishResponse* response;
    std::atomic<int> outstanding;
    std::mutex mutex;
    std::optional<Error> first_error;
  };
  auto batch = std::make_shared<Batch>();
  batch->reactor = context->DefaultReactor();
  batch->response = response;
  batch->outstanding = request->entries_size();

  for (const auto& entry : request->entries()) {
    // Entry metadata wins over request metadata, as daprd merges them.
    auto metadata = ToMap(request->metadata());
    for (const auto& [key, value] : entry.metadata()) metadata[key] = value;
    (*instance)->Publish(request->topic(), entry.event(), metadata,
                         [batch, entry_id = entry.entry_id()](Status status) {
                           if (!status.ok()) {
                             std::lock_guard lock(batch->mutex);
                             auto* failed = batch->response->add_failed_entries();
                             failed->set_entry_id(entry_id);
                             failed->set_error(status.error().message);
                             if (!batch->first_error) batch->first_error = status.error();
                           }
                           if (--batch->outstanding > 0) return;
                           std::lock_guard lock(batch->mutex);
                           if (!batch->first_error) {
                             batch->reactor->Finish(grpc::Status::OK);
                             return;
                           }
                           // daprd marks every entry failed on a non-OK status; the
                           // message still names the ones that really failed.
                           std::string ids;
                           for (const auto& failed : batch->response->failed_entries()) {
                             if (!ids.empty()) ids += ",";
                             ids += failed.entry_id();
                           }
                           batch->reactor->Finish(
                               {ToGrpcCode(batch->first_error->kind),
                                std::to_string(batch->response->failed_entries_size()) + " of the entries failed (" +
                                    ids + "): " + batch->first_error->message});
                         });
  }
  return batch->reactor;
}

grpc::ServerBidiReactor<v1::PullMessagesRequest, v1::PullMessagesResponse>* PubSubService::PullMessages(
    grpc::CallbackServerContext* context) {
  return PullSession::Start(registry_.Find(InstanceName(context)), timers_, stop_);
}

grpc::ServerUnaryReactor* PubSubService::SetPaused(grpc::CallbackServerContext* context, bool paused) {
  auto instance = registry_.Find(InstanceName(context));
  if (!instance.ok()) return FinishNow(context, ToGrpcStatus(instance.error()));
  (*instance)->SetPaused(paused);
  return FinishNow(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* PubSubService::Pause(grpc::CallbackServerContext* context, const v1::PauseRequest*,
                                               v1::PauseResponse*) {
  return SetPaused(context, true);
}

grpc::ServerUnaryReactor* PubSubService::Resume(grpc::CallbackServerContext* context, const v1::ResumeRequest*,
                                                v1::ResumeResponse*) {
  return SetPaused(context, false);
}

grpc::ServerUnaryReactor* PubSubService::Ping(grpc::CallbackServerContext* context, const v1::PingRequest*,
                                              v1::PingResponse*) {
  return FinishNow(context, grpc::Status::OK);
}

}  // namespace bridge
