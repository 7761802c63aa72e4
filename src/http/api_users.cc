// /api/v1/users (users:manage) and /api/v1/me. A manager with a tenant only sees and manages
// users of that tenant; every change is audited.
#include "http/api_util.h"
#include "http/response.h"

namespace callvault::http {
namespace {

Status ValidUsername(const std::string& name) {
  if (name.empty() || name.size() > 64) return InvalidArgumentError("username: 1..64 characters");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || c == '@';
    if (!ok) return InvalidArgumentError("username: letters, digits and _ . - @ only");
  }
  return Status::Ok();
}

// Reads an optional member of the expected type into *out; false (with the error written) when
// the member has another type.
template <typename T>
bool Member(const nlohmann::json& body, const char* name, std::optional<T>* out,
            httplib::Response& res) {
  auto it = body.find(name);
  if (it == body.end()) return true;
  bool type_ok;
  if constexpr (std::is_same_v<T, bool>) {
    type_ok = it->is_boolean();
  } else if constexpr (std::is_same_v<T, std::string>) {
    type_ok = it->is_string();
  } else {
    type_ok = it->is_number_integer();
  }
  if (!type_ok) {
    WriteError(res, 400, "invalid_argument", std::string(name) + ": wrong type");
    return false;
  }
  *out = it->get<T>();
  return true;
}

const std::string& Scope(const RequestContext& ctx) { return ctx.principal->user.tenant; }

}  // namespace

void HandleListUsers(Api& api, const RequestContext& ctx, const httplib::Request&,
                     httplib::Response& res) {
  Result<std::vector<catalog::User>> users = api.catalog->ListUsers();
  if (!users.ok()) return WriteStatusError(res, users.status());
  nlohmann::json out = nlohmann::json::array();
  for (const catalog::User& u : *users) {
    if (Scope(ctx).empty() || u.tenant == Scope(ctx)) out.push_back(UserJson(u));
  }
  WriteJson(res, 200, {{"users", std::move(out)}});
}

void HandleCreateUser(Api& api, const RequestContext& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return;
  if (Status s = CheckMembers(*body, {"username", "password", "role", "tenant", "disabled"});
      !s.ok()) {
    return WriteError(res, 400, "invalid_argument", s.message());
  }
  std::optional<std::string> username, password, role, tenant;
  std::optional<bool> disabled;
  if (!Member(*body, "username", &username, res) || !Member(*body, "password", &password, res) ||
      !Member(*body, "role", &role, res) || !Member(*body, "tenant", &tenant, res) ||
      !Member(*body, "disabled", &disabled, res)) {
    return;
  }
  if (!username || !password || !role) {
    return WriteError(res, 400, "invalid_argument", "username, password and role are required");
  }
  if (Status s = ValidUsername(*username); !s.ok()) {
    return WriteError(res, 400, "invalid_argument", s.message());
  }
  catalog::User user;
  user.username = *username;
  user.role = *role;
  user.tenant = tenant.value_or("");
  user.disabled = disabled.value_or(false);
  user.created_ms = api.NowMs();
  if (!Scope(ctx).empty() && user.tenant != Scope(ctx)) {
    return WriteError(res, 403, "forbidden",
                      "you may only create users of tenant '" + Scope(ctx) + "'");
  }
  Result<std::string> hash = HashPassword(*password);
  if (!hash.ok()) return WriteStatusError(res, hash.status());
  user.password_hash = std::move(hash).value();
  Result<int64_t> id = api.catalog->CreateUser(user);
  if (!id.ok()) return WriteStatusError(res, id.status());
  user.id = *id;
  ctx.Audit(api, "user.create", user.username, user.tenant,
            {{"role", user.role}, {"tenant", user.tenant}, {"disabled", user.disabled}});
  WriteJson(res, 201, UserJson(user));
}

void HandleUpdateUser(Api& api, const RequestContext& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  std::optional<catalog::User> user = LoadUserInScope(api, ctx, ctx.params[0], res);
  if (!user) return;
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return;
  if (Status s = CheckMembers(*body, {"password", "role", "tenant", "disabled"}); !s.ok()) {
    return WriteError(res, 400, "invalid_argument", s.message());
  }
  std::optional<std::string> password, role, tenant;
  std::optional<bool> disabled;
  if (!Member(*body, "password", &password, res) || !Member(*body, "role", &role, res) ||
      !Member(*body, "tenant", &tenant, res) || !Member(*body, "disabled", &disabled, res)) {
    return;
  }
  nlohmann::json changed = nlohmann::json::object();
  if (tenant) {
    if (!Scope(ctx).empty() && *tenant != Scope(ctx)) {
      return WriteError(res, 403, "forbidden", "you may not move users to another tenant");
    }
    user->tenant = *tenant;
    changed["tenant"] = *tenant;
  }
  if (role) {
    user->role = *role;
    changed["role"] = *role;
  }
  if (disabled) {
    user->disabled = *disabled;
    changed["disabled"] = *disabled;
  }
  if (password) {
    Result<std::string> hash = HashPassword(*password);
    if (!hash.ok()) return WriteStatusError(res, hash.status());
    user->password_hash = std::move(hash).value();
    changed["password"] = true;
  }
  if (Status s = api.catalog->UpdateUser(*user); !s.ok()) return WriteStatusError(res, s);
  ctx.Audit(api, "user.update", user->username, user->tenant, changed);
  WriteJson(res, 200, UserJson(*user));
}

void HandleDeleteUser(Api& api, const RequestContext& ctx, const httplib::Request&,
                      httplib::Response& res) {
  std::optional<catalog::User> user = LoadUserInScope(api, ctx, ctx.params[0], res);
  if (!user) return;
  if (user->id == ctx.principal->user.id) {
    return WriteError(res, 409, "conflict", "you cannot delete yourself");
  }
  if (Status s = api.catalog->DeleteUser(user->id); !s.ok()) return WriteStatusError(res, s);
  ctx.Audit(api, "user.delete", user->username, user->tenant);
  res.status = 204;
}

void HandleMe(Api&, const RequestContext& ctx, const httplib::Request&, httplib::Response& res) {
  WriteJson(res, 200,
            {{"user", UserJson(ctx.principal->user)},
             {"permissions", ctx.principal->permissions},
             {"auth", ctx.principal->method}});
}

}  // namespace callvault::http
