#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bridge {

/// What went wrong, in the bridge's own terms. The gRPC edge maps each kind to
/// one status code (grpc/status_mapping.h); nothing below that edge knows gRPC.
enum class ErrorKind {
  kInvalidArgument,     // bad metadata, bad topic, bad request
  kFailedPrecondition,  // e.g. Publish before Init
  kUnavailable,         // broker down or unreachable
  kDeadlineExceeded,    // broker did not answer in time
  kResourceExhausted,   // a bound was reached
  kCancelled,           // the operation was stopped by shutdown or the caller
  kInternal,            // a bug or an unexpected library failure
};

struct Error {
  ErrorKind kind;
  std::string message;
};

inline Error InvalidArgument(std::string message) { return {ErrorKind::kInvalidArgument, std::move(message)}; }
inline Error FailedPrecondition(std::string message) { return {ErrorKind::kFailedPrecondition, std::move(message)}; }
inline Error Unavailable(std::string message) { return {ErrorKind::kUnavailable, std::move(message)}; }
inline Error DeadlineExceeded(std::string message) { return {ErrorKind::kDeadlineExceeded, std::move(message)}; }
inline Error ResourceExhausted(std::string message) { return {ErrorKind::kResourceExhausted, std::move(message)}; }
inline Error Cancelled(std::string message) { return {ErrorKind::kCancelled, std::move(message)}; }
inline Error Internal(std::string message) { return {ErrorKind::kInternal, std::move(message)}; }

/// A value or an Error. Small on purpose: the codebase needs `ok()`,
/// `value()` and `error()`, nothing more.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

/// Result of an operation that yields nothing but can fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorKind::kInternal, {}};
  bool ok_ = true;
};

}  // namespace bridge
