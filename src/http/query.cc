#include "http/query.h"

#include <charconv>

#include "http/response.h"

namespace callvault::http {
namespace {

Status ParamError(std::string_view name, std::string_view what) {
  return InvalidArgumentError(std::string(name) + ": " + std::string(what));
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Status TextParam(std::string_view name, const std::string& value, std::string* out) {
  if (value.size() > kMaxTextParam) return ParamError(name, "longer than 256 bytes");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return ParamError(name, "contains a control character");
  }
  *out = value;
  return Status::Ok();
}

Result<int64_t> TimeParam(std::string_view name, const std::string& value) {
  if (AllDigits(value)) {
    std::optional<int64_t> ms = ParseInt(value);
    if (!ms) return ParamError(name, "epoch milliseconds out of range");
    return *ms;
  }
  Result<int64_t> t = ParseTimeMs(value);
  if (!t.ok()) return ParamError(name, t.status().message());
  return t;
}

}  // namespace

Status CheckParamNames(const QueryParams& params, std::initializer_list<std::string_view> allowed) {
  std::string_view previous;
  bool first = true;
  for (const auto& [name, value] : params) {  // a multimap: equal names are adjacent
    if (!first && name == previous) return ParamError(name, "given more than once");
    first = false;
    previous = name;
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) {
      std::string shown = name.size() > 64 ? name.substr(0, 64) + "…" : name;
      return InvalidArgumentError("unknown parameter '" + shown + "'");
    }
  }
  return Status::Ok();
}

Result<int64_t> IntParam(const QueryParams& params, std::string_view name, int64_t min, int64_t max,
                         int64_t fallback) {
  auto it = params.find(std::string(name));
  if (it == params.end()) return fallback;
  std::optional<int64_t> v = ParseInt(it->second);
  if (!v || *v < min || *v > max) {
    return ParamError(name,
                      "must be an integer " + std::to_string(min) + ".." + std::to_string(max));
  }
  return *v;
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  int64_t scale = 1000;
  if (text.ends_with("ms")) {
    text.remove_suffix(2);
    scale = 1;
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
  }
  if (!AllDigits(text) || text.size() > 12) {
    return InvalidArgumentError("a duration is seconds (\"90\", \"90s\") or \"1500ms\"");
  }
  return *ParseInt(text) * scale;
}

Result<CallQuery> ParseCallQuery(const QueryParams& params) {
  CV_RETURN_IF_ERROR(CheckParamNames(
      params,
      {"from", "to", "caller", "callee", "number", "participant", "min_duration", "max_duration",
       "state", "node", "tenant", "tag", "q", "sort", "order", "limit", "cursor"}));
  CallQuery q;
  catalog::CallFilter& f = q.filter;
  for (const auto& [name, value] : params) {
    if (name == "from") {
      CV_ASSIGN_OR_RETURN(f.started_from_ms, TimeParam(name, value));
    } else if (name == "to") {
      CV_ASSIGN_OR_RETURN(f.started_to_ms, TimeParam(name, value));
    } else if (name == "caller") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.caller));
    } else if (name == "callee") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.callee));
    } else if (name == "number") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.number));
    } else if (name == "participant") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.participant));
    } else if (name == "node") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.node_id));
    } else if (name == "tag") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.tag));
    } else if (name == "q") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.text));
    } else if (name == "tenant") {
      std::string tenant;
      CV_RETURN_IF_ERROR(TextParam(name, value, &tenant));
      f.tenant = std::move(tenant);
    } else if (name == "min_duration" || name == "max_duration") {
      Result<int64_t> ms = ParseDurationMs(value);
      if (!ms.ok()) return ParamError(name, ms.status().message());
      (name == "min_duration" ? f.min_duration_ms : f.max_duration_ms) = *ms;
    } else if (name == "state") {
      std::string_view rest = value;
      while (true) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        std::optional<CallState> s = ParseCallState(item);
        if (!s) {
          return ParamError(name,
                            "one or more of active, completed, timed_out, partial "
                            "(comma separated)");
        }
        f.states.push_back(*s);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (name == "sort") {
      if (value == "started") {
        q.page.sort = catalog::SortKey::kStarted;
      } else if (value == "duration") {
        q.page.sort = catalog::SortKey::kDuration;
      } else {
        return ParamError(name, "started or duration");
      }
    } else if (name == "order") {
      if (value != "asc" && value != "desc") return ParamError(name, "asc or desc");
      q.page.descending = value == "desc";
    } else if (name == "cursor") {
      if (value.size() > kMaxCursor) return ParamError(name, "longer than 512 bytes");
      for (unsigned char c : value) {
        if (c <= 0x20 || c >= 0x7f) return ParamError(name, "not a cursor from next_cursor");
      }
      q.page.cursor = value;
    }
  }
  CV_ASSIGN_OR_RETURN(int64_t limit, IntParam(params, "limit", 1, kMaxPageLimit, 50));
  q.page.limit = static_cast<int>(limit);
  if (f.started_from_ms && f.started_to_ms && *f.started_from_ms > *f.started_to_ms) {
    return ParamError("from", "later than 'to'");
  }
  if (f.min_duration_ms && f.max_duration_ms && *f.min_duration_ms > *f.max_duration_ms) {
    return ParamError("min_duration", "larger than max_duration");
  }
  return q;
}

Result<catalog::AuditFilter> ParseAuditQuery(const QueryParams& params) {
  CV_RETURN_IF_ERROR(
      CheckParamNames(params, {"actor", "user", "action", "target", "call", "tenant", "from", "to",
                               "order", "after_id", "before_id", "limit"}));
  catalog::AuditFilter f;
  std::string user;
  for (const auto& [name, value] : params) {
    if (name == "actor") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.actor));
    } else if (name == "user") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &user));
    } else if (name == "action") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.action));
    } else if (name == "target") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.target));
    } else if (name == "call") {
      CV_RETURN_IF_ERROR(TextParam(name, value, &f.call));
    } else if (name == "tenant") {
      std::string tenant;
      CV_RETURN_IF_ERROR(TextParam(name, value, &tenant));
      f.tenant = tenant;
    } else if (name == "from") {
      CV_ASSIGN_OR_RETURN(f.from_ms, TimeParam(name, value));
    } else if (name == "to") {
      CV_ASSIGN_OR_RETURN(f.to_ms, TimeParam(name, value));
    } else if (name == "order") {
      if (value != "asc" && value != "desc") return ParamError(name, "must be asc or desc");
      f.descending = value == "desc";
    }
  }
  if (!user.empty()) {  // `user` is `actor` by the name the portal's filter shows
    if (!f.actor.empty() && f.actor != user) return ParamError("user", "differs from 'actor'");
    f.actor = user;
  }
  CV_ASSIGN_OR_RETURN(f.after_id, IntParam(params, "after_id", 0, INT64_MAX / 2, 0));
  CV_ASSIGN_OR_RETURN(int64_t before, IntParam(params, "before_id", 1, INT64_MAX / 2, 0));
  if (before > 0) f.before_id = before;
  CV_ASSIGN_OR_RETURN(int64_t limit, IntParam(params, "limit", 1, kMaxPageLimit, 100));
  f.limit = static_cast<int>(limit);
  if (f.descending && f.after_id > 0) return ParamError("after_id", "only with order=asc");
  if (!f.descending && f.before_id) return ParamError("before_id", "only with order=desc");
  return f;
}

}  // namespace callvault::http
