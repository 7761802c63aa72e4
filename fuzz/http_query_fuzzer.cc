// libFuzzer target for the HTTP API's input parsers (src/http/query.h, range.h, response.h):
// the /api/v1/calls query string → CallFilter/PageRequest, the Range header, JSON request
// bodies, RFC 3339 times (base/time_format.h), the Cookie header (cookie.h), the audit log's
// query (ParseAuditQuery), http.public_url (PublicOrigin) and the CSRF Origin check (csrf.h).
// Checks the
// contracts: a parse never crashes, bad input is InvalidArgument, what is accepted stays inside the
// documented bounds, and a Range decision never points outside the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/time_format.h"
#include "http/cookie.h"
#include "http/csrf.h"
#include "http/http_options.h"
#include "http/query.h"
#include "http/range.h"
#include "http/response.h"

using namespace callvault;
using namespace callvault::http;

namespace {

// "a=1&b=2" → params (no percent-decoding: httplib decodes before the parser sees values).
QueryParams SplitQuery(std::string_view in) {
  QueryParams params;
  while (!in.empty()) {
    size_t amp = in.find('&');
    std::string_view pair = in.substr(0, amp);
    size_t eq = pair.find('=');
    params.emplace(std::string(pair.substr(0, eq)),
                   eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    in.remove_prefix(amp + 1);
  }
  return params;
}

void CheckQuery(std::string_view in) {
  Result<CallQuery> q = ParseCallQuery(SplitQuery(in));
  if (!q.ok()) {
    if (q.status().code() != StatusCode::kInvalidArgument || q.status().message().empty()) abort();
    return;
  }
  const catalog::CallFilter& f = q->filter;
  if (q->page.limit < 1 || q->page.limit > kMaxPageLimit) abort();
  if (q->page.cursor.size() > kMaxCursor) abort();
  for (const std::string* s :
       {&f.caller, &f.callee, &f.number, &f.participant, &f.node_id, &f.tag, &f.text}) {
    if (s->size() > kMaxTextParam) abort();
  }
  if (f.started_from_ms && f.started_to_ms && *f.started_from_ms > *f.started_to_ms) abort();
  if (f.min_duration_ms && (*f.min_duration_ms < 0)) abort();
}

void CheckAuditQuery(std::string_view in) {
  Result<catalog::AuditFilter> f = ParseAuditQuery(SplitQuery(in));
  if (!f.ok()) {
    if (f.status().code() != StatusCode::kInvalidArgument || f.status().message().empty()) abort();
    return;
  }
  if (f->limit < 1 || f->limit > kMaxPageLimit) abort();
  for (const std::string* s : {&f->actor, &f->action, &f->target}) {
    if (s->size() > kMaxTextParam) abort();
  }
  if (f->descending ? f->after_id != 0 : f->before_id.has_value()) abort();
}

// A public URL accepted is an origin that accepts itself, and normalizing is idempotent.
void CheckOrigins(std::string_view in) {
  Result<std::string> origin = PublicOrigin(in);
  if (origin.ok()) {
    Result<std::string> again = PublicOrigin(*origin);
    if (!again.ok() || *again != *origin) abort();
    if (!CheckOrigin(*origin, *origin).ok()) abort();
  }
  if (!in.empty() && !CheckOrigin(in, ExpectedOrigin("", "callvault.invalid")).ok() &&
      CheckCsrf("t", "t", in, ExpectedOrigin("", "callvault.invalid")).ok()) {
    abort();
  }
}

void CheckRange(std::string_view header, uint64_t size) {
  RangeDecision d = ResolveRange(header, size);
  switch (d.kind) {
    case RangeDecision::Kind::kFull:
      if (d.start != 0 || d.length != size) abort();
      break;
    case RangeDecision::Kind::kPartial:
      if (d.length == 0 || d.start >= size || d.length > size - d.start) abort();
      if (ContentRange(d, size).rfind("bytes ", 0) != 0) abort();
      break;
    case RangeDecision::Kind::kNotSatisfiable:
      if (ContentRange(d, size) != "bytes */" + std::to_string(size)) abort();
      break;
  }
}

void CheckJson(std::string_view body) {
  Result<nlohmann::json> j = ParseJsonObject(body);
  if (j.ok() && !j->is_object()) abort();
  if (!j.ok() && j.status().code() != StatusCode::kInvalidArgument) abort();
}

void CheckTime(std::string_view text) {
  Result<int64_t> ms = ParseTimeMs(text);
  if (!ms.ok()) return;
  // Years 0000..9999 with offsets stay far inside int64; formatting and re-parsing is stable.
  if (*ms > -62135596800000 && *ms < 253402300800000) {
    Result<int64_t> again = ParseTimeMs(FormatRfc3339Ms(*ms));
    if (!again.ok() || *again != *ms) abort();
  }
}

// Cookie header: never fails on content (only on size), every pair kept is a token name and a
// cookie-octet value, and what it keeps parses back to itself.
void CheckCookies(std::string_view header) {
  Result<Cookies> c = ParseCookieHeader(header);
  if (!c.ok()) {
    if (c.status().code() != StatusCode::kInvalidArgument) abort();
    return;
  }
  if (c->size() > kMaxCookies) abort();
  std::string again;
  for (const auto& [name, value] : *c) {
    if (!IsCookieName(name) || !IsCookieValue(value)) abort();
    again += name + "=" + value + "; ";
  }
  Result<Cookies> back = ParseCookieHeader(again);
  if (again.size() <= kMaxCookieHeader && (!back.ok() || *back != *c)) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckQuery(in);
  uint64_t file_size = 0;
  for (size_t i = 0; i < std::min<size_t>(size, 3); ++i) file_size = file_size * 256 + data[i];
  CheckRange(in, file_size);
  CheckRange(in, 1000);
  CheckRange(in, 0);
  CheckJson(in);
  CheckTime(in);
  CheckCookies(in);
  CheckAuditQuery(in);
  CheckOrigins(in);
  return 0;
}
