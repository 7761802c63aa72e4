// Query parameters of GET /api/v1/calls → catalog::CallFilter + catalog::PageRequest, and the
// small integer parameters of other list routes. Every failure is InvalidArgument whose message
// starts with the parameter's name ("limit: must be an integer 1..1000"); the handler turns it
// into 400 invalid_parameter. Unknown and repeated parameters are errors too, so a typo never
// silently widens a search.
//
// Parameters (docs/api.md §Listing calls): from, to (RFC 3339 or epoch ms; from inclusive, to
// exclusive), caller, callee, number, participant, node, tag, q (text, ≤ 256 bytes, no control
// characters), min_duration, max_duration (seconds, or milliseconds with an `ms` suffix:
// "90", "90s", "1500ms"), state (comma list of active|completed|timed_out|partial), tenant
// (exact; empty = calls without a tenant), sort=started|duration, order=asc|desc (default desc),
// limit (1..1000, default 50), cursor (opaque, from next_cursor).
//
// Who calls it: api_calls.cc, the fuzzer. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "catalog/catalog.h"

namespace callvault::http {

// Decoded query parameters (httplib::Params has this type).
using QueryParams = std::multimap<std::string, std::string>;

struct CallQuery {
  catalog::CallFilter filter;
  catalog::PageRequest page;
};

inline constexpr size_t kMaxTextParam = 256;
inline constexpr size_t kMaxCursor = 512;
inline constexpr int kMaxPageLimit = 1000;

Result<CallQuery> ParseCallQuery(const QueryParams& params);

// Fails when `params` holds a name not in `allowed` or a name twice.
[[nodiscard]] Status CheckParamNames(const QueryParams& params,
                                     std::initializer_list<std::string_view> allowed);

// The integer parameter `name` in [min, max], or `fallback` when absent.
Result<int64_t> IntParam(const QueryParams& params, std::string_view name, int64_t min, int64_t max,
                         int64_t fallback);

// GET /api/v1/audit: actor (or its other name user), action, target, call (call.* entries of
// that call), tenant (exact text; empty = system-wide entries), from, to (as for calls),
// order=asc|desc (default asc), after_id (asc) / before_id (desc), limit (1..1000, default 100).
Result<catalog::AuditFilter> ParseAuditQuery(const QueryParams& params);

// Milliseconds from "90" / "90s" (seconds) or "1500ms". InvalidArgument otherwise.
Result<int64_t> ParseDurationMs(std::string_view text);

}  // namespace callvault::http
