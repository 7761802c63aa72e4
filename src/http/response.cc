#include "http/response.h"

#include "base/log.h"
#include "base/strings.h"
#include "base/time_format.h"

namespace callvault::http {

void WriteJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  std::string(kJsonContentType));
}

void WriteError(httplib::Response& res, int status, std::string_view code,
                std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  WriteJson(res, status, body);
}

void WriteStatusError(httplib::Response& res, const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return WriteError(res, 400, "invalid_argument", status.message());
    case StatusCode::kNotFound:
      return WriteError(res, 404, "not_found", status.message());
    case StatusCode::kAlreadyExists:
      return WriteError(res, 409, "already_exists", status.message());
    case StatusCode::kFailedPrecondition:
      return WriteError(res, 409, "conflict", status.message());
    case StatusCode::kPermissionDenied:
      return WriteError(res, 403, "forbidden", status.message());
    case StatusCode::kUnauthenticated:
      return WriteError(res, 401, "unauthenticated", status.message());
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDeadlineExceeded:
      CV_LOG_WARN("http.unavailable", "status=\"{}\"", status.ToString());
      return WriteError(res, 503, "unavailable", "service temporarily unavailable; retry later");
    default:
      CV_LOG_ERROR("http.internal_error", "status=\"{}\"", status.ToString());
      return WriteError(res, 500, "internal", "internal error (logged)");
  }
}

std::string_view ErrorCodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthenticated";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 411:
      return "length_required";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 415:
      return "unsupported_media_type";
    case 416:
      return "range_not_satisfiable";
    case 417:
      return "expectation_failed";
    case 431:
      return "headers_too_large";
    case 501:
      return "not_implemented";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

namespace {

// Nesting depth of `body` counted over brackets outside strings; stops early past `limit`.
int JsonDepth(std::string_view body, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) max_depth = depth;
      if (max_depth > limit) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view body) {
  if (JsonDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return InvalidArgumentError("request body: JSON nested deeper than 16 levels");
  }
  nlohmann::json value = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return InvalidArgumentError("request body: not valid JSON");
  if (!value.is_object()) return InvalidArgumentError("request body: not a JSON object");
  return value;
}

bool IsJsonContentType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return EqualsIgnoreCase(type, kJsonContentType);
}

std::optional<nlohmann::json> ReadJsonBody(const httplib::Request& req, httplib::Response& res) {
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    WriteError(res, 415, "unsupported_media_type", "request body must be application/json");
    return std::nullopt;
  }
  Result<nlohmann::json> body = ParseJsonObject(req.body);
  if (!body.ok()) {
    WriteError(res, 400, "invalid_json", body.status().message());
    return std::nullopt;
  }
  return std::move(body).value();
}

Result<int64_t> ParseTimeMs(std::string_view s) {
  // A date alone is midnight UTC; everything else is base/'s RFC 3339 parser.
  const std::optional<int64_t> ms =
      s.size() == 10 ? ParseRfc3339Ms(std::string(s) + "T00:00:00Z") : ParseRfc3339Ms(s);
  if (!ms) return InvalidArgumentError("not an RFC 3339 time (2026-11-25T08:00:00Z) or epoch ms");
  return *ms;
}

}  // namespace callvault::http
