// The web portal's login: POST/GET/DELETE /api/v1/session (docs/api.md §Sessions). The session
// itself lives in the catalog (Authenticator::StartSession); the browser holds only the
// HttpOnly cookie and reads the CSRF token from these answers.
#include "base/log.h"
#include "base/time_format.h"
#include "http/api_util.h"
#include "http/cookie.h"
#include "http/csrf.h"
#include "http/response.h"

namespace callvault::http {
namespace {

nlohmann::json SessionJson(const Api& api, const Principal& p) {
  return {{"user", UserJson(p.user)},
          {"permissions", p.permissions},
          {"csrf_token", p.csrf_token},
          {"expires", FormatRfc3339Ms(p.session_expires_ms)},
          {"idle_timeout_s", api.options.session_idle_timeout_s}};
}

}  // namespace

void HandleCreateSession(Api& api, const RequestContext& ctx, const httplib::Request& req,
                         httplib::Response& res) {
  // A login form posted from a foreign page would log the victim into the attacker's account.
  if (Status s = CheckOrigin(req.get_header_value("Origin"),
                             ExpectedOrigin(api.public_origin, req.get_header_value("Host")));
      !s.ok()) {
    CV_LOG_INFO("http.csrf_failed", "remote={} route=\"/api/v1/session\" reason=\"{}\"", ctx.remote,
                s.message());
    return WriteError(res, 403, "csrf_failed", "request from a foreign origin");
  }
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return;
  if (Status s = CheckMembers(*body, {"username", "password"}); !s.ok()) {
    return WriteError(res, 400, "invalid_argument", s.message());
  }
  const auto username = body->find("username");
  const auto password = body->find("password");
  if (username == body->end() || !username->is_string() || password == body->end() ||
      !password->is_string()) {
    return WriteError(res, 400, "invalid_argument", "username and password: strings required");
  }
  const std::string& name = username->get_ref<const std::string&>();
  std::string& secret = password->get_ref<std::string&>();
  if (name.empty() || name.size() > 256 || secret.size() > kMaxPasswordLength) {
    return WriteError(res, 400, "invalid_argument", "username or password: bad length");
  }
  std::chrono::seconds retry_after{0};
  Result<Principal> principal = api.auth->Login(name, secret, ctx.remote, &retry_after);
  std::fill(secret.begin(), secret.end(), '\0');
  if (!principal.ok()) {
    const Status& s = principal.status();
    if (s.code() == StatusCode::kResourceExhausted) {
      CV_LOG_INFO("http.login_locked", "remote={} user=\"{}\" retry_after_s={}", ctx.remote,
                  name.substr(0, 64), retry_after.count());
      res.set_header("Retry-After", std::to_string(retry_after.count()));
      WriteJson(res, 429,
                {{"error",
                  {{"code", "too_many_attempts"},
                   {"message", "too many failed logins; try again in " +
                                   std::to_string(retry_after.count()) + " s"},
                   {"retry_after_s", retry_after.count()}}}});
      return;
    }
    if (s.code() == StatusCode::kUnauthenticated) {
      CV_LOG_INFO("http.login_failed", "remote={} user=\"{}\" reason=\"{}\"", ctx.remote,
                  name.substr(0, 64), s.message());
      return WriteError(res, 401, "unauthenticated", "wrong user name or password");
    }
    return WriteStatusError(res, s);
  }
  Result<NewSession> session = api.auth->StartSession(std::move(principal).value(), ctx.remote,
                                                      req.get_header_value("User-Agent"));
  if (!session.ok()) return WriteStatusError(res, session.status());
  res.set_header("Set-Cookie", SessionSetCookie(api.auth->cookie_name(), session->cookie_value,
                                                api.auth->options().secure_cookie,
                                                api.options.session_max_age_s));
  RequestContext logged_in = ctx;
  logged_in.principal = &session->principal;
  logged_in.Audit(api, "session.login", session->principal.user.username,
                  session->principal.user.tenant);
  WriteJson(res, 201, SessionJson(api, session->principal));
}

void HandleGetSession(Api& api, const RequestContext& ctx, const httplib::Request&,
                      httplib::Response& res) {
  if (ctx.principal->method != "session") {
    return WriteError(res, 404, "not_found", "this request is not authenticated by a session");
  }
  WriteJson(res, 200, SessionJson(api, *ctx.principal));
}

void HandleDeleteSession(Api& api, const RequestContext& ctx, const httplib::Request&,
                         httplib::Response& res) {
  if (ctx.principal->method != "session") {
    return WriteError(res, 404, "not_found", "this request is not authenticated by a session");
  }
  if (Status s = api.auth->EndSession(*ctx.principal); !s.ok()) {
    return WriteStatusError(res, s);
  }
  res.set_header("Set-Cookie", SessionSetCookie(api.auth->cookie_name(), "",
                                                api.auth->options().secure_cookie, 0));
  ctx.Audit(api, "session.logout", ctx.principal->user.username, ctx.principal->user.tenant);
  res.status = 204;
}

}  // namespace callvault::http
