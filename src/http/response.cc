#include "http/response.h"

#include <charconv>
#include <ctime>

#include "base/log.h"
#include "base/strings.h"

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

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

std::string FormatTimeMs(int64_t epoch_ms) {
  int64_t secs = epoch_ms / 1000, ms = epoch_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

Result<int64_t> ParseTimeMs(std::string_view s) {
  const auto bad = [&] {
    return InvalidArgumentError("not an RFC 3339 time (2026-11-25T08:00:00Z) or epoch ms");
  };
  size_t pos = 0;
  int year, month, day;
  if (!Digits(s, &pos, 4, &year) || !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &month) ||
      !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &day)) {
    return bad();
  }
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return bad();
  int max_day = kDaysIn[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day < 1 || day > max_day) return bad();
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  if (pos == s.size()) return days * 86400000;

  int hour, minute, second;
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return bad();
  ++pos;
  if (!Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &minute) ||
      !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &second)) {
    return bad();
  }
  if (hour > 23 || minute > 59 || second > 60) return bad();  // 60: a leap second
  int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return bad();
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!Digits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &om) || oh > 23 ||
        om > 59) {
      return bad();
    }
    offset_min = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return secs * 1000 + ms;
}

}  // namespace callvault::http
