// The replicated change log on SQLite and PostgreSQL: changes made on one node, pulled
// (ChangesAfter) and applied (ApplyChanges) on another, converge by last writer wins — users,
// tokens, tags, audit entries, tenants, settings, legal holds, call deletions; conflicting
// edits, tombstones, idempotent re-application, clock skew, relays.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/clock.h"
#include "base/hlc.h"
#include "catalog/catalog.h"
#include "catalog/testing/cluster_fixture.h"
#include "catalog/testing/manifests.h"

namespace callvault::catalog {
namespace {

using std::chrono::seconds;
using testing::MakeManifest;
using testing::ManifestSpec;
using testing::TestCallId;

constexpr int64_t kStart = 1795593600000;  // 2026-11-25T08:00:00Z

class ChangeLogTest : public testing::ClusterTest {
 protected:
  static User MakeUser(const std::string& name, const std::string& hash) {
    return User{.username = name, .password_hash = hash, .role = "viewer", .created_ms = 1000};
  }
  // The same finished call ingested on each of `nodes` (calls replicate by their manifest).
  static std::string IngestCall(int n, const std::vector<Catalog*>& nodes) {
    ManifestSpec spec;
    spec.call_id = TestCallId(kStart, static_cast<uint64_t>(n));
    for (Catalog* node : nodes) EXPECT_TRUE(node->IngestManifests({MakeManifest(spec)}).ok());
    return spec.call_id;
  }
  static std::vector<std::string> AuditUids(Catalog& node) {
    std::vector<std::string> uids;
    Result<std::vector<AuditEntry>> entries = node.ListAudit(0, 1000);
    EXPECT_TRUE(entries.ok());
    if (entries.ok())
      for (const AuditEntry& e : *entries) uids.push_back(e.uid);
    std::sort(uids.begin(), uids.end());
    return uids;
  }
};

TEST_P(ChangeLogTest, ChangesMadeOnAAreAppliedOnB) {
  std::unique_ptr<Catalog> a = OpenNode("node-a"), b = OpenNode("node-b");
  ASSERT_TRUE(a && b);
  const std::string tagged = IngestCall(1, {a.get(), b.get()});
  const std::string held = IngestCall(2, {a.get(), b.get()});
  const std::string doomed = IngestCall(3, {a.get(), b.get()});

  Result<int64_t> alice = a->CreateUser(MakeUser("alice", "hash-1"));
  ASSERT_TRUE(alice.ok());
  ApiToken token{.user_id = *alice,
                 .name = "ci",
                 .token_hash = std::string(64, 'c'),
                 .created_ms = 2000,
                 .expires_ms = 9000};
  Result<std::string> api_id = a->CreateToken(token);
  ASSERT_TRUE(api_id.ok()) << api_id.status().ToString();
  ASSERT_TRUE(a->AddTags(tagged, {"vip", "escalated"}).ok());
  ASSERT_TRUE(a->RemoveTag(tagged, "escalated").ok());
  ASSERT_TRUE(a->AppendAudit({.actor = "alice", .action = "user.create", .target = "alice"}).ok());
  ASSERT_TRUE(a->UpsertTenant({.name = "acme", .display_name = "Acme Corp"}).ok());
  ASSERT_TRUE(a->UpsertTenant({.name = "gone", .display_name = "Gone Ltd", .disabled = true}).ok());
  ASSERT_TRUE(a->PutSetting("retention.default_days", "90").ok());
  ASSERT_TRUE(a->SetLegalHold({.call_id = held, .held_by = "alice", .reason = "case 7"}).ok());
  ASSERT_TRUE(a->DeleteCall(doomed, {.actor = "alice", .action = "call.delete"}).ok());

  const std::vector<Change> log = Log(*a);
  for (const Change& c : log) {
    EXPECT_EQ(c.origin, "node-a");
    EXPECT_TRUE(ParseHlc(c.hlc).ok()) << c.hlc;
  }
  ASSERT_TRUE(std::is_sorted(log.begin(), log.end(),
                             [](const Change& x, const Change& y) { return x.seq < y.seq; }));
  ApplyResult r = Pull(*b, *a, "node-a");
  EXPECT_EQ(r.applied, static_cast<int>(log.size()));
  EXPECT_EQ(r.stale + r.conflicts + r.refused_skew, 0);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();

  EXPECT_EQ(Users(*b), Users(*a));
  EXPECT_EQ(b->GetUser("alice")->password_hash, "hash-1");
  Result<ApiToken> found = b->FindToken(std::string(64, 'c'));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->api_id, *api_id);
  EXPECT_EQ(found->user_id, b->GetUser("alice")->id);
  EXPECT_EQ(found->expires_ms, 9000);
  EXPECT_EQ(b->GetCall(tagged)->summary.tags, std::vector<std::string>{"vip"});
  EXPECT_EQ(AuditUids(*b), AuditUids(*a));
  EXPECT_EQ(b->ListAudit(0, 100)->size(), 2u);  // user.create, call.delete
  ASSERT_EQ(b->ListTenants()->size(), 2u);
  EXPECT_EQ(b->ListTenants()->front().display_name, "Acme Corp");
  EXPECT_FALSE(b->ListTenants()->front().disabled);
  EXPECT_TRUE(b->ListTenants()->back().disabled);  // "gone": disabled on A, so on B
  EXPECT_EQ(*b->GetSetting("retention.default_days"), "90");
  ASSERT_TRUE(b->GetCall(held)->legal_hold.has_value());
  EXPECT_EQ(b->GetCall(held)->legal_hold->reason, "case 7");
  EXPECT_EQ(b->GetCall(doomed).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(*b->IsDeleted(doomed));
  Result<std::vector<RecordingLocation>> purges = b->PendingPurges(10);
  ASSERT_EQ(purges->size(), 1u);
  EXPECT_EQ(purges->front().call_id, doomed);

  // B's log relays A's changes with their original stamps and origin.
  const std::vector<Change> relayed = Log(*b);
  ASSERT_EQ(relayed.size(), log.size());
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(relayed[i].hlc, log[i].hlc);
    EXPECT_EQ(relayed[i].origin, "node-a");
    EXPECT_EQ(relayed[i].body, log[i].body);
  }
  // Deletions replicate too: the token, the hold, then the user with its tokens.
  ASSERT_TRUE(a->DeleteToken(*api_id).ok());
  ASSERT_TRUE(a->ReleaseLegalHold(held).ok());
  ASSERT_TRUE(a->DeleteTenant("acme").ok());
  ASSERT_TRUE(a->DeleteTenant("gone").ok());
  EXPECT_EQ(Pull(*b, *a, "node-a").applied, 4);
  EXPECT_EQ(b->FindToken(std::string(64, 'c')).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(b->GetCall(held)->legal_hold.has_value());
  EXPECT_TRUE(b->ListTenants()->empty());
}

TEST_P(ChangeLogTest, ReapplyingABatchChangesNothing) {
  std::unique_ptr<Catalog> a = OpenNode("node-a"), b = OpenNode("node-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateUser(MakeUser("alice", "h")).ok());
  ASSERT_TRUE(a->AppendAudit({.actor = "cli", .action = "user.create", .target = "alice"}).ok());
  ASSERT_TRUE(a->PutSetting("s", "1").ok());
  const std::vector<Change> batch = Log(*a);
  ASSERT_EQ(batch.size(), 3u);
  Result<ApplyResult> first = b->ApplyChanges(batch, kMaxSkew);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->applied, 3);
  const size_t logged = Log(*b).size();
  Result<ApplyResult> again = b->ApplyChanges(batch, kMaxSkew);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->applied, 0);
  EXPECT_EQ(again->stale, 3);
  EXPECT_EQ(Log(*b).size(), logged);
  EXPECT_EQ(b->ListAudit(0, 100)->size(), 1u);
  // A's own changes coming back from B are stale on A.
  EXPECT_EQ(Pull(*a, *b, "node-b").stale, 3);
}

TEST_P(ChangeLogTest, ConflictingEditsOnBothSidesConverge) {
  FakeClock clock_a, clock_b;
  std::unique_ptr<Catalog> a = OpenNode("node-a", &clock_a), b = OpenNode("node-b", &clock_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateUser(MakeUser("alice", "h0")).ok());
  ASSERT_TRUE(a->CreateUser(MakeUser("bob", "b0")).ok());
  Pull(*b, *a, "node-a");
  // During a partition: both edit alice (B later), only A edits bob, only B adds carol.
  User alice_a = *a->GetUser("alice");
  alice_a.role = "supervisor";
  ASSERT_TRUE(a->UpdateUser(alice_a).ok());
  clock_b.Advance(seconds(1));
  User alice_b = *b->GetUser("alice");
  alice_b.password_hash = "h-b";
  alice_b.disabled = true;
  ASSERT_TRUE(b->UpdateUser(alice_b).ok());
  User bob = *a->GetUser("bob");
  bob.tenant = "acme";
  ASSERT_TRUE(a->UpdateUser(bob).ok());
  ASSERT_TRUE(b->CreateUser(MakeUser("carol", "c0")).ok());

  Pull(*a, *b, "node-b");
  Pull(*b, *a, "node-a");
  EXPECT_EQ(Users(*a), Users(*b));
  EXPECT_EQ(a->GetUser("alice")->password_hash, "h-b");  // B's edit was later: it wins whole
  EXPECT_EQ(a->GetUser("alice")->role, "viewer");
  EXPECT_TRUE(a->GetUser("alice")->disabled);
  EXPECT_EQ(b->GetUser("bob")->tenant, "acme");
  EXPECT_TRUE(a->GetUser("carol").ok());
}

TEST_P(ChangeLogTest, EqualClocksAreDecidedByOrigin) {
  FakeClock clock_a, clock_b;  // both at the same wall time: same stamps
  std::unique_ptr<Catalog> a = OpenNode("node-a", &clock_a), b = OpenNode("node-b", &clock_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->PutSetting("s", "from-a").ok());
  ASSERT_TRUE(b->PutSetting("s", "from-b").ok());
  ASSERT_EQ(Log(*a).front().hlc, Log(*b).front().hlc);
  Pull(*a, *b, "node-b");
  Pull(*b, *a, "node-a");
  EXPECT_EQ(*a->GetSetting("s"), "from-b");  // "node-b" > "node-a"
  EXPECT_EQ(*b->GetSetting("s"), "from-b");
}

TEST_P(ChangeLogTest, ADeletedUserStaysDeletedWhenAnOlderUpdateArrives) {
  FakeClock clock_a, clock_b;
  clock_a.Advance(seconds(10));  // A's clock is ahead: its deletion is the later write
  std::unique_ptr<Catalog> a = OpenNode("node-a", &clock_a), b = OpenNode("node-b", &clock_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(b->CreateUser(MakeUser("alice", "h0")).ok());
  Pull(*a, *b, "node-b");
  User alice = *b->GetUser("alice");
  alice.password_hash = "h1";
  ASSERT_TRUE(b->UpdateUser(alice).ok());  // not yet seen by A
  ASSERT_TRUE(a->DeleteUser(a->GetUser("alice")->id).ok());

  ApplyResult on_a = Pull(*a, *b, "node-b");
  EXPECT_EQ(on_a.stale, 1);  // the older update
  EXPECT_EQ(on_a.applied, 0);
  EXPECT_EQ(a->GetUser("alice").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Pull(*b, *a, "node-a").applied, 1);  // the deletion
  EXPECT_EQ(b->GetUser("alice").status().code(), StatusCode::kNotFound);
  // A newer create after the deletion wins again.
  clock_b.Advance(seconds(60));
  ASSERT_TRUE(b->CreateUser(MakeUser("alice", "h2")).ok());
  Pull(*a, *b, "node-b");
  EXPECT_EQ(a->GetUser("alice")->password_hash, "h2");
}

TEST_P(ChangeLogTest, PasswordChangedOnBReplacesTheHashOnA) {
  std::unique_ptr<Catalog> a = OpenNode("node-a"), b = OpenNode("node-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateUser(MakeUser("alice", "old-hash")).ok());
  Pull(*b, *a, "node-a");
  User alice = *b->GetUser("alice");
  alice.password_hash = "new-hash";
  ASSERT_TRUE(b->UpdateUser(alice).ok());
  EXPECT_EQ(Pull(*a, *b, "node-b").applied, 1);
  EXPECT_EQ(a->GetUser("alice")->password_hash, "new-hash");
}

TEST_P(ChangeLogTest, AChangeStampedFarInTheFutureIsRefused) {
  FakeClock clock_a, clock_b;
  clock_a.Advance(seconds(300));  // A's clock runs 5 minutes ahead
  std::unique_ptr<Catalog> a = OpenNode("node-a", &clock_a), b = OpenNode("node-b", &clock_b);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->PutSetting("s", "1").ok());
  ApplyResult r = Pull(*b, *a, "node-a", seconds(60));
  EXPECT_EQ(r.refused_skew, 1);
  EXPECT_EQ(r.applied, 0);
  EXPECT_EQ(b->GetSetting("s").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Log(*b).empty());
  // B's own stamps were not dragged ahead by the refused one.
  ASSERT_TRUE(b->PutSetting("t", "1").ok());
  EXPECT_LT(Log(*b).front().hlc, Log(*a).front().hlc);
  // The cursor stayed below it; once within the allowed skew, it applies.
  EXPECT_EQ(*b->GetCursor("node-a"), Log(*a).front().seq - 1);
  clock_b.Advance(seconds(280));
  EXPECT_EQ(Pull(*b, *a, "node-a", seconds(60)).applied, 1);
  EXPECT_EQ(*b->GetSetting("s"), "1");
}

TEST_P(ChangeLogTest, ARelayChainConverges) {
  std::unique_ptr<Catalog> a = OpenNode("node-a"), b = OpenNode("node-b"), c = OpenNode("node-c");
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(a->CreateUser(MakeUser("alice", "h-a")).ok());
  ASSERT_TRUE(a->PutSetting("from", "a").ok());
  ASSERT_TRUE(b->CreateUser(MakeUser("bob", "h-b")).ok());
  // A → B → C: C pulls only from B.
  Pull(*b, *a, "node-a");
  Pull(*c, *b, "node-b");
  EXPECT_EQ(Users(*c), Users(*b));
  EXPECT_EQ(*c->GetSetting("from"), "a");
  // C's change goes back the same way; A pulls B.
  User alice = *c->GetUser("alice");
  alice.role = "admin";
  ASSERT_TRUE(c->UpdateUser(alice).ok());
  Pull(*b, *c, "node-c");
  Pull(*a, *b, "node-b");
  EXPECT_EQ(Users(*a), Users(*c));
  EXPECT_EQ(Users(*b), Users(*c));
  EXPECT_EQ(a->GetUser("alice")->role, "admin");
}

TEST_P(ChangeLogTest, CursorsStartAtZeroAndPersist) {
  EXPECT_EQ(*catalog_->GetCursor("node-x"), 0);
  ASSERT_TRUE(catalog_->SetCursor("node-x", 42).ok());
  ASSERT_TRUE(catalog_->SetCursor("node-x", 57).ok());
  EXPECT_EQ(*catalog_->GetCursor("node-x"), 57);
  EXPECT_EQ(*Reopen().value()->GetCursor("node-x"), 57);
  EXPECT_EQ(catalog_->SetCursor("", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->ChangesAfter(0, 0).status().code(), StatusCode::kInvalidArgument);
}

CV_CATALOG_TEST_SUITE(ChangeLogTest);

}  // namespace
}  // namespace callvault::catalog
