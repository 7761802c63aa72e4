// /api/v1/node: this node's recorder role — whether it takes new calls, and an operator's drain
// (maintenance, failover tests) that does not stop the process. Draining makes SIP OPTIONS and
// new INVITEs answer 503 with a Warning (the SRC fails over by DNS SRV), lets the calls in
// progress finish, and flips /readyz?role=recorder; undraining takes calls again.
#include "base/log.h"
#include "http/response.h"
#include "http/routes.h"

namespace callvault::http {
namespace {

nlohmann::json NodeJson(Api& api) {
  bool ready = true;
  nlohmann::json checks = nlohmann::json::array();
  for (const ReadinessCheck& c : api.checks) {
    if (c.role != "recorder") continue;
    Status s = c.check ? c.check() : InternalError("no check function");
    ready = ready && s.ok();
    nlohmann::json entry = {{"name", c.name}, {"ok", s.ok()}};
    if (!s.ok()) entry["message"] = s.message();
    checks.push_back(std::move(entry));
  }
  return {{"node_id", api.node_id},
          {"draining", api.draining()},
          {"accepting_calls", ready},
          {"checks", checks}};
}

}  // namespace

void HandleGetNode(Api& api, const RequestContext&, const httplib::Request&,
                   httplib::Response& res) {
  if (!api.draining || !api.set_draining)
    return WriteError(res, 503, "node_control_unavailable", "this node has no recorder controls");
  WriteJson(res, 200, NodeJson(api));
}

void HandleSetDrain(Api& api, const RequestContext& ctx, const httplib::Request& req,
                    httplib::Response& res) {
  if (!api.draining || !api.set_draining)
    return WriteError(res, 503, "node_control_unavailable", "this node has no recorder controls");
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return;
  auto it = body->find("draining");
  if (it == body->end() || !it->is_boolean())
    return WriteError(res, 400, "bad_request", "draining must be true or false");
  const bool drain = it->get<bool>();
  if (drain != api.draining()) {
    api.set_draining(drain);
    ctx.Audit(api, drain ? "node.drain" : "node.undrain", api.node_id, "");
    CV_LOG_INFO("server.admin_drain", "node={} draining={} by={}", api.node_id, drain,
                ctx.principal->user.username);
  }
  WriteJson(res, 200, NodeJson(api));
}

}  // namespace callvault::http
