// How S3 failures are reported: a Status whose code says what the caller can do and whose message
// names the operation, the key, the HTTP status and S3's error <Code>, ending with the failure's
// reason for metrics and retry decisions:
//
//   "s3 PutObject recordings/a.wav: HTTP 403 SignatureDoesNotMatch: The request signature we
//    calculated does not match ... [reason=auth]"
//
//   reason     when                                                          StatusCode
//   auth       401, 403 (SignatureDoesNotMatch, InvalidAccessKeyId,          PermissionDenied
//              AccessDenied, ...)
//   network    transport errors: refused, reset, DNS, TLS, timeouts          Unavailable
//   not_found  404 (NoSuchKey, NoSuchBucket, NoSuchUpload)                   NotFound
//   server     5xx, 503 SlowDown                                             Unavailable
//   client     other 4xx (416 → OutOfRange)                                  FailedPrecondition
//   protocol   an answer that cannot be understood (bad XML, Content-Range)  Internal
//   verify     an upload whose check failed (S3RecordingStore::Upload), or   DataLoss
//              400 XAmzContentSHA256Mismatch / BadDigest (body ≠ signed hash)
//
// auth, network and server are worth retrying later (after an outage or a credentials fix);
// client, protocol and verify need a person.
//
// Who calls it: s3::Client and S3RecordingStore make them; callers log them and count
// ErrorReason() in a metric label.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::storage::s3 {

inline constexpr std::string_view kReasonAuth = "auth";
inline constexpr std::string_view kReasonNetwork = "network";
inline constexpr std::string_view kReasonNotFound = "not_found";
inline constexpr std::string_view kReasonServer = "server";
inline constexpr std::string_view kReasonClient = "client";
inline constexpr std::string_view kReasonProtocol = "protocol";
inline constexpr std::string_view kReasonVerify = "verify";

// The reason of a Status made here (also after Annotate()): "" for OK, one of the kReason*
// values, or "other" for a Status that did not come from S3 (e.g. reading the file failed).
std::string_view ErrorReason(const Status& status);

// An error for `reason` (one of kReason*): code from the table above, message
// "<what>: <detail> [reason=<reason>]". `what` is e.g. "s3 PutObject recordings/a.wav".
Status S3Error(std::string_view reason, std::string_view what, std::string_view detail);

// The error for an HTTP answer that is not a success: classified by `http_status` and S3's
// error code `s3_code` (from the XML body; "" when there is none, e.g. for HEAD).
Status HttpError(std::string_view what, long http_status, std::string_view s3_code,
                 std::string_view s3_message);

}  // namespace callvault::storage::s3
