// Response helpers of the REST API: JSON bodies, the one error shape
// {"error":{"code":"…","message":"…"}} (DESIGN.md §Interfaces users see), the mapping of
// callvault Status codes to HTTP statuses, request bodies read as JSON objects, and RFC 3339
// timestamps. `code` values are stable snake_case strings that clients may match on; they are
// listed in docs/api.md (do not rename).
//
// Who calls it: the route handlers (api_*.cc) and HttpServer (httplib's own error paths).
// Thread-safety: free functions without shared state.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::http {

inline constexpr std::string_view kJsonContentType = "application/json";

// Sets status and a JSON body (compact, UTF-8; invalid UTF-8 is replaced, never thrown).
void WriteJson(httplib::Response& res, int status, const nlohmann::json& body);
// {"error":{"code":code,"message":message}} with `status`.
void WriteError(httplib::Response& res, int status, std::string_view code,
                std::string_view message);
// The HTTP status and error code for a non-OK Status: InvalidArgument → 400 invalid_argument,
// NotFound → 404 not_found, AlreadyExists → 409 already_exists, FailedPrecondition → 409
// conflict, PermissionDenied → 403 forbidden, Unauthenticated → 401 unauthenticated,
// Unavailable / ResourceExhausted / DeadlineExceeded → 503 unavailable, OutOfRange → 400,
// anything else → 500 internal (the message is logged, not sent).
void WriteStatusError(httplib::Response& res, const Status& status);
// The error code for a bare HTTP status that httplib produced itself (400, 404, 413, 414, …).
std::string_view ErrorCodeForHttpStatus(int status);

// The nesting depth limit of request bodies (parsing is iterative, but destroying a deeply
// nested value is not, and no API body needs more than a few levels).
inline constexpr int kMaxJsonDepth = 16;

// Parses `body` as one JSON object. InvalidArgument: not JSON, nested deeper than
// kMaxJsonDepth, or not an object.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// Reads the request body as a JSON object. On failure writes the error response (415
// unsupported_media_type when Content-Type is not application/json, 400 invalid_json) and
// returns nullopt.
std::optional<nlohmann::json> ReadJsonBody(const httplib::Request& req, httplib::Response& res);

// Times in responses are base/time_format.h FormatRfc3339Ms ("2026-11-25T08:00:00.000Z").
// Epoch milliseconds from RFC 3339 (base/time_format.h ParseRfc3339Ms: "2026-11-25T08:00:00Z",
// "…T08:00:00.5+01:00", a space instead of 'T', lowercase 't'/'z') or a date alone
// ("2026-11-25" = midnight UTC). InvalidArgument otherwise (also for fields out of range).
Result<int64_t> ParseTimeMs(std::string_view text);

// Case-insensitive media-type check ignoring parameters: "Application/JSON; charset=utf-8".
bool IsJsonContentType(std::string_view content_type);

}  // namespace callvault::http
