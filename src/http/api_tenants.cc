// Tenants and roles as the portal's admin pages use them: GET/PUT/DELETE /api/v1/tenants…,
// GET /api/v1/roles (docs/api.md). A tenant-scoped caller sees and changes its own tenant only.
#include "base/time_format.h"
#include "http/api_util.h"
#include "http/query.h"
#include "http/response.h"

namespace callvault::http {
namespace {

nlohmann::json TenantJson(const catalog::Tenant& t) {
  return {{"name", t.name},
          {"display_name", t.display_name},
          {"disabled", t.disabled},
          {"created", FormatRfc3339Ms(t.created_ms)}};
}

// False (and the 404 written) when the caller is scoped to another tenant than `name`.
bool InScope(const RequestContext& ctx, const std::string& name, httplib::Response& res) {
  const std::string& scope = ctx.principal->user.tenant;
  if (scope.empty() || scope == name) return true;
  WriteError(res, 404, "not_found", "no such tenant");
  return false;
}

}  // namespace

void HandleListRoles(Api& api, const RequestContext&, const httplib::Request& req,
                     httplib::Response& res) {
  if (Status s = CheckParamNames(req.params, {}); !s.ok()) {
    return WriteError(res, 400, "invalid_parameter", s.message());
  }
  Result<std::vector<catalog::Role>> roles = api.catalog->ListRoles();
  if (!roles.ok()) return WriteStatusError(res, roles.status());
  nlohmann::json out = nlohmann::json::array();
  for (const catalog::Role& r : *roles) {
    out.push_back(
        {{"name", r.name}, {"description", r.description}, {"permissions", r.permissions}});
  }
  WriteJson(res, 200, {{"roles", std::move(out)}});
}

void HandleListTenants(Api& api, const RequestContext& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  if (Status s = CheckParamNames(req.params, {}); !s.ok()) {
    return WriteError(res, 400, "invalid_parameter", s.message());
  }
  Result<std::vector<catalog::Tenant>> tenants = api.catalog->ListTenants();
  if (!tenants.ok()) return WriteStatusError(res, tenants.status());
  const std::string& scope = ctx.principal->user.tenant;
  nlohmann::json out = nlohmann::json::array();
  for (const catalog::Tenant& t : *tenants) {
    if (scope.empty() || t.name == scope) out.push_back(TenantJson(t));
  }
  WriteJson(res, 200, {{"tenants", std::move(out)}});
}

void HandlePutTenant(Api& api, const RequestContext& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  const std::string& name = ctx.params[0];
  if (!InScope(ctx, name, res)) return;
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return;
  if (Status s = CheckMembers(*body, {"display_name", "disabled"}); !s.ok()) {
    return WriteError(res, 400, "invalid_argument", s.message());
  }
  // An existing tenant keeps its creation time, and what the body leaves out.
  catalog::Tenant tenant;
  tenant.name = name;
  Result<std::vector<catalog::Tenant>> existing = api.catalog->ListTenants();
  if (!existing.ok()) return WriteStatusError(res, existing.status());
  for (const catalog::Tenant& t : *existing) {
    if (t.name == name) tenant = t;
  }
  if (auto it = body->find("display_name"); it != body->end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 256) {
      return WriteError(res, 400, "invalid_argument", "display_name: a string of ≤ 256 bytes");
    }
    tenant.display_name = it->get<std::string>();
  }
  if (auto it = body->find("disabled"); it != body->end()) {
    if (!it->is_boolean()) return WriteError(res, 400, "invalid_argument", "disabled: a boolean");
    tenant.disabled = it->get<bool>();
  }
  if (tenant.created_ms == 0) tenant.created_ms = api.NowMs();
  if (Status s = api.catalog->UpsertTenant(tenant); !s.ok()) return WriteStatusError(res, s);
  ctx.Audit(api, "tenant.update", name, name,
            {{"display_name", tenant.display_name}, {"disabled", tenant.disabled}});
  WriteJson(res, 200, TenantJson(tenant));
}

void HandleDeleteTenant(Api& api, const RequestContext& ctx, const httplib::Request&,
                        httplib::Response& res) {
  const std::string& name = ctx.params[0];
  if (!InScope(ctx, name, res)) return;
  if (Status s = api.catalog->DeleteTenant(name); !s.ok()) return WriteStatusError(res, s);
  ctx.Audit(api, "tenant.delete", name, name);
  res.status = 204;
}

}  // namespace callvault::http
