// Applying a peer's changes on SQLite and PostgreSQL, the hard cases: changes about calls this
// node has not received yet (deletions, tags, holds), conflicts (a token without its user, the
// deletion of a held call), malformed changes that must not poison a batch, stamps across
// restarts and processes, and the upgrade of a populated version-2 database.
#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/uuid.h"
#include "catalog/catalog.h"
#include "catalog/internal/schema.h"
#include "catalog/testing/cluster_fixture.h"
#include "catalog/testing/manifests.h"

namespace callvault::catalog {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing::MakeManifest;
using testing::ManifestSpec;
using testing::TestCallId;

constexpr int64_t kStart = 1795593600000;  // 2026-11-25T08:00:00Z

class ChangeApplyTest : public testing::ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    a_ = OpenNode("node-a");
    b_ = OpenNode("node-b");
    ASSERT_TRUE(a_ && b_);
  }
  static recording::Manifest Call(int n) {
    ManifestSpec spec;
    spec.call_id = TestCallId(kStart, static_cast<uint64_t>(n));
    return MakeManifest(spec);
  }
  // The changes of A's log about `entity`.
  std::vector<Change> LogOf(const std::string& entity) {
    std::vector<Change> out;
    for (const Change& c : Log(*a_)) {
      if (c.entity == entity) out.push_back(c);
    }
    return out;
  }

  std::unique_ptr<Catalog> a_, b_;
};

TEST_P(ChangeApplyTest, ADeletionArrivingBeforeTheCallKeepsItHiddenAndPurged) {
  const recording::Manifest call = Call(1);
  ASSERT_TRUE(a_->IngestManifests({call}).ok());
  ASSERT_TRUE(a_->DeleteCall(call.call_id, {.actor = "alice", .action = "call.delete"}).ok());
  ApplyResult r = Pull(*b_, *a_, "node-a");
  EXPECT_EQ(r.applied, 2);  // the deletion and its audit entry
  EXPECT_TRUE(*b_->IsDeleted(call.call_id));
  // The manifest arrives later (replication of the call): the tombstone wins.
  ASSERT_TRUE(b_->IngestManifests({call}).ok());
  EXPECT_EQ(b_->GetCall(call.call_id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(b_->ListCalls({}, {})->calls.empty());
  Result<std::vector<RecordingLocation>> purges = b_->PendingPurges(10);
  ASSERT_EQ(purges->size(), 1u);
  EXPECT_EQ(purges->front().audio_file, call.audio.file);
}

TEST_P(ChangeApplyTest, AHeldCallIsNotDeletedByAPeer) {
  const recording::Manifest call = Call(1);
  ASSERT_TRUE(a_->IngestManifests({call}).ok());
  ASSERT_TRUE(b_->IngestManifests({call}).ok());
  ASSERT_TRUE(b_->SetLegalHold({.call_id = call.call_id, .held_by = "bob", .reason = "x"}).ok());
  ASSERT_TRUE(a_->DeleteCall(call.call_id, {.actor = "alice", .action = "call.delete"}).ok());
  ApplyResult r = Pull(*b_, *a_, "node-a", seconds(60));
  EXPECT_EQ(r.conflicts, 1);
  EXPECT_EQ(r.applied, 1);  // the audit entry
  EXPECT_TRUE(b_->GetCall(call.call_id).ok());
  EXPECT_TRUE(b_->PendingPurges(10)->empty());
}

TEST_P(ChangeApplyTest, TagsAndHoldsArrivingBeforeTheCallApplyWhenItIsIngested) {
  const recording::Manifest call = Call(1), other = Call(2);
  ASSERT_TRUE(a_->IngestManifests({call, other}).ok());
  ASSERT_TRUE(a_->AddTags(call.call_id, {"vip", "gone", "b"}).ok());
  ASSERT_TRUE(a_->RemoveTag(call.call_id, "gone").ok());
  ASSERT_TRUE(a_->AddTags(other.call_id, {"other"}).ok());
  ASSERT_TRUE(a_->SetLegalHold({.call_id = call.call_id, .held_by = "alice"}).ok());
  ApplyResult r = Pull(*b_, *a_, "node-a");
  EXPECT_EQ(r.applied, static_cast<int>(Log(*a_).size()));
  EXPECT_TRUE(r.problems.empty());
  ASSERT_TRUE(b_->IngestManifests({call}).ok());
  Result<CallDetail> got = b_->GetCall(call.call_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->summary.tags, (std::vector<std::string>{"b", "vip"}));
  ASSERT_TRUE(got->legal_hold.has_value());
  EXPECT_EQ(b_->DeleteCall(call.call_id, {.actor = "bob", .action = "call.delete"}).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(b_->IngestManifests({other}).ok());
  EXPECT_EQ(b_->GetCall(other.call_id)->summary.tags, std::vector<std::string>{"other"});
}

TEST_P(ChangeApplyTest, ATokenWhoseUserIsMissingIsAConflict) {
  Result<int64_t> ghost =
      a_->CreateUser({.username = "ghost", .password_hash = "h", .role = "viewer"});
  ASSERT_TRUE(ghost.ok());
  ASSERT_TRUE(a_->CreateToken({.user_id = *ghost, .name = "t", .token_hash = "abc"}).ok());
  Result<ApplyResult> r = b_->ApplyChanges(LogOf("token"), seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->conflicts, 1);
  EXPECT_EQ(r->applied, 0);
  EXPECT_EQ(b_->FindToken("abc").status().code(), StatusCode::kNotFound);
  // In log order the user comes first, and both apply.
  EXPECT_EQ(Pull(*b_, *a_, "node-a").applied, 2);
  EXPECT_EQ(b_->FindToken("abc")->user_id, b_->GetUser("ghost")->id);
}

TEST_P(ChangeApplyTest, MalformedChangesAreProblemsAndDoNotPoisonTheBatch) {
  ASSERT_TRUE(a_->PutSetting("good", "1").ok());
  const Change good = Log(*a_).front();
  const std::string hlc = good.hlc;
  const std::vector<Change> batch = {
      {.seq = 1, .hlc = hlc, .origin = "x", .entity = "robot", .key = "k", .op = "upsert"},
      {.seq = 2, .hlc = hlc, .origin = "x", .entity = "user", .key = "k", .op = "insert"},
      {.seq = 3,
       .hlc = hlc,
       .origin = "x",
       .entity = "setting",
       .key = "k",
       .op = "upsert",
       .body = "not json"},
      {.seq = 4,
       .hlc = "yesterday",
       .origin = "x",
       .entity = "setting",
       .key = "k",
       .op = "upsert",
       .body = R"({"name":"k","value":"v"})"},
      {.seq = 5,
       .hlc = hlc,
       .origin = "x",
       .entity = "user",
       .key = "eve",
       .op = "upsert",
       .body = R"({"username":"eve","role":"viewer"})"},  // no password_hash
      {.seq = 6,
       .hlc = hlc,
       .origin = "x",
       .entity = "user",
       .key = "eve",
       .op = "upsert",
       .body = R"({"username":"eve","password_hash":"h","role":"pope","tenant":"",)"
               R"("disabled":false,"created_ms":1})"},  // a role this node does not have
      {.seq = 7,
       .hlc = hlc,
       .origin = "x",
       .entity = "token",
       .key = "t1",
       .op = "upsert",
       .body = R"({"api_id":"t1","username":"eve","name":"n","token_hash":"h",)"
               R"("created_ms":1,"expires_ms":"soon"})"},
      good,
  };
  Result<ApplyResult> r = b_->ApplyChanges(batch, seconds(60));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->problems.size(), 7u);
  EXPECT_EQ(r->applied, 1);
  EXPECT_EQ(*b_->GetSetting("good"), "1");
  EXPECT_EQ(b_->GetUser("eve").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Log(*b_).size(), 1u);
}

TEST_P(ChangeApplyTest, StampsStayAboveTheLogAcrossRestartsAndProcesses) {
  FakeClock ahead, behind;
  ahead.Advance(hours(1));
  CatalogOptions options = options_;  // the fixture's database
  options.node_id = "node-x";
  options.clock = &ahead;
  std::unique_ptr<Catalog> first = OpenCatalog(options).value();
  ASSERT_TRUE(first->PutSetting("s", "first").ok());
  // Another process on the same database (the CLI) whose clock is an hour behind writes the
  // same key: its stamp is still the newer one.
  options.clock = &behind;
  std::unique_ptr<Catalog> second = OpenCatalog(options).value();
  ASSERT_TRUE(first->PutSetting("t", "first").ok());
  ASSERT_TRUE(second->PutSetting("t", "second").ok());
  first.reset();
  second.reset();
  // A restart with the clock behind continues above the newest stamp.
  std::unique_ptr<Catalog> restarted = OpenCatalog(options).value();
  ASSERT_TRUE(restarted->PutSetting("u", "restarted").ok());
  const std::vector<Change> log = Log(*restarted);
  ASSERT_EQ(log.size(), 4u);
  for (size_t i = 1; i < log.size(); ++i) EXPECT_LT(log[i - 1].hlc, log[i].hlc) << i;
  // A peer applying the log ends with the last write of each key.
  EXPECT_EQ(Pull(*b_, *restarted, "node-x").applied, 4);
  EXPECT_EQ(*b_->GetSetting("t"), "second");
}

TEST_P(ChangeApplyTest, UpgradesAPopulatedVersion2Database) {
  const std::string url = FreshUrl();
  const std::string id = TestCallId(kStart, 1);
  CreateAtVersion(
      url, 2,
      {"INSERT INTO calls (call_id, node_id, state, started_ms, audio_file, updated_ms) "
       "VALUES ('" +
           id + "', 'rec-a', 'completed', 1, '2026/11/25/x.wav', 1)",
       "INSERT INTO tags (call_id, tag, created_ms) VALUES ('" + id + "', 'vip', 1)",
       "INSERT INTO legal_holds (call_id, held_by, reason, created_ms) "
       "VALUES ('" +
           id + "', 'root', 'case', 1)",
       "INSERT INTO users (username, password_hash, role, created_ms) "
       "VALUES ('root', 'h', 'admin', 1)",
       "INSERT INTO api_tokens (user_id, name, token_hash, created_ms) "
       "SELECT id, 'ci', 'abc', 1 FROM users WHERE username = 'root'",
       "INSERT INTO audit_log (at_ms, actor, action, target) VALUES (1, 'cli', 'x', 'root')",
       "INSERT INTO audit_log (at_ms, actor, action, target) VALUES (2, 'cli', 'y', 'root')"});
  CatalogOptions options = options_;
  options.url = url;
  options.node_id = "node-old";
  Result<std::unique_ptr<Catalog>> upgraded = OpenCatalog(options);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  Catalog& c = **upgraded;
  EXPECT_EQ(c.SchemaVersion(), internal::kSchemaVersion);
  // Stable keys were backfilled.
  Result<ApiToken> token = c.FindToken("abc");
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(IsUuid(token->api_id)) << token->api_id;
  Result<std::vector<AuditEntry>> audit = c.ListAudit(0, 10);
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_TRUE(IsUuid((*audit)[0].uid));
  EXPECT_NE((*audit)[0].uid, (*audit)[1].uid);
  // The configuration that existed entered the log as this node's changes.
  std::vector<std::string> seeded;
  for (const Change& ch : Log(c)) {
    EXPECT_EQ(ch.origin, "node-old");
    seeded.push_back(ch.entity + " " + ch.key);
  }
  EXPECT_EQ(seeded, (std::vector<std::string>{"user root", "token " + token->api_id,
                                              "legal_hold " + id, "tag " + id + "/vip"}));
  // A new node pulling from the start gets it; the call comes later and finds its tag.
  EXPECT_EQ(Pull(*b_, c, "node-old").applied, 4);
  EXPECT_EQ(b_->FindToken("abc")->api_id, token->api_id);
  ManifestSpec spec;
  spec.call_id = id;
  ASSERT_TRUE(b_->IngestManifests({MakeManifest(spec)}).ok());
  EXPECT_EQ(b_->GetCall(id)->summary.tags, std::vector<std::string>{"vip"});
  // And the upgraded node keeps writing.
  ASSERT_TRUE(c.CreateUser({.username = "new", .password_hash = "h", .role = "viewer"}).ok());
  EXPECT_EQ(Log(c).size(), 5u);
}

CV_CATALOG_TEST_SUITE(ChangeApplyTest);

}  // namespace
}  // namespace callvault::catalog
