// Issue 17, "who listened to what", end to end over a real server and SQLite catalog: plays
// and downloads audited once per user and call (not per Range request), never served
// unaudited; login failures, lock-outs, Basic and token use audited without a line per
// request; GET /api/v1/audit scoped to the caller's tenant, with the call, user, action and
// time filters; the chains' heads on /metrics.
#include <sqlite3.h>

#include "catalog/audit_verify.h"
#include "http/testing/api_fixture.h"

namespace callvault::http {
namespace {

using catalog::testing::ManifestSpec;
using catalog::testing::TestCallId;
using testing::ApiTest;
using testing::kPassword;

constexpr int64_t kT0 = 1795600800000;  // 2026-11-25T10:00:00Z

class AuditApiTest : public ApiTest {
 protected:
  // Ingests a call of `tenant` with a 20 000-byte WAV file; returns its id.
  std::string Call(int n, const std::string& tenant) {
    ManifestSpec spec;
    spec.call_id = TestCallId(kT0, static_cast<uint64_t>(n));
    spec.started_ms = kT0 + n;
    spec.tenant = tenant;
    Ingest(spec, 20000);
    return spec.call_id;
  }
  // The entries of GET /api/v1/audit?<query> as `user`; fails the test on a non-200.
  nlohmann::json Entries(const std::string& user, const std::string& query) {
    auto res = As(user)->Get("/api/v1/audit?limit=1000&" + query);
    EXPECT_TRUE(res);
    if (!res) return nlohmann::json::array();
    EXPECT_EQ(res->status, 200) << query << ": " << res->body;
    return Json(res)["entries"];
  }
  // Runs `statement` on the catalog's SQLite file behind the catalog's back.
  void Sql(const std::string& statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/catalog.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
};

TEST_F(AuditApiTest, PlayedThreeTimesAndDownloadedOnceIsOnePlayAndOneDownload) {
  const std::string id = Call(1, "acme");
  const std::string url = "/api/v1/calls/" + id + "/audio";
  auto sup = As("supervisor");
  for (int play = 0; play < 3; ++play) {
    // A player's requests: the start, a seek, the tail.
    for (const char* range : {"bytes=0-", "bytes=8000-", "bytes=-1000"}) {
      auto res = sup->Get(url, httplib::Headers{{"Range", range}});
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 206) << res->body;
      EXPECT_EQ(res->get_header_value("Content-Disposition"),
                "inline; filename=\"" + id + ".wav\"");
    }
    auto whole = sup->Get(url);
    ASSERT_EQ(whole->status, 200);
    EXPECT_EQ(whole->body.size(), 20044u);
  }
  auto download = sup->Get(url + "?download=1");
  ASSERT_EQ(download->status, 200);
  EXPECT_EQ(download->get_header_value("Content-Disposition"),
            "attachment; filename=\"" + id + ".wav\"");
  EXPECT_EQ(download->body.size(), 20044u);
  EXPECT_EQ(sup->Get(url + "?download=yes")->status, 400);
  EXPECT_EQ(sup->Get(url + "?dl=1")->status, 400);

  const nlohmann::json plays = Entries("admin", "call=" + id + "&action=call.play");
  ASSERT_EQ(plays.size(), 1u) << plays;
  EXPECT_EQ(plays[0]["actor"], "supervisor");
  EXPECT_EQ(plays[0]["target"], id);
  EXPECT_EQ(plays[0]["tenant"], "acme");
  EXPECT_EQ(plays[0]["remote"], "127.0.0.1");
  EXPECT_EQ(plays[0]["detail"]["range"], "bytes=0-");
  EXPECT_EQ(plays[0]["origin"], "local");
  const nlohmann::json downloads = Entries("admin", "call=" + id + "&action=call.download");
  ASSERT_EQ(downloads.size(), 1u) << downloads;
  EXPECT_EQ(downloads[0]["actor"], "supervisor");
  // Every call.* entry of the call: exactly those two.
  EXPECT_EQ(Entries("admin", "call=" + id).size(), 2u);
  // Another user's play is its own entry.
  ASSERT_EQ(As("admin")->Get(url)->status, 200);
  EXPECT_EQ(Entries("admin", "call=" + id + "&action=call.play").size(), 2u);
  // The waveform is not a play.
  ASSERT_EQ(sup->Get("/api/v1/calls/" + id + "/waveform?points=10")->status, 200);
  EXPECT_EQ(Entries("admin", "call=" + id).size(), 3u);
}

TEST_F(AuditApiTest, ARecordingIsNotServedUnaudited) {
  const std::string id = Call(1, "");
  Sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'x'); END");
  auto res = As("viewer")->Get("/api/v1/calls/" + id + "/audio");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(ErrorCode(res), "audit_unavailable");
  EXPECT_EQ(res->body.find("RIFF"), std::string::npos);
  Sql("DROP TRIGGER no_audit");
  // The failed claim was given back: the next request is served and audited.
  res = As("viewer")->Get("/api/v1/calls/" + id + "/audio");
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Entries("admin", "call=" + id + "&action=call.play").size(), 1u);
}

TEST_F(AuditApiTest, ATenantSupervisorNeverSeesAnotherTenantsEntries) {
  AddUser("acme_sup", "supervisor", "acme");
  AddUser("globex_sup", "supervisor", "globex");
  const std::string a = Call(1, "acme"), b = Call(2, "globex");
  // Activity on both tenants' calls and users, and system-wide.
  ASSERT_EQ(As("admin")->Get("/api/v1/calls/" + a + "/audio")->status, 200);
  ASSERT_EQ(As("admin")->Get("/api/v1/calls/" + b + "/audio?download=1")->status, 200);
  ASSERT_EQ(As("acme_sup")->Get("/api/v1/calls/" + a + "/audio")->status, 200);
  ASSERT_EQ(As("globex_sup")->Get("/api/v1/calls/" + b + "/audio")->status, 200);
  ASSERT_EQ(As("globex_sup")
                ->Post("/api/v1/calls/" + b + "/tags", R"({"tags":["x"]})", "application/json")
                ->status,
            200);
  ASSERT_EQ(As("admin")
                ->Post("/api/v1/users",
                       R"({"username":"g2","password":"password-123","role":"viewer",)"
                       R"("tenant":"globex"})",
                       "application/json")
                ->status,
            201);
  ASSERT_EQ(As("globex_sup", "wrong-password")->Get("/api/v1/me")->status, 401);
  ASSERT_EQ(As("admin")
                ->Put("/api/v1/tenants/globex", R"({"display_name":"G"})", "application/json")
                ->status,
            200);
  ASSERT_TRUE(catalog_->AppendAudit({.actor = "cli", .action = "node.drain"}).ok());

  const nlohmann::json acme = Entries("acme_sup", "");
  ASSERT_FALSE(acme.empty());
  for (const auto& e : acme) {
    EXPECT_EQ(e["tenant"], "acme") << e;
    EXPECT_NE(e["target"], b) << e;
  }
  EXPECT_EQ(Entries("acme_sup", "call=" + a).size(), 2u);  // admin's play and its own
  EXPECT_TRUE(Entries("acme_sup", "call=" + b).empty());
  EXPECT_TRUE(Entries("acme_sup", "order=desc&action=call.download").empty());
  EXPECT_TRUE(Entries("acme_sup", "user=globex_sup").empty());
  // Naming another tenant is refused, not silently answered with nothing.
  EXPECT_EQ(As("acme_sup")->Get("/api/v1/audit?tenant=globex")->status, 403);
  EXPECT_EQ(As("acme_sup")->Get("/api/v1/audit?tenant=")->status, 403);
  EXPECT_EQ(Entries("acme_sup", "tenant=acme").size(), acme.size());

  // globex's supervisor sees its tenant's call, users, logins and the tenant's own entries.
  std::set<std::string> actions;
  for (const auto& e : Entries("globex_sup", "")) {
    EXPECT_EQ(e["tenant"], "globex") << e;
    actions.insert(e["action"].get<std::string>());
  }
  EXPECT_EQ(actions, (std::set<std::string>{"call.download", "call.play", "call.tag", "user.create",
                                            "login.basic", "login.failed", "tenant.update"}));
  // An unscoped admin sees everything, system-wide entries too (tenant null).
  bool system_wide = false;
  for (const auto& e : Entries("admin", "")) system_wide |= e["tenant"].is_null();
  EXPECT_TRUE(system_wide);
  EXPECT_EQ(Entries("admin", "tenant=").size(), 1u + 1u);  // node.drain, admin's login.basic
}

TEST_F(AuditApiTest, FiltersByUserActionCallAndTime) {
  const std::string a = Call(1, ""), b = Call(2, "");
  ASSERT_EQ(As("viewer")->Get("/api/v1/calls/" + a + "/audio")->status, 200);
  ASSERT_EQ(As("supervisor")->Get("/api/v1/calls/" + b + "/audio")->status, 200);
  EXPECT_EQ(Entries("admin", "user=viewer&action=call.play").size(), 1u);
  EXPECT_EQ(Entries("admin", "actor=viewer&action=call.play").size(), 1u);
  EXPECT_EQ(Entries("admin", "user=viewer&call=" + b).size(), 0u);
  EXPECT_EQ(Entries("admin", "call=" + b)[0]["actor"], "supervisor");
  EXPECT_EQ(Entries("admin", "action=call.play&from=2020-01-01T00:00:00Z").size(), 2u);
  EXPECT_EQ(Entries("admin", "action=call.play&to=2020-01-01T00:00:00Z").size(), 0u);
  EXPECT_EQ(As("admin")->Get("/api/v1/audit?user=a&actor=b")->status, 400);
  EXPECT_EQ(As("admin")->Get("/api/v1/audit?call=x&call=y")->status, 400);
}

TEST_F(AuditApiTest, LoginFailuresAndALockOutAreAuditedNotEveryRefusal) {
  // Basic success: once per user and address per window, not per request.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(As("viewer")->Get("/api/v1/me")->status, 200);
  EXPECT_EQ(Entries("admin", "action=login.basic&user=viewer").size(), 1u);
  // The portal's failed login.
  auto cli = As("");
  auto res = cli->Post("/api/v1/session", R"({"username":"viewer","password":"nope-nope"})",
                       "application/json");
  ASSERT_EQ(res->status, 401);
  nlohmann::json failed = Entries("admin", "action=login.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["actor"], "viewer");
  EXPECT_EQ(failed[0]["detail"]["method"], "portal");
  EXPECT_EQ(failed[0]["detail"]["reason"], "wrong password");
  // Four more wrong Basic passwords for another user from the same address: the fifth failure
  // from 127.0.0.1 locks the address (and the admin audit reader too, so read the catalog).
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(As("ghost", "wrong-password")->Get("/api/v1/me")->status, 401);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(As("ghost", "wrong-password")->Get("/api/v1/me")->status, 429);  // refused
  }
  Result<std::vector<catalog::AuditEntry>> failures =
      catalog_->FindAudit({.action = "login.failed"});
  ASSERT_TRUE(failures.ok());
  ASSERT_EQ(failures->size(), 5u);
  EXPECT_EQ(failures->back().actor, "ghost");
  EXPECT_EQ(failures->back().detail["method"], "basic");
  EXPECT_EQ(failures->back().detail["reason"], "unknown user");
  EXPECT_EQ(failures->back().tenant, "");
  Result<std::vector<catalog::AuditEntry>> locks = catalog_->FindAudit({.action = "login.locked"});
  ASSERT_EQ(locks->size(), 1u);
  EXPECT_EQ(locks->front().detail["address_locked_s"], 60);
  EXPECT_EQ(locks->front().remote, "127.0.0.1");
}

TEST_F(AuditApiTest, ATokenIsAuditedOncePerWindowByItsId) {
  auto res = As("acme_admin")->Post("/api/v1/tokens", R"({"name":"ci"})", "application/json");
  ASSERT_EQ(res->status, 201) << res->body;
  const std::string secret = Json(res)["token"], id = Json(res)["id"];
  for (int i = 0; i < 5; ++i) ASSERT_EQ(WithToken(secret)->Get("/api/v1/me")->status, 200);
  const nlohmann::json uses = Entries("admin", "action=token.use");
  ASSERT_EQ(uses.size(), 1u);
  EXPECT_EQ(uses[0]["actor"], "acme_admin");
  EXPECT_EQ(uses[0]["detail"]["token_id"], id);
  EXPECT_EQ(uses[0]["tenant"], "acme");
  // An expired token is refused and that is audited, once too.
  NewApiToken expired = GenerateApiToken();
  ASSERT_TRUE(catalog_
                  ->CreateToken({.user_id = catalog_->GetUser("viewer")->id,
                                 .name = "old",
                                 .token_hash = expired.hash,
                                 .created_ms = kT0,
                                 .expires_ms = kT0 + 1})
                  .ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(WithToken(expired.secret)->Get("/api/v1/me")->status, 401);
  const nlohmann::json refused = Entries("admin", "action=token.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0]["detail"]["reason"], "token expired");
}

TEST_F(AuditApiTest, TheChainHeadIsOnMetricsAndTheLogVerifies) {
  const std::string id = Call(1, "acme");
  ASSERT_EQ(As("supervisor")->Get("/api/v1/calls/" + id + "/audio")->status, 200);
  ASSERT_EQ(As("admin")->Get("/api/v1/me")->status, 200);  // admin's login.basic, before
  Result<std::vector<catalog::AuditHead>> heads = catalog_->AuditHeads();
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 1u);
  EXPECT_EQ((*heads)[0].seq, 3);  // supervisor's login, its play, admin's login
  auto res = As("admin")->Get("/metrics");
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("# TYPE callvault_audit_head_info gauge"), std::string::npos);
  EXPECT_NE(
      res->body.find("callvault_audit_head_info{origin=\"local\",seq=\"" +
                     std::to_string((*heads)[0].seq) + "\",hash=\"" + (*heads)[0].hash + "\"} 1"),
      std::string::npos)
      << res->body.substr(res->body.find("callvault_audit"));
  EXPECT_NE(res->body.find("callvault_audit_head_seq{origin=\"local\"} "), std::string::npos);
  Result<catalog::AuditVerifyReport> report = catalog::VerifyAuditLog(*catalog_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

}  // namespace
}  // namespace callvault::http
