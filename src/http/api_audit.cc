// GET /api/v1/audit (audit:read): the audit log, filtered and paged; a tenant-scoped caller
// sees only its tenant's entries (docs/api.md §Audit). And the audit chains' heads on /metrics.
#include <algorithm>

#include "base/log.h"
#include "base/time_format.h"
#include "http/api_util.h"
#include "http/query.h"
#include "http/response.h"

namespace callvault::http {
namespace {

nlohmann::json NullIfEmpty(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

// A Prometheus label value: backslash, double quote and newline escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void HandleListAudit(Api& api, const RequestContext& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  Result<catalog::AuditFilter> filter = ParseAuditQuery(req.params);
  if (!filter.ok()) return WriteError(res, 400, "invalid_parameter", filter.status().message());
  // A tenant-scoped caller reads its tenant's entries only, whatever it asks for.
  const std::string& scope = ctx.principal->user.tenant;
  if (!scope.empty()) {
    if (filter->tenant && *filter->tenant != scope) {
      return WriteError(res, 403, "forbidden", "you may only read tenant '" + scope + "'");
    }
    filter->tenant = scope;
  }
  Result<std::vector<catalog::AuditEntry>> entries = api.catalog->FindAudit(*filter);
  if (!entries.ok()) return WriteStatusError(res, entries.status());
  nlohmann::json out = nlohmann::json::array();
  int64_t last = filter->after_id;
  int64_t first = INT64_MAX;
  for (const catalog::AuditEntry& e : *entries) {
    out.push_back({{"id", e.id},
                   {"uid", e.uid},
                   {"at", FormatRfc3339Ms(e.at_ms)},
                   {"actor", e.actor},
                   {"action", e.action},
                   {"target", e.target},
                   {"tenant", NullIfEmpty(e.tenant)},
                   {"detail", e.detail},
                   {"remote", e.remote},
                   {"origin", e.origin},
                   {"seq", e.seq},
                   {"hash", e.hash}});
    last = std::max(last, e.id);
    first = std::min(first, e.id);
  }
  nlohmann::json page = {{"entries", std::move(out)}};
  if (filter->descending) {
    const bool more = static_cast<int>(entries->size()) == filter->limit;
    page["next_before_id"] = more ? nlohmann::json(first) : nlohmann::json(nullptr);
  } else {
    page["next_after_id"] = last;
  }
  WriteJson(res, 200, page);
}

std::string RenderAuditHeadMetrics(catalog::Catalog& catalog) {
  Result<std::vector<catalog::AuditHead>> heads = catalog.AuditHeads();
  if (!heads.ok()) {
    CV_LOG_WARN("http.audit_heads_unavailable", "status=\"{}\"", heads.status().ToString());
    return "";
  }
  if (heads->empty()) return "";
  std::string seq =
      "# HELP callvault_audit_head_seq Entries in each origin's audit hash chain (the newest "
      "entry's seq).\n# TYPE callvault_audit_head_seq gauge\n";
  std::string info =
      "# HELP callvault_audit_head_info The newest entry of each origin's audit hash chain: "
      "anchor its hash elsewhere (callvault audit verify --anchor ORIGIN:SEQ:HASH).\n"
      "# TYPE callvault_audit_head_info gauge\n";
  for (const catalog::AuditHead& h : *heads) {
    const std::string origin = LabelValue(h.origin);
    seq += "callvault_audit_head_seq{origin=\"" + origin + "\"} " + std::to_string(h.seq) + "\n";
    info += "callvault_audit_head_info{origin=\"" + origin + "\",seq=\"" + std::to_string(h.seq) +
            "\",hash=\"" + LabelValue(h.hash) + "\"} 1\n";
  }
  return seq + info;
}

}  // namespace callvault::http
