#pragma once

#include <grpcpp/support/status.h>

#include "util/result.h"

namespace bridge {

/// The one table from the bridge's error kinds to gRPC status codes.
inline grpc::StatusCode ToGrpcCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorKind::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorKind::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case ErrorKind::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case ErrorKind::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorKind::kCancelled: return grpc::StatusCode::CANCELLED;
    case ErrorKind::kInternal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

inline grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return {ToGrpcCode(status.error().kind), status.error().message};
}

inline grpc::Status ToGrpcStatus(const Error& error) { return {ToGrpcCode(error.kind), error.message}; }

}  // namespace bridge
