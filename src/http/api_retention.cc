// POST /api/v1/retention/run {"dry_run": true|false}: runs the retention policies now and
// answers what they selected and deleted (retention/retention.h). A dry run changes nothing.
#include "base/time_format.h"
#include "http/api_util.h"
#include "http/response.h"

namespace callvault::http {

namespace {

// Listed calls in an answer (a dry run over years of calls would otherwise be huge); the counts
// are always complete.
constexpr size_t kMaxListed = 10000;

}  // namespace

void HandleRunRetention(Api& api, const RequestContext& ctx, const httplib::Request& req,
                        httplib::Response& res) {
  if (api.retention == nullptr) {
    return WriteError(res, 503, "retention_unavailable", "retention is not running on this node");
  }
  bool dry_run = false;
  if (!req.body.empty()) {
    std::optional<nlohmann::json> body = ReadJsonBody(req, res);
    if (!body) return;
    if (auto it = body->find("dry_run"); it != body->end()) {
      if (!it->is_boolean())
        return WriteError(res, 400, "bad_request", "dry_run must be a boolean");
      dry_run = it->get<bool>();
    }
  }
  Result<retention::RunReport> report = api.retention->Run(
      {.dry_run = dry_run, .keep_selected = kMaxListed, .actor = ctx.principal->user.username});
  if (!report.ok()) return WriteStatusError(res, report.status());
  nlohmann::json policies = nlohmann::json::array();
  for (const retention::PolicyReport& p : report->policies) {
    policies.push_back({{"policy", p.policy},
                        {"selected", p.selected},
                        {"deleted", p.deleted},
                        {"skipped", p.skipped},
                        {"failed", p.failed}});
  }
  nlohmann::json calls = nlohmann::json::array();
  for (const retention::Selected& s : report->selected) {
    calls.push_back(
        {{"id", s.call_id},
         {"policy", s.policy},
         {"tenant", s.tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.tenant)},
         {"started", FormatRfc3339Ms(s.started_ms)}});
  }
  if (!dry_run) {
    ctx.Audit(api, "retention.run", "", "",
              {{"deleted", report->deleted()}, {"failed", report->failed()}});
  }
  WriteJson(res, 200,
            {{"dry_run", dry_run},
             {"policies", policies},
             {"calls", calls},
             {"calls_truncated", report->selected_truncated}});
}

}  // namespace callvault::http
