// The web portal's server side end to end: cookie sessions, the login back-off, CSRF, the page
// table's access rules, the embedded assets and their headers.
#include <thread>

#include "http/client_address.h"
#include "http/csrf.h"
#include "http/pages.h"
#include "http/testing/api_fixture.h"

namespace callvault::http {
namespace {

using testing::ApiTest;
using testing::kPassword;

struct Login {
  int status = 0;
  std::string cookie;  // "cv_session=…" for a Cookie header
  std::string set_cookie;
  std::string csrf;
  nlohmann::json body;
  std::string retry_after;
};

class SessionTest : public ApiTest {
 protected:
  Login LogIn(const std::string& user, const std::string& password,
              const httplib::Headers& headers = {}) {
    auto cli = As("");
    nlohmann::json body = {{"username", user}, {"password", password}};
    auto res = cli->Post("/api/v1/session", headers, body.dump(), "application/json");
    Login out;
    if (!res) return out;
    out.status = res->status;
    out.body = Json(res);
    out.set_cookie = res->get_header_value("Set-Cookie");
    out.cookie = out.set_cookie.substr(0, out.set_cookie.find(';'));
    out.retry_after = res->get_header_value("Retry-After");
    if (out.body.is_object()) out.csrf = out.body.value("csrf_token", "");
    return out;
  }
  httplib::Result Get(const std::string& path, const std::string& cookie) {
    return As("")->Get(path, httplib::Headers{{"Cookie", cookie}});
  }
  httplib::Result Send(const std::string& method, const std::string& path, const Login& s,
                       httplib::Headers headers, const std::string& body = "") {
    headers.emplace("Cookie", s.cookie);
    auto cli = As("");
    if (method == "DELETE") return cli->Delete(path, headers, body, "application/json");
    if (method == "PUT") return cli->Put(path, headers, body, "application/json");
    return cli->Post(path, headers, body, "application/json");
  }
};

TEST_F(SessionTest, LoginSetsAHardenedCookieThatAuthenticates) {
  Login s = LogIn("admin", kPassword);
  ASSERT_EQ(s.status, 201) << s.body;
  EXPECT_TRUE(s.cookie.starts_with("cv_session=")) << s.set_cookie;
  EXPECT_EQ(s.cookie.size(), std::string("cv_session=").size() + 43);
  for (const char* attr : {"; Path=/", "; HttpOnly", "; SameSite=Strict", "; Max-Age=43200"}) {
    EXPECT_NE(s.set_cookie.find(attr), std::string::npos) << attr << " in " << s.set_cookie;
  }
  EXPECT_EQ(s.set_cookie.find("Secure"), std::string::npos);  // http: no public_url
  EXPECT_EQ(s.csrf.size(), 43u);
  EXPECT_EQ(s.body["user"]["username"], "admin");
  EXPECT_EQ(s.body["idle_timeout_s"], 1800);

  auto me = Get("/api/v1/me", s.cookie);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200);
  EXPECT_EQ(Json(me)["auth"], "session");
  auto session = Get("/api/v1/session", s.cookie);
  EXPECT_EQ(Json(session)["csrf_token"], s.csrf);
  // The catalog keeps a hash, never the cookie.
  const std::string value = s.cookie.substr(s.cookie.find('=') + 1);
  EXPECT_TRUE(catalog_->GetSession(TokenHash(value)).ok());
  EXPECT_FALSE(catalog_->GetSession(value).ok());
  // Bearer or Basic requests have no session to show.
  EXPECT_EQ(As("admin")->Get("/api/v1/session")->status, 404);
}

TEST_F(SessionTest, WrongPasswordsAreRefusedThenLockedOut) {
  Login bad = LogIn("admin", "wrong-password");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.body["error"]["code"], "unauthenticated");
  EXPECT_TRUE(bad.set_cookie.empty());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(LogIn("admin", "wrong-password").status, 401);
  Login locked = LogIn("admin", "wrong-password");
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(locked.body["error"]["code"], "too_many_attempts");
  EXPECT_EQ(locked.retry_after, "60");
  // Even the right password, over the portal or HTTP Basic, until the lock ends.
  EXPECT_EQ(LogIn("admin", kPassword).status, 429);
  auto basic = As("admin")->Get("/api/v1/me");
  EXPECT_EQ(basic->status, 429);
  EXPECT_EQ(basic->get_header_value("Retry-After"), "60");
  // The address is locked too: another user from it waits as well.
  EXPECT_EQ(LogIn("viewer", kPassword).status, 429);
}

TEST_F(SessionTest, UnknownUsersAreThrottledAlike) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(LogIn("nobody", "whatever-1").status, 401);
  EXPECT_EQ(LogIn("nobody", "whatever-1").status, 429);
}

TEST_F(SessionTest, LogoutEndsTheSessionEverywhere) {
  Login s = LogIn("viewer", kPassword);
  ASSERT_EQ(s.status, 201);
  auto out = Send("DELETE", "/api/v1/session", s, {{"X-CSRF-Token", s.csrf}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Get("/api/v1/me", s.cookie)->status, 401);
  EXPECT_EQ(Get("/calls", s.cookie)->status, 302);
}

TEST_F(SessionTest, PasswordChangeDisableAndDeleteEndSessions) {
  Login a = LogIn("supervisor", kPassword);
  ASSERT_EQ(a.status, 201);
  Login admin = LogIn("admin", kPassword);
  ASSERT_EQ(admin.status, 201);
  auto changed = As("admin")->Patch("/api/v1/users/supervisor",
                                    R"({"password":"another-password"})", "application/json");
  ASSERT_EQ(changed->status, 200) << changed->body;
  EXPECT_EQ(Get("/api/v1/me", a.cookie)->status, 401);
  EXPECT_EQ(Get("/api/v1/me", admin.cookie)->status, 200);  // others keep theirs

  Login b = LogIn("supervisor", "another-password");
  ASSERT_EQ(b.status, 201);
  ASSERT_EQ(As("admin")->Patch("/api/v1/users/supervisor", R"({"disabled":true})",
                               "application/json")->status, 200);
  EXPECT_EQ(Get("/api/v1/me", b.cookie)->status, 401);
  ASSERT_EQ(As("admin")->Patch("/api/v1/users/supervisor", R"({"disabled":false})",
                               "application/json")->status, 200);
  Login c = LogIn("supervisor", "another-password");
  ASSERT_EQ(c.status, 201);
  ASSERT_EQ(As("admin")->Delete("/api/v1/users/supervisor")->status, 204);
  EXPECT_EQ(Get("/api/v1/me", c.cookie)->status, 401);

  // A password changed behind the server's back (a peer's change applied to the catalog) ends
  // the session by its credential fingerprint.
  Login v = LogIn("viewer", kPassword);
  ASSERT_EQ(v.status, 201);
  Result<catalog::User> viewer = catalog_->GetUser("viewer");
  ASSERT_TRUE(viewer.ok());
  const std::string value = v.cookie.substr(v.cookie.find('=') + 1);
  Result<catalog::WebSession> row = catalog_->GetSession(TokenHash(value));
  ASSERT_TRUE(row.ok());
  row->credential = "something-else";
  ASSERT_TRUE(catalog_->DeleteSession(row->id_hash).ok());
  ASSERT_TRUE(catalog_->CreateSession(*row).ok());
  EXPECT_EQ(Get("/api/v1/me", v.cookie)->status, 401);
  EXPECT_EQ(catalog_->GetSession(row->id_hash).status().code(), StatusCode::kNotFound);
}

TEST_F(SessionTest, ExpiredAndIdleSessionsEnd) {
  Login s = LogIn("viewer", kPassword);
  ASSERT_EQ(s.status, 201);
  const std::string hash = TokenHash(s.cookie.substr(s.cookie.find('=') + 1));
  Result<catalog::WebSession> row = catalog_->GetSession(hash);
  ASSERT_TRUE(row.ok());
  catalog::WebSession idle = *row;
  idle.last_seen_ms -= 1801 * 1000;
  idle.created_ms = idle.last_seen_ms;
  ASSERT_TRUE(catalog_->DeleteSession(hash).ok());
  ASSERT_TRUE(catalog_->CreateSession(idle).ok());
  EXPECT_EQ(Get("/api/v1/me", s.cookie)->status, 401);

  Login t = LogIn("viewer", kPassword);
  const std::string hash2 = TokenHash(t.cookie.substr(t.cookie.find('=') + 1));
  catalog::WebSession expired = *catalog_->GetSession(hash2);
  expired.expires_ms = expired.created_ms;  // the absolute end is now
  ASSERT_TRUE(catalog_->DeleteSession(hash2).ok());
  ASSERT_TRUE(catalog_->CreateSession(expired).ok());
  EXPECT_EQ(Get("/api/v1/me", t.cookie)->status, 401);
}

TEST_F(SessionTest, UnsafeRequestsNeedTheCsrfTokenAndOurOrigin) {
  Login s = LogIn("admin", kPassword);
  ASSERT_EQ(s.status, 201);
  const std::string body = R"({"display_name":"Acme"})";
  auto none = Send("PUT", "/api/v1/tenants/acme", s, {}, body);
  EXPECT_EQ(none->status, 403);
  EXPECT_EQ(ErrorCode(none), "csrf_failed");
  auto wrong = Send("PUT", "/api/v1/tenants/acme", s,
                    {{"X-CSRF-Token", std::string(43, 'A')}}, body);
  EXPECT_EQ(wrong->status, 403);
  auto foreign = Send("PUT", "/api/v1/tenants/acme", s,
                      {{"X-CSRF-Token", s.csrf}, {"Origin", "http://evil.example"}}, body);
  EXPECT_EQ(foreign->status, 403);
  auto null_origin = Send("PUT", "/api/v1/tenants/acme", s,
                          {{"X-CSRF-Token", s.csrf}, {"Origin", "null"}}, body);
  EXPECT_EQ(null_origin->status, 403);
  EXPECT_TRUE(catalog_->ListTenants()->empty());  // nothing changed
  const std::string own = "http://127.0.0.1:" + std::to_string(server_->port());
  auto ok = Send("PUT", "/api/v1/tenants/acme", s, {{"X-CSRF-Token", s.csrf}, {"Origin", own}},
                 body);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(catalog_->ListTenants()->size(), 1u);
  // Bearer and Basic are not cookie-borne: no token needed.
  EXPECT_EQ(As("admin")->Put("/api/v1/tenants/beta", body, "application/json")->status, 200);
  // A login posted from a foreign page is refused too.
  EXPECT_EQ(LogIn("admin", kPassword, {{"Origin", "http://evil.example"}}).status, 403);
}

TEST_F(SessionTest, PublicUrlMakesTheCookieSecureAndSetsTheOrigin) {
  HttpOptions o;
  o.public_url = "https://Rec.Example.com/";
  Start(o);
  Login s = LogIn("admin", kPassword);
  ASSERT_EQ(s.status, 201);
  EXPECT_TRUE(s.cookie.starts_with("__Host-cv_session=")) << s.set_cookie;
  EXPECT_NE(s.set_cookie.find("; Secure"), std::string::npos);
  const std::string body = R"({"display_name":"Acme"})";
  EXPECT_EQ(Send("PUT", "/api/v1/tenants/acme", s,
                 {{"X-CSRF-Token", s.csrf}, {"Origin", "https://rec.example.com"}}, body)
                ->status,
            200);
  EXPECT_EQ(Send("PUT", "/api/v1/tenants/acme", s,
                 {{"X-CSRF-Token", s.csrf},
                  {"Origin", "http://127.0.0.1:" + std::to_string(server_->port())}},
                 body)
                ->status,
            403);
}

TEST_F(SessionTest, PagesEnforceTheirAccessRules) {
  auto anon = As("");
  auto root = anon->Get("/");
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/calls");
  auto calls = anon->Get("/calls?caller=10%260&sort=duration");
  EXPECT_EQ(calls->status, 302);
  // Sent as /login?next=/calls%3Fcaller%3D10%25260%26sort%3Dduration; httplib's client
  // percent-decodes Location once.
  EXPECT_EQ(calls->get_header_value("Location"), "/login?next=/calls?caller=10%260&sort=duration");
  auto login = anon->Get("/login");
  EXPECT_EQ(login->status, 200);
  EXPECT_EQ(login->get_header_value("Content-Security-Policy"), kContentSecurityPolicy);
  EXPECT_EQ(login->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(login->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(login->get_header_value_count("Cache-Control"), 1u);
  EXPECT_NE(login->body.find("/assets/" + std::string(WebAssetsHash()) + "/"), std::string::npos);
  EXPECT_EQ(login->body.find("{{assets}}"), std::string::npos);

  Login viewer = LogIn("viewer", kPassword);
  for (const char* path : {"/calls", "/calls/some-id", "/live", "/tokens"}) {
    auto res = Get(path, viewer.cookie);
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), kContentSecurityPolicy);
  }
  for (const char* path : {"/users", "/roles", "/tenants", "/audit", "/system"}) {
    auto res = Get(path, viewer.cookie);
    EXPECT_EQ(res->status, 403) << path;
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), kContentSecurityPolicy);
    EXPECT_NE(res->get_header_value("Content-Type").find("text/html"), std::string::npos);
  }
  Login admin = LogIn("admin", kPassword);
  for (const char* path : {"/users", "/roles", "/tenants", "/audit", "/system"}) {
    EXPECT_EQ(Get(path, admin.cookie)->status, 200) << path;
  }
  // A revalidation of the shell is a 304.
  auto shell = Get("/calls", admin.cookie);
  auto again = As("")->Get("/calls", httplib::Headers{{"Cookie", admin.cookie},
                                                      {"If-None-Match",
                                                       shell->get_header_value("ETag")}});
  EXPECT_EQ(again->status, 304);
}

TEST_F(SessionTest, AssetsAreImmutableUnderTheBuildHash) {
  const std::string base = "/assets/" + std::string(WebAssetsHash()) + "/";
  auto js = As("")->Get(base + "app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  const WebAsset* app = FindWebAsset("app.js");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(js->get_header_value("ETag"), "\"" + std::string(app->sha256) + "\"");
  EXPECT_EQ(js->body, app->body);
  EXPECT_EQ(TokenHash(js->body), app->sha256);
  auto cached =
      As("")->Get(base + "app.js", httplib::Headers{{"If-None-Match", js->get_header_value("ETag")}});
  EXPECT_EQ(cached->status, 304);
  EXPECT_EQ(As("")->Get("/assets/0123456789abcdef/app.js")->status, 404);
  EXPECT_EQ(As("")->Get(base + "nope.js")->status, 404);
  EXPECT_EQ(As("")->Get(base + "../index.html")->status, 404);
  // Every page module the shell can load is embedded.
  for (const char* page :
       {"pages/login.js", "pages/calls.js", "pages/call.js", "pages/live.js", "pages/users.js",
        "pages/roles.js", "pages/tenants.js", "pages/tokens.js", "pages/audit.js",
        "pages/system.js"}) {
    EXPECT_NE(FindWebAsset(page), nullptr) << page;
  }
}

TEST_F(SessionTest, ScriptsAndJsonAreGzipNotBrotli) {
  const std::string base = "/assets/" + std::string(WebAssetsHash()) + "/";
  auto cli = As("");
  cli->set_decompress(false);
  auto js = cli->Get(base + "app.js", httplib::Headers{{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(js);
  EXPECT_EQ(js->get_header_value("Content-Encoding"), "gzip");
  auto only_br = cli->Get(base + "app.js", httplib::Headers{{"Accept-Encoding", "br"}});
  EXPECT_EQ(only_br->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(only_br->body, FindWebAsset("app.js")->body);
}

TEST_F(SessionTest, BrowserScriptsGetNoBasicChallenge) {
  auto res = As("")->Get("/api/v1/me", httplib::Headers{{"Sec-Fetch-Mode", "cors"}});
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate").find("Basic"), std::string::npos);
  res = As("")->Get("/api/v1/me");
  EXPECT_NE(res->get_header_value("WWW-Authenticate").find("Basic"), std::string::npos);
}

TEST_F(SessionTest, BehindATrustedProxyTheForwardedClientIsLockedNotTheProxy) {
  HttpOptions o;
  o.trusted_proxies = {"127.0.0.1"};
  Start(o);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(LogIn("nobody" + std::to_string(i), "wrong-pass", {{"X-Forwarded-For",
                                                                    "203.0.113.7"}})
                  .status,
              401);
  }
  // 203.0.113.7 is locked; another client behind the same proxy is not.
  EXPECT_EQ(LogIn("admin", kPassword, {{"X-Forwarded-For", "203.0.113.7"}}).status, 429);
  Login other = LogIn("admin", kPassword, {{"X-Forwarded-For", "198.51.100.2"}});
  EXPECT_EQ(other.status, 201);
  // The audit log names the client.
  Result<std::vector<catalog::AuditEntry>> audit = catalog_->ListAudit(0, 100);
  ASSERT_TRUE(audit.ok());
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->back().action, "session.login");
  EXPECT_EQ(audit->back().remote, "198.51.100.2");
}

TEST(ClientAddressTest, OnlyTrustedProxiesForwardTheirClient) {
  const std::vector<std::string> proxies = {"10.0.0.1", "10.0.0.2"};
  EXPECT_EQ(ClientAddress("192.0.2.9", {"203.0.113.7"}, proxies), "192.0.2.9");  // untrusted
  EXPECT_EQ(ClientAddress("10.0.0.1", {"203.0.113.7"}, proxies), "203.0.113.7");
  // The client may prepend anything; the rightmost untrusted hop is what the proxy saw.
  EXPECT_EQ(ClientAddress("10.0.0.1", {"1.1.1.1, 203.0.113.7, 10.0.0.2"}, proxies),
            "203.0.113.7");
  EXPECT_EQ(ClientAddress("10.0.0.1", {"1.1.1.1", "203.0.113.7"}, proxies), "203.0.113.7");
  EXPECT_EQ(ClientAddress("10.0.0.1", {"garbage"}, proxies), "10.0.0.1");
  EXPECT_EQ(ClientAddress("10.0.0.1", {}, proxies), "10.0.0.1");
  EXPECT_EQ(ClientAddress("10.0.0.1", {"2001:db8::1"}, proxies), "2001:db8::1");
  EXPECT_TRUE(ValidateTrustedProxies({"127.0.0.1", "::1"}).ok());
  EXPECT_FALSE(ValidateTrustedProxies({"10.0.0.0/8"}).ok());
}

TEST(CsrfTest, OriginsCompareWithoutCaseAndDefaultPorts) {
  EXPECT_EQ(ExpectedOrigin("", "Rec.Example:8080"), "http://rec.example:8080");
  EXPECT_EQ(ExpectedOrigin("", "rec.example:80"), "http://rec.example");
  EXPECT_EQ(ExpectedOrigin("https://rec.example", "internal:8080"), "https://rec.example");
  EXPECT_TRUE(CheckOrigin("", "http://a").ok());
  EXPECT_TRUE(CheckOrigin("HTTP://A:80", "http://a").ok());
  EXPECT_FALSE(CheckOrigin("http://a.evil", "http://a").ok());
  EXPECT_FALSE(CheckOrigin("null", "http://a").ok());
  EXPECT_FALSE(CheckCsrf("", "tok", "", "http://a").ok());
  EXPECT_FALSE(CheckCsrf("tok2", "tok", "", "http://a").ok());
  EXPECT_FALSE(CheckCsrf("tok", "", "", "http://a").ok());
  EXPECT_TRUE(CheckCsrf("tok", "tok", "http://a", "http://a").ok());
  EXPECT_TRUE(IsSafeMethod("GET"));
  EXPECT_FALSE(IsSafeMethod("POST"));
}

TEST(CsrfTest, PublicUrlIsAnOriginOnly) {
  EXPECT_EQ(*PublicOrigin("https://Rec.Example.com/"), "https://rec.example.com");
  EXPECT_EQ(*PublicOrigin("https://rec.example.com:443"), "https://rec.example.com");
  EXPECT_EQ(*PublicOrigin("http://[::1]:8080"), "http://[::1]:8080");
  EXPECT_EQ(*PublicOrigin("http://[::1]"), "http://[::1]");
  for (const char* bad : {"rec.example.com", "ftp://x", "https://", "https://x/path",
                          "https://u@x", "https://x:0", "https://x:99999", "https://x?q",
                          "https://x:", "https://x y"}) {
    EXPECT_FALSE(PublicOrigin(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace callvault::http
