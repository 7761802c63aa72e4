#include "storage/s3/errors.h"

namespace callvault::storage::s3 {
namespace {

constexpr std::string_view kMarker = "[reason=";
constexpr size_t kMaxServerMessage = 300;

StatusCode CodeOf(std::string_view reason) {
  if (reason == kReasonAuth) return StatusCode::kPermissionDenied;
  if (reason == kReasonNetwork || reason == kReasonServer) return StatusCode::kUnavailable;
  if (reason == kReasonNotFound) return StatusCode::kNotFound;
  if (reason == kReasonClient) return StatusCode::kFailedPrecondition;
  if (reason == kReasonVerify) return StatusCode::kDataLoss;
  return StatusCode::kInternal;
}

}  // namespace

std::string_view ErrorReason(const Status& status) {
  if (status.ok()) return "";
  const std::string_view msg = status.message();
  const size_t at = msg.rfind(kMarker);
  if (at != std::string_view::npos) {
    const size_t begin = at + kMarker.size();
    const size_t end = msg.find(']', begin);
    if (end != std::string_view::npos) {
      const std::string_view reason = msg.substr(begin, end - begin);
      for (std::string_view known : {kReasonAuth, kReasonNetwork, kReasonNotFound, kReasonServer,
                                     kReasonClient, kReasonProtocol, kReasonVerify}) {
        if (reason == known) return known;
      }
    }
  }
  return "other";
}

Status S3Error(std::string_view reason, std::string_view what, std::string_view detail) {
  return Status(CodeOf(reason), std::string(what) + ": " + std::string(detail) + " " +
                                    std::string(kMarker) + std::string(reason) + "]");
}

Status HttpError(std::string_view what, long http_status, std::string_view s3_code,
                 std::string_view s3_message) {
  std::string_view reason = kReasonClient;
  if (http_status == 401 || http_status == 403) {
    reason = kReasonAuth;
  } else if (http_status == 404) {
    reason = kReasonNotFound;
  } else if (http_status >= 500 || s3_code == "SlowDown") {
    reason = kReasonServer;
  } else if (s3_code == "XAmzContentSHA256Mismatch" || s3_code == "BadDigest") {
    reason = kReasonVerify;  // the bytes S3 received do not have the hash we signed
  } else if (http_status < 400) {
    reason = kReasonProtocol;  // e.g. a 200 whose body is an <Error>, or an unexpected 3xx
  }
  std::string detail = "HTTP " + std::to_string(http_status);
  if (!s3_code.empty()) detail += " " + std::string(s3_code);
  if (!s3_message.empty()) {
    detail += ": " + std::string(s3_message.substr(0, kMaxServerMessage));
    if (s3_message.size() > kMaxServerMessage) detail += "...";
  }
  Status status = S3Error(reason, what, detail);
  if (http_status == 416) return Status(StatusCode::kOutOfRange, std::string(status.message()));
  return status;
}

}  // namespace callvault::storage::s3
