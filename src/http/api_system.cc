// What the portal's live and system pages show: GET /api/v1/live (the calls recording on this
// node now) and GET /api/v1/system (readiness, version, backlogs, disks) — docs/api.md.
#include "base/time_format.h"
#include "http/api_util.h"
#include "http/query.h"
#include "http/response.h"

namespace callvault::http {

void HandleLive(Api& api, const RequestContext& ctx, const httplib::Request& req,
                httplib::Response& res) {
  if (Status s = CheckParamNames(req.params, {}); !s.ok()) {
    return WriteError(res, 400, "invalid_parameter", s.message());
  }
  catalog::CallFilter filter;
  filter.states = {CallState::kActive};
  filter.node_id = api.node_id;
  if (!ctx.principal->user.tenant.empty()) filter.tenant = ctx.principal->user.tenant;
  catalog::PageRequest page;
  page.limit = kMaxPageLimit;
  Result<catalog::CallPage> found = api.catalog->ListCalls(filter, page);
  if (!found.ok()) return WriteStatusError(res, found.status());
  nlohmann::json calls = nlohmann::json::array();
  for (const catalog::CallSummary& c : found->calls) calls.push_back(CallSummaryJson(c));
  WriteJson(res, 200,
            {{"node", api.node_id},
             {"now", FormatRfc3339Ms(api.NowMs())},
             {"calls", std::move(calls)},
             {"truncated", !found->next_cursor.empty()}});
}

void HandleSystem(Api& api, const RequestContext&, const httplib::Request& req,
                  httplib::Response& res) {
  if (Status s = CheckParamNames(req.params, {}); !s.ok()) {
    return WriteError(res, 400, "invalid_parameter", s.message());
  }
  nlohmann::json readiness = RunReadinessChecks(api, "");
  nlohmann::json out = {{"node", api.node_id},
                        {"version", api.version},
                        {"now", FormatRfc3339Ms(api.NowMs())},
                        {"started", api.started_ms ? nlohmann::json(FormatRfc3339Ms(api.started_ms))
                                                   : nlohmann::json(nullptr)},
                        {"readiness", std::move(readiness)},
                        {"backlog", nlohmann::json::array()},
                        {"disk", nlohmann::json::array()},
                        {"active_calls", nullptr}};
  if (api.system_status) {
    nlohmann::json more = api.system_status();
    for (const char* key : {"backlog", "disk", "active_calls"}) {
      if (more.contains(key)) out[key] = std::move(more[key]);
    }
  }
  WriteJson(res, 200, out);
}

}  // namespace callvault::http
