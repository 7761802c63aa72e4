// /api/v1/tokens (own tokens; users:manage may list, create and delete others').
#include "base/uuid.h"
#include "http/api_util.h"
#include "http/query.h"
#include "http/response.h"

namespace callvault::http {
namespace {

constexpr int64_t kMaxTokenLifetimeS = 10LL * 366 * 86400;

// The user whose tokens the request is about: `name` when given and allowed, else the caller.
std::optional<catalog::User> TokenOwner(Api& api, const RequestContext& ctx,
                                        const std::string& name, httplib::Response& res) {
  const Principal& p = *ctx.principal;
  if (name.empty() || name == p.user.username) return p.user;
  if (!p.Can("users:manage")) {
    WriteError(res, 403, "forbidden", "permission 'users:manage' needed for others' tokens");
    return std::nullopt;
  }
  return LoadUserInScope(api, ctx, name, res);
}

}  // namespace

void HandleListTokens(Api& api, const RequestContext& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  if (Status s = CheckParamNames(req.params, {"user"}); !s.ok()) {
    return WriteError(res, 400, "invalid_parameter", s.message());
  }
  std::optional<catalog::User> owner = TokenOwner(api, ctx, req.get_param_value("user"), res);
  if (!owner) return;
  Result<std::vector<catalog::ApiToken>> tokens = api.catalog->ListTokens(owner->id);
  if (!tokens.ok()) return WriteStatusError(res, tokens.status());
  nlohmann::json out = nlohmann::json::array();
  for (const catalog::ApiToken& t : *tokens) out.push_back(TokenJson(t, owner->username));
  WriteJson(res, 200, {{"tokens", std::move(out)}});
}

// Body: {"name": "...", "expires_in_s": 86400 (optional), "user": "other" (users:manage)}.
// The answer holds the secret; it is never shown again.
void HandleCreateToken(Api& api, const RequestContext& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return;
  if (Status s = CheckMembers(*body, {"name", "expires_in_s", "user"}); !s.ok()) {
    return WriteError(res, 400, "invalid_argument", s.message());
  }
  const nlohmann::json& b = *body;
  if (!b.contains("name") || !b["name"].is_string() || b["name"].get<std::string>().empty() ||
      b["name"].get<std::string>().size() > 64) {
    return WriteError(res, 400, "invalid_argument", "name: a string of 1..64 characters");
  }
  if (b.contains("user") && !b["user"].is_string()) {
    return WriteError(res, 400, "invalid_argument", "user: a username");
  }
  std::optional<int64_t> expires_in;
  if (b.contains("expires_in_s")) {
    if (!b["expires_in_s"].is_number_integer() || b["expires_in_s"].get<int64_t>() < 1 ||
        b["expires_in_s"].get<int64_t>() > kMaxTokenLifetimeS) {
      return WriteError(res, 400, "invalid_argument",
                        "expires_in_s: an integer number of seconds, 1..316224000");
    }
    expires_in = b["expires_in_s"].get<int64_t>();
  }
  std::optional<catalog::User> owner = TokenOwner(api, ctx, b.value("user", std::string()), res);
  if (!owner) return;
  NewApiToken secret = GenerateApiToken();
  catalog::ApiToken token;
  token.user_id = owner->id;
  token.name = b["name"].get<std::string>();
  token.token_hash = secret.hash;
  token.created_ms = api.NowMs();
  if (expires_in) token.expires_ms = token.created_ms + *expires_in * 1000;
  Result<std::string> api_id = api.catalog->CreateToken(token);
  if (!api_id.ok()) return WriteStatusError(res, api_id.status());
  token.api_id = *api_id;
  ctx.Audit(api, "token.create", owner->username, owner->tenant,
            {{"token_id", token.api_id}, {"name", token.name}});
  nlohmann::json out = TokenJson(token, owner->username);
  out["token"] = secret.secret;
  WriteJson(res, 201, out);
}

void HandleDeleteToken(Api& api, const RequestContext& ctx, const httplib::Request&,
                       httplib::Response& res) {
  // The token's api_id (a UUIDv7, the same on every cluster node).
  const std::string& id = ctx.params[0];
  if (!IsUuid(id)) return WriteError(res, 404, "not_found", "no token " + id);
  // The catalog finds tokens by user: the caller's own first, then (for managers) everyone's
  // in scope.
  const Principal& p = *ctx.principal;
  std::vector<catalog::User> candidates = {p.user};
  if (p.Can("users:manage")) {
    Result<std::vector<catalog::User>> users = api.catalog->ListUsers();
    if (!users.ok()) return WriteStatusError(res, users.status());
    for (const catalog::User& u : *users) {
      if (u.id != p.user.id && (p.user.tenant.empty() || u.tenant == p.user.tenant)) {
        candidates.push_back(u);
      }
    }
  }
  for (const catalog::User& u : candidates) {
    Result<std::vector<catalog::ApiToken>> tokens = api.catalog->ListTokens(u.id);
    if (!tokens.ok()) return WriteStatusError(res, tokens.status());
    for (const catalog::ApiToken& t : *tokens) {
      if (t.api_id != id) continue;
      if (Status s = api.catalog->DeleteToken(id); !s.ok()) return WriteStatusError(res, s);
      ctx.Audit(api, "token.delete", u.username, u.tenant, {{"token_id", id}, {"name", t.name}});
      res.status = 204;
      return;
    }
  }
  WriteError(res, 404, "not_found", "no token " + id);
}

}  // namespace callvault::http
