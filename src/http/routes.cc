#include "http/routes.h"

#include <chrono>

#include "base/log.h"

namespace callvault::http {
namespace {

constexpr Route kRoutes[] = {
    {"GET", "/healthz", Access::kPublic, "", HandleHealthz},
    {"GET", "/readyz", Access::kPublic, "", HandleReadyz},
    {"GET", "/metrics", Access::kMetrics, "metrics:read", HandleMetrics},
    {"GET", "/api/v1/openapi.json", Access::kAuthenticated, "", HandleOpenApi},
    {"GET", "/api/v1/calls", Access::kPermission, "calls:read", HandleListCalls},
    {"GET", "/api/v1/calls/{id}", Access::kPermission, "calls:read", HandleGetCall},
    {"DELETE", "/api/v1/calls/{id}", Access::kPermission, "calls:delete", HandleDeleteCall},
    {"GET", "/api/v1/calls/{id}/audio", Access::kPermission, "audio:read", HandleGetAudio},
    {"GET", "/api/v1/calls/{id}/waveform", Access::kPermission, "audio:read", HandleGetWaveform},
    {"POST", "/api/v1/calls/{id}/tags", Access::kPermission, "calls:tag", HandleAddTags},
    {"PUT", "/api/v1/calls/{id}/tags", Access::kPermission, "calls:tag", HandleSetTags},
    {"DELETE", "/api/v1/calls/{id}/tags/{tag}", Access::kPermission, "calls:tag", HandleRemoveTag},
    {"PUT", "/api/v1/calls/{id}/hold", Access::kPermission, "calls:hold", HandleSetHold},
    {"DELETE", "/api/v1/calls/{id}/hold", Access::kPermission, "calls:hold", HandleReleaseHold},
    {"POST", "/api/v1/retention/run", Access::kPermission, "retention:run", HandleRunRetention},
    {"GET", "/api/v1/users", Access::kPermission, "users:manage", HandleListUsers},
    {"POST", "/api/v1/users", Access::kPermission, "users:manage", HandleCreateUser},
    {"PATCH", "/api/v1/users/{name}", Access::kPermission, "users:manage", HandleUpdateUser},
    {"DELETE", "/api/v1/users/{name}", Access::kPermission, "users:manage", HandleDeleteUser},
    {"GET", "/api/v1/me", Access::kAuthenticated, "", HandleMe},
    {"GET", "/api/v1/tokens", Access::kAuthenticated, "", HandleListTokens},
    {"POST", "/api/v1/tokens", Access::kAuthenticated, "", HandleCreateToken},
    {"DELETE", "/api/v1/tokens/{id}", Access::kAuthenticated, "", HandleDeleteToken},
    {"GET", "/api/v1/audit", Access::kPermission, "audit:read", HandleListAudit},
    {"GET", "/api/v1/node", Access::kPermission, "node:manage", HandleGetNode},
    {"PUT", "/api/v1/node/drain", Access::kPermission, "node:manage", HandleSetDrain},
    {"POST", "/api/v1/session", Access::kPublic, "", HandleCreateSession},
    {"GET", "/api/v1/session", Access::kAuthenticated, "", HandleGetSession},
    {"DELETE", "/api/v1/session", Access::kAuthenticated, "", HandleDeleteSession},
    {"GET", "/api/v1/live", Access::kPermission, "calls:read", HandleLive},
    {"GET", "/api/v1/system", Access::kPermission, "system:read", HandleSystem},
    {"GET", "/api/v1/roles", Access::kPermission, "users:manage", HandleListRoles},
    {"GET", "/api/v1/tenants", Access::kPermission, "tenants:manage", HandleListTenants},
    {"PUT", "/api/v1/tenants/{name}", Access::kPermission, "tenants:manage", HandlePutTenant},
    {"DELETE", "/api/v1/tenants/{name}", Access::kPermission, "tenants:manage", HandleDeleteTenant},
};

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

std::string RouteRegex(std::string_view path) {
  std::string re;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '{') {
      size_t close = path.find('}', i);
      if (close != std::string_view::npos) {
        re += "([^/]+)";
        i = close;
        continue;
      }
    }
    if (std::string_view(".^$|()[]*+?\\{}").find(c) != std::string_view::npos) re += '\\';
    re += c;
  }
  return re;
}

int64_t Api::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock->WallNow().time_since_epoch())
      .count();
}

Status RequestContext::TryAudit(Api& api, std::string action, std::string target,
                                std::string tenant, nlohmann::json detail) const {
  catalog::AuditEntry entry;
  entry.at_ms = api.NowMs();
  entry.actor = principal ? principal->user.username : "anonymous";
  entry.action = std::move(action);
  entry.target = std::move(target);
  entry.tenant = std::move(tenant);
  entry.detail = std::move(detail);
  entry.remote = remote;
  Result<int64_t> id = api.catalog->AppendAudit(entry);
  if (!id.ok()) {
    CV_LOG_ERROR("http.audit_failed", "action={} target=\"{}\" actor={} status=\"{}\"",
                 entry.action, entry.target, entry.actor, id.status().ToString());
  }
  return id.status();
}

void RequestContext::Audit(Api& api, std::string action, std::string target, std::string tenant,
                           nlohmann::json detail) const {
  TryAudit(api, std::move(action), std::move(target), std::move(tenant), std::move(detail))
      .IgnoreError();
}

}  // namespace callvault::http
