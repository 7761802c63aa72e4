// The REST API end to end: a real server on 127.0.0.1:0 over a real SQLite catalog, manifests
// ingested with real WAV files, httplib::Client as the client.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "base/uuid.h"
#include "http/testing/api_fixture.h"

namespace callvault::http {
namespace {

using catalog::testing::ManifestSpec;
using catalog::testing::TestCallId;
using testing::ApiTest;
using testing::kPassword;

constexpr int64_t kT0 = 1795600800000;  // 2026-11-25T10:00:00Z (ManifestSpec default)

// --- health, readiness, metrics, OpenAPI ---

TEST_F(ApiTest, HealthzIsPublicAndReadyzReportsEachRole) {
  auto anon = As("");
  auto res = anon->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  res = anon->Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(Json(res)["ready"].get<bool>());

  recorder_ready_ = false;
  res = anon->Get("/readyz");
  EXPECT_EQ(res->status, 503);
  nlohmann::json j = Json(res);
  EXPECT_FALSE(j["ready"].get<bool>());
  bool listed = false;
  for (const auto& c : j["checks"]) {
    if (c["name"] == "recorder_flag") {
      listed = true;
      EXPECT_FALSE(c["ok"].get<bool>());
      EXPECT_EQ(c["message"], "spool full");
    }
  }
  EXPECT_TRUE(listed) << res->body;
  // The web role does not fail because the recorder does (DESIGN.md §Cluster).
  res = anon->Get("/readyz?role=web");
  EXPECT_EQ(res->status, 200) << res->body;
  res = anon->Get("/readyz?role=recorder");
  EXPECT_EQ(res->status, 503);
  res = anon->Get("/readyz?role=db");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(ErrorCode(res), "invalid_parameter");
}

TEST_F(ApiTest, MetricsNeedPermissionUnlessPublic) {
  EXPECT_EQ(As("")->Get("/metrics")->status, 401);
  EXPECT_EQ(As("viewer")->Get("/metrics")->status, 403);
  As("")->Get("/healthz");
  auto res = As("admin")->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_NE(res->body.find(R"(callvault_http_requests_total{code="200",route="/healthz"})"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find(R"(callvault_http_requests_total{code="401",route="/metrics"})"),
            std::string::npos);

  HttpOptions o;
  o.public_metrics = true;
  Start(o);
  EXPECT_EQ(As("")->Get("/metrics")->status, 200);
}

TEST_F(ApiTest, UnmatchedRequestsAreCountedUnderOneLabel) {
  for (int i = 0; i < 3; ++i) As("")->Get("/random/" + std::to_string(i));
  // A request is counted after its response is sent: the client may see the answer first.
  const std::string want = R"(callvault_http_requests_total{code="404",route="unmatched"} 3)";
  std::string text = registry_.Render();
  for (int i = 0; i < 200 && text.find(want) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = registry_.Render();
  }
  EXPECT_NE(text.find(want), std::string::npos) << text;
  EXPECT_EQ(text.find("/random/"), std::string::npos);  // never the raw path
}

TEST_F(ApiTest, OpenApiDocumentIsServed) {
  auto res = As("viewer")->Get("/api/v1/openapi.json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  nlohmann::json doc = Json(res);
  ASSERT_TRUE(doc.is_object());
  EXPECT_TRUE(doc["paths"].contains("/api/v1/calls/{id}/audio"));
  EXPECT_EQ(As("")->Get("/api/v1/openapi.json")->status, 401);
}

// --- authentication ---

TEST_F(ApiTest, MissingOrWrongCredentialsAre401WithChallenge) {
  Ingest({});
  auto res = As("")->Get("/api/v1/calls");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(ErrorCode(res), "unauthenticated");
  EXPECT_NE(res->get_header_value("WWW-Authenticate").find("Basic realm=\"callvault\""),
            std::string::npos);
  EXPECT_NE(res->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(As("admin", "wrong-password")->Get("/api/v1/calls")->status, 401);
  EXPECT_EQ(As("nobody", kPassword)->Get("/api/v1/calls")->status, 401);
  EXPECT_EQ(As("disabled")->Get("/api/v1/calls")->status, 401);
  EXPECT_EQ(
      WithToken("cvt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")->Get("/api/v1/calls")->status,
      401);
  EXPECT_EQ(WithToken("not-a-token")->Get("/api/v1/calls")->status, 401);
  EXPECT_EQ(As("admin")->Get("/api/v1/calls")->status, 200);
}

TEST_F(ApiTest, TokensWorkUntilDeletedOrExpired) {
  auto admin = As("admin");
  auto res =
      admin->Post("/api/v1/tokens", R"({"name":"ci","expires_in_s":3600})", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  nlohmann::json created = Json(res);
  const std::string secret = created["token"];
  EXPECT_TRUE(secret.starts_with("cvt_"));
  EXPECT_FALSE(created["expires"].is_null());

  auto me = WithToken(secret)->Get("/api/v1/me");
  ASSERT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(Json(me)["user"]["username"], "admin");
  EXPECT_EQ(Json(me)["auth"], "token");

  // Listed without the secret; only its hash is stored.
  res = admin->Get("/api/v1/tokens");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->body.find(secret), std::string::npos);
  ASSERT_EQ(Json(res)["tokens"].size(), 1u);
  EXPECT_EQ(catalog_->FindToken(TokenHash(secret))->name, "ci");

  // Its id is the api_id, the same on every cluster node.
  const std::string id = created["id"];
  EXPECT_TRUE(IsUuid(id)) << id;
  EXPECT_EQ(catalog_->FindToken(TokenHash(secret))->api_id, id);
  EXPECT_EQ(admin->Delete("/api/v1/tokens/1")->status, 404);  // never a row id
  // The audit entry names it by that id; entries carry their own cluster-wide uid. (Its use
  // above is audited too: token.use.)
  nlohmann::json audit = Json(admin->Get("/api/v1/audit?action=token.create"))["entries"];
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back()["action"], "token.create");
  EXPECT_EQ(audit.back()["detail"]["token_id"], id);
  EXPECT_TRUE(IsUuid(audit.back()["uid"].get<std::string>())) << audit.back();
  EXPECT_EQ(admin->Delete("/api/v1/tokens/" + id)->status, 204);
  EXPECT_EQ(WithToken(secret)->Get("/api/v1/me")->status, 401);  // at once
  EXPECT_EQ(admin->Delete("/api/v1/tokens/" + id)->status, 404);

  // Expired: a token whose expiry has passed.
  NewApiToken expired = GenerateApiToken();
  catalog::ApiToken t;
  t.user_id = catalog_->GetUser("admin")->id;
  t.name = "old";
  t.token_hash = expired.hash;
  t.created_ms = kT0;
  t.expires_ms = kT0 + 1000;  // long past
  ASSERT_TRUE(catalog_->CreateToken(t).ok());
  EXPECT_EQ(WithToken(expired.secret)->Get("/api/v1/me")->status, 401);

  // A disabled user's tokens stop working too.
  res =
      admin->Post("/api/v1/tokens", R"({"name":"for viewer","user":"viewer"})", "application/json");
  ASSERT_EQ(res->status, 201) << res->body;
  const std::string viewer_token = Json(res)["token"];
  EXPECT_EQ(WithToken(viewer_token)->Get("/api/v1/me")->status, 200);
  EXPECT_EQ(
      admin->Patch("/api/v1/users/viewer", R"({"disabled":true})", "application/json")->status,
      200);
  EXPECT_EQ(WithToken(viewer_token)->Get("/api/v1/me")->status, 401);
  // ...and the Basic cache does not keep a disabled user in.
  EXPECT_EQ(As("viewer")->Get("/api/v1/me")->status, 401);

  // Only managers create tokens for others.
  EXPECT_EQ(As("supervisor")
                ->Post("/api/v1/tokens", R"({"name":"x","user":"admin"})", "application/json")
                ->status,
            403);
}

TEST_F(ApiTest, BasicCacheHonoursPasswordChanges) {
  auto admin = As("admin");
  EXPECT_EQ(As("supervisor")->Get("/api/v1/me")->status, 200);  // now cached
  ASSERT_EQ(admin
                ->Patch("/api/v1/users/supervisor", R"({"password":"another-pass-1"})",
                        "application/json")
                ->status,
            200);
  EXPECT_EQ(As("supervisor")->Get("/api/v1/me")->status, 401);
  EXPECT_EQ(As("supervisor", "another-pass-1")->Get("/api/v1/me")->status, 200);
}

// --- authorization ---

TEST_F(ApiTest, RolesWithoutThePermissionGet403) {
  nlohmann::json m = Ingest({}, 1000);
  const std::string id = m["call_id"];
  auto viewer = As("viewer");
  auto res = viewer->Delete("/api/v1/calls/" + id);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(ErrorCode(res), "forbidden");
  EXPECT_EQ(viewer->Get("/api/v1/users")->status, 403);
  EXPECT_EQ(
      viewer
          ->Post("/api/v1/users", R"({"username":"x","password":"password-1","role":"viewer"})",
                 "application/json")
          ->status,
      403);
  EXPECT_EQ(
      viewer->Patch("/api/v1/users/admin", R"({"disabled":true})", "application/json")->status,
      403);
  EXPECT_EQ(viewer->Delete("/api/v1/users/admin")->status, 403);
  EXPECT_EQ(viewer->Get("/api/v1/audit")->status, 403);
  EXPECT_EQ(viewer->Post("/api/v1/calls/" + id + "/tags", R"({"tags":["a"]})", "application/json")
                ->status,
            403);
  EXPECT_EQ(viewer->Get("/api/v1/calls/" + id)->status, 200);
  EXPECT_EQ(viewer->Get("/api/v1/calls/" + id + "/audio")->status, 200);
}

TEST_F(ApiTest, TenantUsersOnlySeeTheirTenant) {
  ManifestSpec a, b, none;
  a.call_id = TestCallId(kT0, 1);
  a.tenant = "acme";
  b.call_id = TestCallId(kT0, 2);
  b.tenant = "globex";
  none.call_id = TestCallId(kT0, 3);
  Ingest(a, 500);
  Ingest(b, 500);
  Ingest(none, 500);
  auto acme = As("acme");
  for (std::string_view query : {"", "?tenant=globex", "?tenant="}) {
    auto res = acme->Get("/api/v1/calls" + std::string(query));
    ASSERT_EQ(res->status, 200) << res->body;
    nlohmann::json calls = Json(res)["calls"];
    ASSERT_EQ(calls.size(), 1u) << query << " " << res->body;
    EXPECT_EQ(calls[0]["id"], a.call_id);
  }
  EXPECT_EQ(acme->Get("/api/v1/calls/" + a.call_id)->status, 200);
  for (const std::string& other : {b.call_id, none.call_id}) {
    EXPECT_EQ(acme->Get("/api/v1/calls/" + other)->status, 404);
    EXPECT_EQ(acme->Get("/api/v1/calls/" + other + "/audio")->status, 404);
  }
  // A tenant-scoped admin cannot delete or tag another tenant's call either, nor see its users.
  auto acme_admin = As("acme_admin");
  EXPECT_EQ(acme_admin->Delete("/api/v1/calls/" + b.call_id)->status, 404);
  EXPECT_EQ(
      acme_admin
          ->Post("/api/v1/calls/" + b.call_id + "/tags", R"({"tags":["x"]})", "application/json")
          ->status,
      404);
  auto users = Json(acme_admin->Get("/api/v1/users"));
  for (const auto& u : users["users"]) EXPECT_EQ(u["tenant"], "acme") << u;
  EXPECT_EQ(
      acme_admin->Patch("/api/v1/users/admin", R"({"disabled":true})", "application/json")->status,
      404);
  EXPECT_EQ(
      acme_admin
          ->Post("/api/v1/users",
                 R"({"username":"g","password":"password-1","role":"viewer","tenant":"globex"})",
                 "application/json")
          ->status,
      403);
  // The unscoped admin sees all three.
  EXPECT_EQ(Json(As("admin")->Get("/api/v1/calls"))["calls"].size(), 3u);
}

}  // namespace
}  // namespace callvault::http
