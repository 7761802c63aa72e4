// Schema version 2 on SQLite and PostgreSQL: recording locations, deletion with its audit entry
// and purge in one transaction, legal holds, retention candidates, and the upgrade of a
// populated version-1 database.
#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "catalog/internal/schema.h"
#include "catalog/testing/catalog_fixture.h"
#include "catalog/testing/manifests.h"

namespace callvault::catalog {
namespace {

using testing::CatalogTest;
using testing::MakeManifest;
using testing::ManifestSpec;
using testing::TestCallId;

constexpr int64_t kStart = 1795593600000;  // 2026-11-25T08:00:00Z
constexpr int64_t kDay = 86400000;

class CatalogLifecycleTest : public CatalogTest {
 protected:
  // Ingests a call started `days_ago` days before kStart + 30 days.
  std::string Ingest(int n, int64_t started_ms, const std::string& tenant = "",
                     const std::string& state = "completed") {
    ManifestSpec spec;
    spec.call_id = TestCallId(started_ms, static_cast<uint64_t>(n));
    spec.started_ms = started_ms;
    spec.tenant = tenant;
    spec.state = state;
    if (state != "completed") spec.end_reason = state == "partial" ? "crash" : "rtp_timeout";
    EXPECT_TRUE(catalog_->IngestManifests({MakeManifest(spec)}).ok());
    return spec.call_id;
  }
  AuditEntry Audit(const std::string& actor = "alice") {
    return AuditEntry{.at_ms = kStart + 40 * kDay,
                      .actor = actor,
                      .action = "call.delete",
                      .detail = {{"policy", "test"}},
                      .remote = "127.0.0.1"};
  }
  std::vector<std::string> Candidates(const RetentionQuery& q) {
    Result<std::vector<CallSummary>> c = catalog_->FindRetentionCandidates(q, "", 100);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    std::vector<std::string> ids;
    if (c.ok())
      for (const CallSummary& s : *c) ids.push_back(s.call_id);
    return ids;
  }
};

TEST_P(CatalogLifecycleTest, RecordsWhereARecordingLivesAndShowsItWithTheCall) {
  const std::string id = Ingest(1, kStart);
  Result<CallDetail> before = catalog_->GetCall(id);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->location.has_value());  // local
  RecordingLocation loc{.call_id = id,
                        .audio_file = "2026/11/25/a.wav",
                        .location = "s3://bucket/rec/2026/11/25/a.wav",
                        .stored_bytes = 123456,
                        .stored_sha256 = std::string(64, 'a'),
                        .key_id = "k1",
                        .relocated_ms = kStart + 1000};
  ASSERT_TRUE(catalog_->RecordLocation(loc).ok());
  ASSERT_TRUE(catalog_->RecordLocation(loc).ok());  // idempotent
  Result<CallDetail> after = catalog_->GetCall(id);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->location.has_value());
  EXPECT_EQ(after->location->location, loc.location);
  EXPECT_EQ(after->location->stored_bytes, 123456u);
  EXPECT_EQ(after->location->key_id, "k1");
  EXPECT_EQ(after->location->relocated_ms, kStart + 1000);
  EXPECT_FALSE(after->location->purge_pending_ms.has_value());
  // Ingesting the manifest again (a redelivery) does not touch the location.
  ASSERT_TRUE(Ingest(1, kStart) == id);
  EXPECT_EQ(catalog_->GetCall(id)->location->location, loc.location);
  // A location may come before the call (the relocation queue ran first).
  const std::string early = TestCallId(kStart + 5000, 9);
  ASSERT_TRUE(catalog_->RecordLocation({.call_id = early, .location = "s3://b/k"}).ok());
  EXPECT_EQ((*catalog_->GetLocation(early))->location, "s3://b/k");
}

TEST_P(CatalogLifecycleTest, DeleteCallWritesTombstoneAuditAndPurgeTogether) {
  const std::string local = Ingest(1, kStart), moved = Ingest(2, kStart + 1);
  ASSERT_TRUE(catalog_
                  ->RecordLocation({.call_id = moved,
                                    .audio_file = "m.wav",
                                    .location = "s3://b/m.wav",
                                    .stored_bytes = 10})
                  .ok());
  ASSERT_TRUE(catalog_->DeleteCall(local, Audit()).ok());
  ASSERT_TRUE(catalog_->DeleteCall(moved, Audit("retention")).ok());
  EXPECT_EQ(catalog_->GetCall(local).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(*catalog_->IsDeleted(moved));
  // Deleting again: OK, and no second audit entry.
  ASSERT_TRUE(catalog_->DeleteCall(local, Audit()).ok());
  Result<std::vector<AuditEntry>> audit = catalog_->ListAudit(0, 100);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].target, local);
  EXPECT_EQ((*audit)[0].action, "call.delete");
  EXPECT_EQ((*audit)[0].detail["policy"], "test");
  EXPECT_FALSE((*audit)[0].detail["audio_file"].get<std::string>().empty());
  EXPECT_EQ((*audit)[1].actor, "retention");

  Result<std::vector<RecordingLocation>> pending = catalog_->PendingPurges(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  std::map<std::string, RecordingLocation> by_id;
  for (const RecordingLocation& l : *pending) by_id[l.call_id] = l;
  EXPECT_EQ(by_id[local].location, "");  // the local store
  EXPECT_FALSE(by_id[local].audio_file.empty());
  EXPECT_EQ(by_id[moved].location, "s3://b/m.wav");
  ASSERT_TRUE(catalog_->MarkPurged(local, kStart + 41 * kDay).ok());
  pending = catalog_->PendingPurges(10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].call_id, moved);
  EXPECT_EQ((*catalog_->GetLocation(local))->purged_ms, kStart + 41 * kDay);

  // A relocation that lands after the deletion (it raced it) makes the purge pending again.
  ASSERT_TRUE(
      catalog_
          ->RecordLocation({.call_id = local, .audio_file = "l.wav", .location = "s3://b/l.wav"})
          .ok());
  pending = catalog_->PendingPurges(10);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ(catalog_->DeleteCall(TestCallId(kStart, 77), Audit()).code(), StatusCode::kNotFound);
}

TEST_P(CatalogLifecycleTest, LegalHoldBlocksDeletionUntilReleased) {
  const std::string id = Ingest(1, kStart);
  ASSERT_TRUE(
      catalog_->SetLegalHold({.call_id = id, .held_by = "counsel", .reason = "case 42"}).ok());
  ASSERT_TRUE(
      catalog_->SetLegalHold({.call_id = id, .held_by = "counsel", .reason = "case 43"}).ok());
  Result<CallDetail> d = catalog_->GetCall(id);
  ASSERT_TRUE(d.ok() && d->legal_hold.has_value());
  EXPECT_EQ(d->legal_hold->reason, "case 43");
  Status s = catalog_->DeleteCall(id, Audit());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("legal hold"), std::string::npos);
  EXPECT_FALSE(*catalog_->IsDeleted(id));
  EXPECT_TRUE(catalog_->ListAudit(0, 10)->empty());  // rolled back with it
  EXPECT_TRUE(catalog_->PendingPurges(10)->empty());
  ASSERT_TRUE(catalog_->ReleaseLegalHold(id).ok());
  EXPECT_EQ(catalog_->ReleaseLegalHold(id).code(), StatusCode::kNotFound);
  ASSERT_TRUE(catalog_->DeleteCall(id, Audit()).ok());
  EXPECT_EQ(catalog_->SetLegalHold({.call_id = id, .held_by = "x"}).code(), StatusCode::kNotFound);
}

TEST_P(CatalogLifecycleTest, RetentionCandidatesFollowAgeTenantTagStateAndSkipHeldOnes) {
  const std::string old_a = Ingest(1, kStart, "acme");
  const std::string old_b = Ingest(2, kStart + 1000, "beta", "partial");
  const std::string old_held = Ingest(3, kStart + 2000, "acme");
  const std::string young = Ingest(4, kStart + 20 * kDay, "acme");
  const std::string old_tagged = Ingest(5, kStart + 3000, "acme", "timed_out");
  ASSERT_TRUE(catalog_->AddTags(old_tagged, {"keep-short"}).ok());
  ASSERT_TRUE(catalog_->SetLegalHold({.call_id = old_held, .held_by = "c"}).ok());
  const int64_t cutoff = kStart + 10 * kDay;
  EXPECT_EQ(Candidates({.started_before_ms = cutoff}),
            (std::vector<std::string>{old_a, old_b, old_tagged}));
  EXPECT_EQ(Candidates({.started_before_ms = cutoff, .tenant = "acme"}),
            (std::vector<std::string>{old_a, old_tagged}));
  EXPECT_EQ(Candidates({.started_before_ms = cutoff, .tags = {"keep-short"}}),
            std::vector<std::string>{old_tagged});
  EXPECT_EQ(Candidates({.started_before_ms = cutoff, .states = {CallState::kPartial}}),
            std::vector<std::string>{old_b});
  EXPECT_EQ(Candidates({.started_before_ms = kStart + 30 * kDay}).size(), 4u);
  // Paging by call id.
  Result<std::vector<CallSummary>> page =
      catalog_->FindRetentionCandidates({.started_before_ms = cutoff}, old_a, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].call_id, old_b);
  ASSERT_TRUE(catalog_->DeleteCall(old_a, Audit()).ok());
  EXPECT_EQ(Candidates({.started_before_ms = cutoff}),
            (std::vector<std::string>{old_b, old_tagged}));
  EXPECT_EQ(catalog_->FindRetentionCandidates({}, "", 0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(CatalogLifecycleTest, UpgradesAPopulatedVersion1Database) {
  // A fresh database at version 1, with a call, a tag, a user and an audit entry in it.
  const std::string url = FreshUrl();
  const std::string id = TestCallId(kStart, 1);
  CreateAtVersion(
      url, 1,
      {"INSERT INTO calls (call_id, node_id, tenant, state, started_ms, duration_ms, "
       "audio_file, audio_format, audio_bytes, audio_sha256, updated_ms) VALUES ('" +
           id + "', 'rec-a', 'acme', 'completed', " + std::to_string(kStart) +
           ", 1000, '2026/11/25/x.wav', 'wav', 44, 'ab', " + std::to_string(kStart) + ")",
       "INSERT INTO tags (call_id, tag, created_ms) VALUES ('" + id + "', 'vip', 1)",
       "INSERT INTO users (username, password_hash, role, created_ms) "
       "VALUES ('root', 'h', 'admin', 1)",
       "INSERT INTO audit_log (at_ms, actor, action, target) "
       "VALUES (1, 'cli', 'user.create', 'root')"});
  CatalogOptions options = options_;
  options.url = url;
  Result<std::unique_ptr<Catalog>> upgraded = OpenCatalog(options);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  Catalog& c = **upgraded;
  EXPECT_EQ(c.SchemaVersion(), internal::kSchemaVersion);
  Result<CallDetail> call = c.GetCall(id);
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  EXPECT_EQ(call->summary.tenant, "acme");
  EXPECT_EQ(call->summary.tags, std::vector<std::string>{"vip"});
  EXPECT_FALSE(call->location.has_value());
  EXPECT_TRUE(c.GetUser("root").ok());
  EXPECT_EQ(c.ListAudit(0, 10)->size(), 1u);
  // The new permissions reached the built-in roles.
  Result<std::vector<Role>> roles = c.ListRoles();
  ASSERT_TRUE(roles.ok());
  for (const Role& r : *roles) {
    if (r.name != "admin") continue;
    EXPECT_NE(std::find(r.permissions.begin(), r.permissions.end(), "calls:hold"),
              r.permissions.end());
  }
  // And the new tables work on it.
  ASSERT_TRUE(c.DeleteCall(id, Audit()).ok());
  Result<std::vector<RecordingLocation>> pending = c.PendingPurges(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].audio_file, "2026/11/25/x.wav");
}

// Version 6: copies of one call by SIP Call-ID, with how each was captured — also for rows
// catalogued before it (their stored manifests say so).
TEST_P(CatalogLifecycleTest, UpgradeToVersion6KnowsTheCopiesOfACall) {
  const std::string url = FreshUrl();
  CreateAtVersion(
      url, 5,
      {"INSERT INTO calls (call_id, node_id, state, sip_call_id, started_ms, updated_ms, "
       "manifest) VALUES "
       "('a1', 'rec-a', 'partial', 'x@10.0.0.1', 1000, 1, '{\"capture\":{\"mode\":\"active\"}}'), "
       "('b1', 'rec-b', 'completed', 'x@10.0.0.1', 1005, 1, "
       "'{\"capture\":{\"mode\":\"passive\",\"primary_node_id\":\"rec-a\"}}'), "
       "('c1', 'rec-a', 'completed', 'y@10.0.0.1', 2000, 1, '{}')"});
  CatalogOptions o;
  o.url = url;
  Result<std::unique_ptr<Catalog>> opened = OpenCatalog(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Catalog& c = **opened;
  Result<std::vector<RecordingCopy>> copies = c.FindCopies("x@10.0.0.1");
  ASSERT_TRUE(copies.ok()) << copies.status().ToString();
  ASSERT_EQ(copies->size(), 2u);
  EXPECT_EQ((*copies)[0].call_id, "a1");
  EXPECT_EQ((*copies)[0].capture_mode, "active");
  EXPECT_EQ((*copies)[0].state, CallState::kPartial);
  EXPECT_EQ((*copies)[1].call_id, "b1");
  EXPECT_EQ((*copies)[1].capture_mode, "passive");
  EXPECT_EQ((*copies)[1].primary_node_id, "rec-a");
  EXPECT_EQ((*copies)[1].started_ms, 1005);
  Result<std::vector<std::string>> open = c.FindUnreconciledCopies(0, 10);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(*open, std::vector<std::string>{"x@10.0.0.1"});
  EXPECT_TRUE(c.FindUnreconciledCopies(1006, 10)->empty());  // started before the window
  // A deleted copy is no copy.
  ASSERT_TRUE(c.MarkDeleted("a1", "alice", 5000).ok());
  EXPECT_EQ(c.FindCopies("x@10.0.0.1")->size(), 1u);
  EXPECT_TRUE(c.FindUnreconciledCopies(0, 10)->empty());
  EXPECT_EQ(c.FindCopies("").status().code(), StatusCode::kInvalidArgument);
}

CV_CATALOG_TEST_SUITE(CatalogLifecycleTest);

}  // namespace
}  // namespace callvault::catalog
