// /healthz, /readyz, /metrics and /api/v1/openapi.json.
#include "http/api_util.h"
#include "http/query.h"
#include "http/response.h"
#include "http/routes.h"

namespace callvault::http {

void HandleHealthz(Api&, const RequestContext&, const httplib::Request&, httplib::Response& res) {
  WriteJson(res, 200, {{"status", "ok"}});
}

// ?role=recorder|web (default: both). 200 when every check of the role(s) passes, else 503;
// the body lists each check either way.
void HandleReadyz(Api& api, const RequestContext&, const httplib::Request& req,
                  httplib::Response& res) {
  if (Status s = CheckParamNames(req.params, {"role"}); !s.ok()) {
    return WriteError(res, 400, "invalid_parameter", s.message());
  }
  std::string role = req.get_param_value("role");
  if (!role.empty() && role != "recorder" && role != "web") {
    return WriteError(res, 400, "invalid_parameter", "role: recorder or web");
  }
  bool ready = true;
  nlohmann::json checks = RunReadinessChecks(api, role, &ready);
  WriteJson(res, ready ? 200 : 503,
            {{"ready", ready}, {"role", role.empty() ? "all" : role}, {"checks", checks}});
}

void HandleMetrics(Api& api, const RequestContext&, const httplib::Request&,
                   httplib::Response& res) {
  res.status = 200;
  res.set_content(api.registry->Render() + RenderAuditHeadMetrics(*api.catalog),
                  "text/plain; version=0.0.4; charset=utf-8");
}

void HandleOpenApi(Api&, const RequestContext&, const httplib::Request&, httplib::Response& res) {
  res.status = 200;
  std::string_view doc = OpenApiDocument();
  res.set_content(doc.data(), doc.size(), std::string(kJsonContentType));
}

}  // namespace callvault::http
