#pragma once

#include <stop_token>

#include <grpcpp/grpcpp.h>

#include "bridge/instance_registry.h"
#include "dapr/proto/components/v1/pubsub.grpc.pb.h"
#include "util/timer_queue.h"

namespace bridge {

/// The header daprd puts on every call to name the component instance.
inline constexpr char kInstanceHeader[] = "x-component-instance";
/// The instance used when a caller sends no header (manual testing).
inline constexpr char kDefaultInstance[] = "";

/// The features daprd caches right after Init.
inline constexpr const char* kFeatures[] = {"SUBSCRIBE_WILDCARDS", "BULK_SUBSCRIBE_IMMEDIATE", "BULK_PUBSUB"};

/// dapr.proto.components.v1.PubSub over gRPC's callback API: one reactor per
/// RPC, no thread per call. Unary calls finish from MQTT callbacks; each
/// PullMessages stream is a PullSession. Every stream watches `stop`.
class PubSubService final : public dapr::proto::components::v1::PubSub::CallbackService {
 public:
  PubSubService(InstanceRegistry& registry, TimerQueue& timers, std::stop_token stop);

  grpc::ServerUnaryReactor* Init(grpc::CallbackServerContext* context,
                                 const dapr::proto::components::v1::PubSubInitRequest* request,
                                 dapr::proto::components::v1::PubSubInitResponse* response) override;
  grpc::ServerUnaryReactor* Features(grpc::CallbackServerContext* context,
                                     const dapr::proto::components::v1::FeaturesRequest* request,
                                     dapr::proto::components::v1::FeaturesResponse* response) override;
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const dapr::proto::components::v1::PublishRequest* request,
                                    dapr::proto::components::v1::PublishResponse* response) override;
  grpc::ServerUnaryReactor* BulkPublish(grpc::CallbackServerContext* context,
                                        const dapr::proto::components::v1::BulkPublishRequest* request,
                                        dapr::proto::components::v1::BulkPublishResponse* response) override;
  grpc::ServerBidiReactor<dapr::proto::components::v1::PullMessagesRequest,
                          dapr::proto::components::v1::PullMessagesResponse>*
  PullMessages(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Pause(grpc::CallbackServerContext* context,
                                  const dapr::proto::components::v1::PauseRequest* request,
                                  dapr::proto::components::v1::PauseResponse* response) override;
  grpc::ServerUnaryReactor* Resume(grpc::CallbackServerContext* context,
                                   const dapr::proto::components::v1::ResumeRequest* request,
                                   dapr::proto::components::v1::ResumeResponse* response) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const dapr::proto::components::v1::PingRequest* request,
                                 dapr::proto::components::v1::PingResponse* response) override;

 private:
  grpc::ServerUnaryReactor* SetPaused(grpc::CallbackServerContext* context, bool paused);

  InstanceRegistry& registry_;
  TimerQueue& timers_;
  std::stop_token stop_;
};

}  // namespace bridge
