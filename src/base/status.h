// Status and Result<T>: the one error type of callvault (STYLE.md §3).
//
// Anything that can fail because of input or the environment returns `Status` or `Result<T>`,
// with a message that names the failing stage ("parsing Via: missing branch"). Codes become
// SIP 4xx/5xx + Warning or HTTP JSON errors only at the edge (sip/, http/). Broken invariants
// use CV_CHECK (crash), never Status.
//
// Thread-safety: values; a const Status/Result may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace callvault {

// Persistent in logs and API error codes: do not renumber.
enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,     // bad input (malformed message, bad config value)
  kNotFound = 2,            //
  kAlreadyExists = 3,       //
  kFailedPrecondition = 4,  // system not in a state for the operation
  kResourceExhausted = 5,   // full disk, no ports, queue full, message too large
  kUnavailable = 6,         // peer/database/storage unreachable; retry later
  kDeadlineExceeded = 7,    //
  kIoError = 8,             // a syscall failed (errno in the message)
  kDataLoss = 9,            // corrupted or truncated persistent data
  kPermissionDenied = 10,   //
  kUnauthenticated = 11,    //
  kAborted = 12,            // cancelled or shutting down
  kOutOfRange = 13,         //
  kUnimplemented = 14,      //
  kInternal = 15,           // a bug surfaced as an error instead of a crash
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }

  // "InvalidArgument: parsing Via: missing branch" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>" (OK stays OK).
  Status Annotate(std::string_view context) const;

  // Explicitly ignores this status (for best-effort operations; say why at the call site).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null = OK; shared so copies are cheap
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status DataLossError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status AbortedError(std::string message);
Status OutOfRangeError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
// IoError with "<what>: <strerror(err)>" (errno value kept in the message).
Status IoError(std::string_view what, int err);

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok())
      v_ = Status(StatusCode::kInternal, "Result built from OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

namespace internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, std::string_view msg);
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace callvault

#define CV_CONCAT_INNER(a, b) a##b
#define CV_CONCAT(a, b) CV_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` (a Status or Result) is not OK.
#define CV_RETURN_IF_ERROR(expr)                                                    \
  do {                                                                              \
    /* a copy: `expr` may be a temporary that dies at the end of this line */       \
    const ::callvault::Status cv_status_ = ::callvault::internal::AsStatus((expr)); \
    if (!cv_status_.ok()) return cv_status_;                                        \
  } while (0)

// CV_ASSIGN_OR_RETURN(auto x, MakeX()); declares/assigns x or returns the error.
#define CV_ASSIGN_OR_RETURN(lhs, expr) \
  CV_ASSIGN_OR_RETURN_IMPL(CV_CONCAT(cv_result_, __LINE__), lhs, expr)
#define CV_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

// Crashes with a message when a broken invariant is detected (never for input/environment).
#define CV_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) ::callvault::internal::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)
#define CV_CHECK_MSG(cond, msg)                                                        \
  do {                                                                                 \
    if (!(cond)) ::callvault::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)
