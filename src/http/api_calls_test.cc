// /api/v1/calls end to end: every filter, pagination over 10 000 calls, Range, tags, delete,
// malformed input. Real server, real SQLite catalog, real WAV files (api_fixture.h).
#include <filesystem>
#include <set>

#include "http/testing/api_fixture.h"

namespace callvault::http {
namespace {

using catalog::testing::ManifestSpec;
using catalog::testing::TestCallId;
using catalog::testing::TestParticipant;
using testing::ApiTest;

constexpr int64_t kT0 = 1795600800000;  // 2026-11-25T10:00:00Z (ManifestSpec default)

httplib::Headers Range(const std::string& value) { return {{"Range", value}}; }

std::vector<std::string> Ids(const nlohmann::json& page) {
  std::vector<std::string> ids;
  for (const auto& c : page["calls"]) ids.push_back(c["id"]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

class CallsApiTest : public ApiTest {
 protected:
  // The detail of the `call.delete` audit entry for `id` (as admin); null when there is none.
  nlohmann::json DeleteAuditDetail(const std::string& id) {
    auto res = As("admin")->Get("/api/v1/audit?limit=1000");
    EXPECT_TRUE(res && res->status == 200);
    if (!res || res->status != 200) return nullptr;
    const nlohmann::json audit = Json(res);
    for (const auto& e : audit["entries"])
      if (e["action"] == "call.delete" && e["target"] == id) return e["detail"];
    ADD_FAILURE() << "no call.delete audit entry for " << id << ": " << res->body;
    return nullptr;
  }
  // The ids a query returns (as admin), sorted; fails the test on a non-200.
  std::vector<std::string> Query(const std::string& query) {
    auto res = As("admin")->Get("/api/v1/calls?" + query);
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << query << ": " << res->body;
    return Ids(Json(res));
  }
};

TEST_F(CallsApiTest, EveryFilter) {
  ManifestSpec a, b, c;
  a.call_id = TestCallId(kT0, 1);  // 10:00Z, 300 s, alice → bob, completed, rec-a, acme
  a.tenant = "acme";
  a.participants = {{"Alice Smith", "sip:+15551230001@example.com", 0},
                    {"Bob Jones", "sip:+15559870002@example.com", 1}};
  a.metadata_raw = std::vector<std::string>{"<recording>needle-in-metadata</recording>"};
  b.call_id = TestCallId(kT0 + 3600000, 2);  // 11:00Z, 20 s, carol → dave, partial, rec-b
  b.started_ms = kT0 + 3600000;
  b.duration_ms = 20000;
  b.state = "partial";
  b.end_reason = "crash";
  b.node_id = "rec-b";
  b.participants = {{"Carol", "sip:+4930111@example.org", 0}, {"Dave", "tel:+4930222", 1}};
  c.call_id = TestCallId(kT0 + 7200000, 3);  // 12:00Z, 60 s, timed out, rec-a
  c.started_ms = kT0 + 7200000;
  c.duration_ms = 60000;
  c.state = "timed_out";
  c.end_reason = "rtp_timeout";
  c.participants = {{"Erin", "sip:erin@example.net", 0}, {"Frank", "sip:frank@example.net", 1}};
  Ingest(a);
  Ingest(b);
  Ingest(c);
  ASSERT_TRUE(catalog_->AddTags(b.call_id, {"vip"}).ok());
  const std::vector<std::string> A = {a.call_id}, B = {b.call_id}, C = {c.call_id};
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };

  EXPECT_EQ(Query("").size(), 3u);
  EXPECT_EQ(Query("from=2026-11-25T11:00:00Z"), sorted({b.call_id, c.call_id}));
  EXPECT_EQ(Query("from=" + std::to_string(kT0 + 3600000)), sorted({b.call_id, c.call_id}));
  EXPECT_EQ(Query("to=2026-11-25T11:00:00Z"), A);  // exclusive
  EXPECT_EQ(Query("from=2026-11-25T12:00:00%2B01:00&to=2026-11-25T11:30:00Z"), B);
  EXPECT_EQ(Query("caller=15551230001"), A);
  EXPECT_EQ(Query("callee=4930222"), B);
  EXPECT_EQ(Query("number=frank"), C);
  EXPECT_EQ(Query("participant=carol"), B);  // case-insensitive
  EXPECT_EQ(Query("min_duration=100"), A);
  EXPECT_EQ(Query("max_duration=30"), B);
  EXPECT_EQ(Query("min_duration=30000ms&max_duration=90s"), C);
  EXPECT_EQ(Query("state=partial"), B);
  EXPECT_EQ(Query("state=partial,timed_out"), sorted({b.call_id, c.call_id}));
  EXPECT_EQ(Query("node=rec-b"), B);
  EXPECT_EQ(Query("tenant=acme"), A);
  EXPECT_EQ(Query("tag=vip"), B);
  EXPECT_EQ(Query("q=needle-in-metadata"), A);
  EXPECT_TRUE(Query("q=nothing-matches-this").empty());

  // sort and order
  auto res = As("admin")->Get("/api/v1/calls?sort=duration&order=asc");
  nlohmann::json calls = Json(res)["calls"];
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0]["id"], b.call_id);
  EXPECT_EQ(calls[2]["id"], a.call_id);
  // The summary shape.
  res = As("admin")->Get("/api/v1/calls?state=partial");
  nlohmann::json one = Json(res)["calls"][0];
  EXPECT_EQ(one["state"], "partial");
  EXPECT_EQ(one["node"], "rec-b");
  EXPECT_EQ(one["started"], "2026-11-25T11:00:00.000Z");
  EXPECT_EQ(one["caller"]["name"], "Carol");
  EXPECT_EQ(one["tags"], nlohmann::json({"vip"}));
  EXPECT_TRUE(Json(res)["next_cursor"].is_null());

  // Detail: participants, streams with packet stats, metadata history.
  res = As("admin")->Get("/api/v1/calls/" + a.call_id);
  ASSERT_EQ(res->status, 200);
  nlohmann::json d = Json(res);
  EXPECT_EQ(d["participants"].size(), 2u);
  ASSERT_FALSE(d["streams"].empty());
  EXPECT_TRUE(d["streams"][0].contains("packets"));
  ASSERT_EQ(d["metadata"].size(), 1u);
  EXPECT_EQ(d["audio"]["url"], "/api/v1/calls/" + a.call_id + "/audio");
  EXPECT_EQ(As("admin")->Get("/api/v1/calls/" + TestCallId(kT0, 99))->status, 404);
}

TEST_F(CallsApiTest, BadQueryParametersAre400NamingTheParameter) {
  auto admin = As("admin");
  for (const auto& [query, param] :
       std::vector<std::pair<std::string, std::string>>{{"limit=0", "limit"},
                                                        {"limit=abc", "limit"},
                                                        {"limit=1001", "limit"},
                                                        {"from=yesterday", "from"},
                                                        {"to=2026-13-01", "to"},
                                                        {"state=done", "state"},
                                                        {"sort=caller", "sort"},
                                                        {"order=sideways", "order"},
                                                        {"min_duration=-1", "min_duration"},
                                                        {"max_duration=1h", "max_duration"},
                                                        {"colour=red", "colour"},
                                                        {"limit=5&limit=6", "limit"},
                                                        {"cursor=not%20a%20cursor", "cursor"},
                                                        {"cursor=bm90LWEtY3Vyc29y", "cursor"}}) {
    auto res = admin->Get("/api/v1/calls?" + query);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << query << ": " << res->body;
    EXPECT_EQ(ErrorCode(res), "invalid_parameter") << query;
    EXPECT_NE(Json(res)["error"]["message"].get<std::string>().find(param), std::string::npos)
        << query << ": " << res->body;
  }
  EXPECT_EQ(admin->Get("/api/v1/audit?limit=0")->status, 400);
  EXPECT_EQ(admin->Get("/api/v1/audit?after=3")->status, 400);
}

TEST_F(CallsApiTest, PaginationOver10000CallsHasNoDuplicatesOrGaps) {
  std::vector<recording::Manifest> batch;
  std::set<std::string> all;
  for (int i = 0; i < 10000; ++i) {
    ManifestSpec s;
    // Many equal start times and durations, so ties must be broken by the cursor.
    s.started_ms = kT0 + (i / 7) * 1000;
    s.duration_ms = 1000 * (i % 13);
    s.call_id = TestCallId(s.started_ms, static_cast<uint64_t>(i));
    all.insert(s.call_id);
    batch.push_back(catalog::testing::MakeManifest(s));
    if (batch.size() == 1000) {
      ASSERT_TRUE(catalog_->IngestManifests(batch).ok());
      batch.clear();
    }
  }
  auto admin = As("admin");
  for (std::string_view order :
       {"sort=started&order=desc&limit=1000", "sort=duration&order=asc&limit=777"}) {
    std::set<std::string> seen;
    std::string cursor;
    int pages = 0;
    while (true) {
      std::string url = "/api/v1/calls?" + std::string(order);
      if (!cursor.empty()) url += "&cursor=" + httplib::detail::encode_query_param(cursor);
      auto res = admin->Get(url);
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body.substr(0, 300);
      nlohmann::json page = Json(res);
      for (const auto& c : page["calls"]) {
        EXPECT_TRUE(seen.insert(c["id"].get<std::string>()).second) << "duplicate " << c["id"];
      }
      ++pages;
      ASSERT_LT(pages, 100);
      if (page["next_cursor"].is_null()) break;
      cursor = page["next_cursor"];
    }
    EXPECT_EQ(seen, all) << order;
    EXPECT_GE(pages, 10) << order;
  }
}

TEST_F(CallsApiTest, WaveformPeaksPerChannelFromTheStoredAudio) {
  ManifestSpec s;
  nlohmann::json m = Ingest(s, 8000);  // 2,000 stereo frames
  const std::string url = "/api/v1/calls/" + m["call_id"].get<std::string>() + "/waveform";
  auto admin = As("admin");
  auto res = admin->Get(url + "?points=100");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  nlohmann::json w = Json(res);
  EXPECT_EQ(w["points"], 100);
  EXPECT_EQ(w["frames"], 2000);
  EXPECT_EQ(w["sample_rate"], 8000);
  EXPECT_EQ(w["duration_ms"], 250);
  ASSERT_EQ(w["channels"].size(), 2u);
  for (const nlohmann::json& c : w["channels"]) {
    ASSERT_EQ(c["min"].size(), 100u);
    ASSERT_EQ(c["max"].size(), 100u);
    for (size_t i = 0; i < 100; ++i) {
      EXPECT_LE(c["min"][i].get<double>(), c["max"][i].get<double>());
      EXPECT_GE(c["min"][i].get<double>(), -1.0);
      EXPECT_LE(c["max"][i].get<double>(), 1.0);
    }
  }
  EXPECT_EQ(res->get_header_value("ETag"),
            "\"" + m["audio"]["sha256"].get<std::string>() + "-w100\"");
  res = admin->Get(url);  // default 1000 points: one per frame pair at most
  ASSERT_TRUE(res);
  EXPECT_EQ(Json(res)["points"], 1000);
  for (const char* bad : {"0", "10001", "abc", ""}) {
    res = admin->Get(url + "?points=" + bad);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << bad;
    EXPECT_EQ(ErrorCode(res), "bad_request");
  }
  res = admin->Get("/api/v1/calls/01936b2e-0000-7000-8000-000000000000/waveform");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(CallsApiTest, AudioRanges) {
  ManifestSpec s;
  nlohmann::json m = Ingest(s, 10000 - 44);  // a 10 000-byte WAV file
  const std::string url = "/api/v1/calls/" + m["call_id"].get<std::string>() + "/audio";
  const std::string wav = WriteWav(m["audio"]["file"], 10000 - 44);  // same bytes again
  auto admin = As("admin");

  auto res = admin->Get(url);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, wav);
  EXPECT_EQ(res->get_header_value("Content-Type"), "audio/wav");
  EXPECT_EQ(res->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_EQ(res->get_header_value("ETag"), "\"" + m["audio"]["sha256"].get<std::string>() + "\"");
  EXPECT_NE(
      res->get_header_value("Content-Disposition").find(m["call_id"].get<std::string>() + ".wav"),
      std::string::npos);

  struct Case {
    std::string range;
    int status;
    size_t start, length;
  };
  for (const Case& c : std::vector<Case>{{"bytes=0-99", 206, 0, 100},
                                         {"bytes=9990-", 206, 9990, 10},
                                         {"bytes=-100", 206, 9900, 100},
                                         {"bytes=500-20000", 206, 500, 9500},
                                         {"bytes=0-9,20-29", 206, 0, 10},  // first only
                                         {"bytes=20000-,5-6", 206, 5, 2},
                                         {"bytes=abc", 200, 0, 10000},  // malformed: ignored
                                         {"bytes=5-1", 200, 0, 10000},
                                         {"bytes=0-1,5-1", 200, 0, 10000},
                                         {"items=0-5", 200, 0, 10000}}) {
    res = admin->Get(url, Range(c.range));
    ASSERT_TRUE(res) << c.range;
    EXPECT_EQ(res->status, c.status) << c.range;
    EXPECT_EQ(res->body, wav.substr(c.start, c.length)) << c.range;
    if (c.status == 206) {
      EXPECT_EQ(res->get_header_value("Content-Range"), "bytes " + std::to_string(c.start) + "-" +
                                                            std::to_string(c.start + c.length - 1) +
                                                            "/10000")
          << c.range;
    } else {
      EXPECT_FALSE(res->has_header("Content-Range")) << c.range;
    }
  }
  // 100 overlapping ranges: the file is sent once, not 100 times.
  std::string many = "bytes=0-9999";
  for (int i = 0; i < 99; ++i) many += ",0-9999";
  res = admin->Get(url, Range(many));
  EXPECT_EQ(res->status, 206);
  EXPECT_EQ(res->body.size(), 10000u);

  for (const char* r : {"bytes=10000-", "bytes=10000-10005", "bytes=-0"}) {
    res = admin->Get(url, Range(r));
    EXPECT_EQ(res->status, 416) << r;
    EXPECT_EQ(res->get_header_value("Content-Range"), "bytes */10000") << r;
    EXPECT_EQ(ErrorCode(res), "range_not_satisfiable") << r;
  }
  // Conditional requests.
  const std::string etag = res->get_header_value("ETag");
  res = admin->Get(url, {{"If-None-Match", "\"" + m["audio"]["sha256"].get<std::string>() + "\""}});
  EXPECT_EQ(res->status, 304);
  res = admin->Get(url, {{"Range", "bytes=0-9"}, {"If-Range", "\"stale\""}});
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.size(), 10000u);

  // Missing file → 404; active call → 409.
  std::filesystem::remove(recordings_ + "/" + m["audio"]["file"].get<std::string>());
  res = admin->Get(url);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(ErrorCode(res), "audio_not_found");
  catalog::ActiveCall active;
  active.call_id = TestCallId(kT0, 500);
  active.node_id = "rec-a";
  active.started_ms = kT0;
  ASSERT_TRUE(catalog_->UpsertActive({active}).ok());
  res = admin->Get("/api/v1/calls/" + active.call_id + "/audio");
  EXPECT_EQ(res->status, 409);
  EXPECT_EQ(ErrorCode(res), "call_active");
}

TEST_F(CallsApiTest, TagsAddReplaceRemove) {
  nlohmann::json m = Ingest({});
  const std::string base = "/api/v1/calls/" + m["call_id"].get<std::string>() + "/tags";
  auto sup = As("supervisor");
  auto res = sup->Post(base, R"({"tags":["vip","follow-up"]})", "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  std::vector<std::string> tags = Json(res)["tags"];
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"follow-up", "vip"}));
  res = sup->Put(base, R"({"tags":["vip","legal"]})", "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  tags = Json(res)["tags"].get<std::vector<std::string>>();
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"legal", "vip"}));
  res = sup->Delete(base + "/vip");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(Json(res)["tags"], nlohmann::json({"legal"}));

  // Malformed bodies → 4xx JSON.
  EXPECT_EQ(ErrorCode(sup->Post(base, "{bad", "application/json")), "invalid_json");
  EXPECT_EQ(ErrorCode(sup->Post(base, "[1]", "application/json")), "invalid_json");
  EXPECT_EQ(sup->Post(base, R"({"tags":["a"]})", "text/plain")->status, 415);
  EXPECT_EQ(sup->Post(base, R"({"tags":"a"})", "application/json")->status, 400);
  EXPECT_EQ(sup->Post(base, R"({"tags":[1]})", "application/json")->status, 400);
  EXPECT_EQ(sup->Post(base, R"({"tags":["a"],"x":1})", "application/json")->status, 400);
  EXPECT_EQ(sup->Post(base, R"({"tags":["has space"]})", "application/json")->status, 400);
  auto big =
      sup->Post(base, "{\"tags\":[\"" + std::string(100000, 'a') + "\"]}", "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(ErrorCode(big), "payload_too_large");
  auto deep = sup->Post(base, std::string(5000, '[') + std::string(5000, ']'), "application/json");
  EXPECT_EQ(deep->status, 400);
  // Unknown route and wrong method are JSON too.
  auto nope = sup->Get("/api/v1/nope");
  EXPECT_EQ(nope->status, 404);
  EXPECT_EQ(ErrorCode(nope), "not_found");
  auto wrong = sup->Patch("/api/v1/calls", "{}", "application/json");
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(ErrorCode(wrong), "method_not_allowed");
}

TEST_F(CallsApiTest, DeleteRemovesFilesAndIsAudited) {
  nlohmann::json m = Ingest({}, 2000);
  const std::string id = m["call_id"];
  const std::string audio = recordings_ + "/" + m["audio"]["file"].get<std::string>();
  ASSERT_TRUE(std::filesystem::exists(audio));
  ASSERT_TRUE(std::filesystem::exists(audio + ".json"));
  auto res = As("supervisor")->Delete("/api/v1/calls/" + id);
  ASSERT_EQ(res->status, 204) << res->body;
  EXPECT_FALSE(std::filesystem::exists(audio));
  EXPECT_FALSE(std::filesystem::exists(audio + ".json"));
  EXPECT_EQ(As("admin")->Get("/api/v1/calls/" + id)->status, 404);
  EXPECT_EQ(As("admin")->Delete("/api/v1/calls/" + id)->status, 404);
  // Re-ingesting the same manifest does not bring it back.
  ASSERT_TRUE(catalog_->IngestManifests({catalog::testing::ToManifest(m)}).ok());
  EXPECT_EQ(As("admin")->Get("/api/v1/calls/" + id)->status, 404);

  res = As("admin")->Get("/api/v1/audit?limit=1000");
  ASSERT_EQ(res->status, 200);
  bool found = false;
  const nlohmann::json audit = Json(res);  // not a temporary: the loop outlives it
  for (const auto& e : audit["entries"]) {
    if (e["action"] == "call.delete" && e["target"] == id) {
      found = true;
      EXPECT_EQ(e["actor"], "supervisor");
      EXPECT_EQ(e["remote"], "127.0.0.1");
      EXPECT_EQ(e["detail"]["audio_file"], m["audio"]["file"]);
    }
  }
  EXPECT_TRUE(found) << res->body;
}

TEST_F(CallsApiTest, DeleteNeverRemovesAnotherCallsRecording) {
  // The path the catalog knows now holds another call's manifest (a name reused after its files
  // went): the call is deleted from the catalog, the files stay, and the audit says why.
  nlohmann::json m = Ingest({}, 2000);
  const std::string id = m["call_id"];
  const std::string audio = recordings_ + "/" + m["audio"]["file"].get<std::string>();
  nlohmann::json other = m;
  other["call_id"] = TestCallId(kT0, 77);
  std::ofstream(audio + ".json") << other.dump();
  auto res = As("supervisor")->Delete("/api/v1/calls/" + id);
  ASSERT_EQ(res->status, 204) << res->body;
  EXPECT_TRUE(std::filesystem::exists(audio));
  EXPECT_TRUE(std::filesystem::exists(audio + ".json"));
  EXPECT_EQ(As("admin")->Get("/api/v1/calls/" + id)->status, 404);
  const nlohmann::json detail = DeleteAuditDetail(id);
  ASSERT_TRUE(detail.is_object());
  EXPECT_EQ(detail["audio_file"], m["audio"]["file"]);
  // The purge found the name taken by another call: nothing of this one is left to remove.
  EXPECT_TRUE(catalog_->PendingPurges(10)->empty());
}

TEST_F(CallsApiTest, DeleteWithABadAudioPathKeepsTheFilesAndSaysWhy) {
  ManifestSpec s;
  nlohmann::json m = catalog::testing::MakeManifestJson(s);
  m["audio"]["file"] = "../outside.wav";
  ASSERT_TRUE(catalog_->IngestManifests({catalog::testing::ToManifest(m)}).ok());
  const std::string id = m["call_id"];
  EXPECT_EQ(ErrorCode(As("admin")->Get("/api/v1/calls/" + id + "/audio")), "audio_not_found");
  ASSERT_EQ(As("supervisor")->Delete("/api/v1/calls/" + id)->status, 204);
  const nlohmann::json detail = DeleteAuditDetail(id);
  ASSERT_TRUE(detail.is_object());
  EXPECT_EQ(detail["audio_file"], "../outside.wav");
  EXPECT_TRUE(catalog_->PendingPurges(10)->empty());  // refused once, not retried forever
}

TEST_F(CallsApiTest, UserManagementIsAudited) {
  auto admin = As("admin");
  auto res = admin->Post("/api/v1/users",
                         R"({"username":"nora","password":"nora-password","role":"viewer"})",
                         "application/json");
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_FALSE(res->body.find("argon2") != std::string::npos);  // never the hash
  EXPECT_EQ(As("nora", "nora-password")->Get("/api/v1/me")->status, 200);
  EXPECT_EQ(admin
                ->Post("/api/v1/users",
                       R"({"username":"nora","password":"nora-password","role":"viewer"})",
                       "application/json")
                ->status,
            409);
  EXPECT_EQ(admin
                ->Post("/api/v1/users", R"({"username":"x","password":"short","role":"viewer"})",
                       "application/json")
                ->status,
            400);
  EXPECT_EQ(admin
                ->Post("/api/v1/users",
                       R"({"username":"bad name","password":"long-enough","role":"viewer"})",
                       "application/json")
                ->status,
            400);
  EXPECT_EQ(
      admin
          ->Post("/api/v1/users", R"({"username":"y","password":"long-enough","role":"emperor"})",
                 "application/json")
          ->status,
      400);
  res = admin->Patch("/api/v1/users/nora", R"({"role":"supervisor"})", "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Json(res)["role"], "supervisor");
  EXPECT_EQ(admin->Patch("/api/v1/users/nora", R"({"role":5})", "application/json")->status, 400);
  EXPECT_EQ(admin->Delete("/api/v1/users/admin")->status, 409);  // not yourself
  EXPECT_EQ(admin->Delete("/api/v1/users/nora")->status, 204);
  EXPECT_EQ(As("nora", "nora-password")->Get("/api/v1/me")->status, 401);
  EXPECT_EQ(admin->Delete("/api/v1/users/nora")->status, 404);

  res = admin->Get("/api/v1/audit");
  std::vector<std::string> actions;
  const nlohmann::json audit = Json(res);  // not a temporary: the loop outlives it
  for (const auto& e : audit["entries"]) {
    if (e["target"] == "nora") actions.push_back(e["action"]);
  }
  // nora's own logins are audited too: once over Basic, and refused after the deletion.
  EXPECT_EQ(actions, (std::vector<std::string>{"user.create", "login.basic", "user.update",
                                               "user.delete", "login.failed"}));
  // after_id pages forward.
  int64_t next = Json(res)["next_after_id"];
  EXPECT_TRUE(
      Json(admin->Get("/api/v1/audit?after_id=" + std::to_string(next)))["entries"].empty());
}

}  // namespace
}  // namespace callvault::http

namespace callvault::http {
namespace {

TEST_F(CallsApiTest, LegalHoldBlocksDeletionAndIsAudited) {
  nlohmann::json m = Ingest({}, 2000);
  const std::string id = m["call_id"];
  const std::string audio = recordings_ + "/" + m["audio"]["file"].get<std::string>();
  auto sup = As("supervisor");
  EXPECT_EQ(As("viewer")
                ->Put("/api/v1/calls/" + id + "/hold", R"({"reason":"x"})", "application/json")
                ->status,
            403);
  EXPECT_EQ(sup->Put("/api/v1/calls/" + id + "/hold", "{}", "application/json")->status, 400);
  auto held =
      sup->Put("/api/v1/calls/" + id + "/hold", R"({"reason":"case 42"})", "application/json");
  ASSERT_EQ(held->status, 200) << held->body;
  EXPECT_EQ(Json(held)["reason"], "case 42");
  EXPECT_EQ(Json(held)["by"], "supervisor");
  EXPECT_EQ(Json(sup->Get("/api/v1/calls/" + id))["legal_hold"]["reason"], "case 42");
  auto refused = sup->Delete("/api/v1/calls/" + id);
  EXPECT_EQ(refused->status, 409);
  EXPECT_EQ(ErrorCode(refused), "legal_hold");
  EXPECT_TRUE(std::filesystem::exists(audio));
  ASSERT_EQ(sup->Delete("/api/v1/calls/" + id + "/hold")->status, 204);
  EXPECT_EQ(sup->Delete("/api/v1/calls/" + id + "/hold")->status, 404);
  EXPECT_TRUE(Json(sup->Get("/api/v1/calls/" + id))["legal_hold"].is_null());
  ASSERT_EQ(sup->Delete("/api/v1/calls/" + id)->status, 204);
  EXPECT_FALSE(std::filesystem::exists(audio));
  std::vector<std::string> actions;
  const nlohmann::json audit = Json(As("admin")->Get("/api/v1/audit?limit=1000"));
  for (const auto& e : audit["entries"])
    if (e["target"] == id) actions.push_back(e["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"call.hold", "call.release", "call.delete"}));
}

TEST_F(CallsApiTest, RetentionRunsThroughTheApi) {
  auto none = As("admin")->Post("/api/v1/retention/run", "{}", "application/json");
  EXPECT_EQ(none->status, 503);
  EXPECT_EQ(ErrorCode(none), "retention_unavailable");
  const std::string old_id = Ingest({}, 2000)["call_id"];  // 2026-11-25: old by now
  retention_ = std::make_unique<retention::Retention>(
      std::vector<retention::Policy>{*retention::MakePolicy("all", 1, "", {}, {})}, catalog_.get(),
      RealClock(), nullptr, nullptr);
  Start(HttpOptions{});
  EXPECT_EQ(As("supervisor")->Post("/api/v1/retention/run", "{}", "application/json")->status, 403);
  auto dry = As("admin")->Post("/api/v1/retention/run", R"({"dry_run":true})", "application/json");
  ASSERT_EQ(dry->status, 200) << dry->body;
  EXPECT_EQ(Json(dry)["calls"].size(), 1u);
  EXPECT_EQ(Json(dry)["calls"][0]["id"], old_id);
  EXPECT_EQ(Json(dry)["policies"][0]["deleted"], 0);
  EXPECT_EQ(As("admin")->Get("/api/v1/calls/" + old_id)->status, 200);
  auto run = As("admin")->Post("/api/v1/retention/run", "", "application/json");
  ASSERT_EQ(run->status, 200) << run->body;
  EXPECT_EQ(Json(run)["policies"][0]["deleted"], 1);
  EXPECT_EQ(As("admin")->Get("/api/v1/calls/" + old_id)->status, 404);
  EXPECT_EQ(As("admin")
                ->Post("/api/v1/retention/run", R"({"dry_run":"yes"})", "application/json")
                ->status,
            400);
}

}  // namespace
}  // namespace callvault::http
