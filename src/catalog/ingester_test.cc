// The ingester against real catalogs: outbox entries become catalogued calls exactly once;
// bad entries are set aside; a database outage delays ingest without losing anything; active
// notices and reconciliation.
#include "catalog/ingester.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "catalog/deferred_catalog.h"
#include "catalog/testing/manifests.h"
#include "catalog/testing/pg_server.h"
#include "outbox/outbox.h"

namespace callvault::catalog {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

class IngesterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cv-ingester-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "recordings");
    fs::create_directories(dir_ / "spool");
    box_ = std::make_unique<outbox::Outbox>((dir_ / "outbox").string(), DefaultFs(), &registry_);
    ASSERT_TRUE(box_->OpenQueue("catalog").ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  IngesterOptions Options() {
    IngesterOptions o;
    o.recordings_dir = (dir_ / "recordings").string();
    o.spool_dir = (dir_ / "spool").string();
    o.node_id = "rec-a";
    o.batch = 50;
    o.poll = milliseconds(50);
    o.max_backoff = milliseconds(200);
    return o;
  }

  // What the finalizer leaves: the manifest beside (absent) audio, then the outbox entry.
  std::string Finish(int n, const std::string& state = "completed") {
    testing::ManifestSpec spec;
    spec.call_id = testing::TestCallId(1795593600000 + n, n);
    spec.state = state;
    spec.started_ms = 1795593600000 + int64_t{n} * 1000;
    return Finish(spec);
  }
  // `capture` (when not null) replaces the manifest's capture block.
  std::string Finish(const testing::ManifestSpec& spec, const nlohmann::json& capture = nullptr) {
    nlohmann::json m = testing::MakeManifestJson(spec);
    if (!capture.is_null()) m["capture"] = capture;
    const std::string rel = "2026/11/25/" + spec.call_id + ".wav.json";
    fs::create_directories(dir_ / "recordings/2026/11/25");
    EXPECT_TRUE(
        WriteFileDurably(*DefaultFs(), (dir_ / "recordings" / rel).string(), m.dump()).ok());
    WriteEntry(spec.call_id, rel);
    return spec.call_id;
  }
  void WriteEntry(const std::string& call_id, const std::string& rel) {
    EXPECT_TRUE(box_->Put("catalog", {.call_id = call_id,
                                      .manifest = rel,
                                      .state = "completed",
                                      .finalized = "2026-11-25T08:05:00Z"})
                    .ok());
  }
  // What an earlier build wrote (flat, no bucket), or an operator moving an entry back.
  void WriteFlatEntry(const std::string& call_id, const std::string& rel) {
    const nlohmann::json e = {
        {"format", "callvault-outbox"}, {"version", 1},
        {"call_id", call_id},           {"manifest", rel},
        {"state", "completed"},         {"finalized", "2026-11-25T08:05:00Z"}};
    EXPECT_TRUE(WriteFileDurably(*DefaultFs(),
                                 (dir_ / "outbox/catalog" / (call_id + ".json")).string(), e.dump())
                    .ok());
  }
  // Entry files waiting in the queue (any layout), not counting rejected/.
  size_t Entries() {
    size_t n = 0;
    const fs::path q = dir_ / "outbox/catalog";
    if (!fs::exists(q)) return 0;
    for (auto it = fs::recursive_directory_iterator(q); it != fs::recursive_directory_iterator();
         ++it) {
      if (it->is_directory() && it->path().filename() == "rejected") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && it->path().extension() == ".json") ++n;
    }
    return n;
  }
  size_t Rejected() {
    size_t n = 0;
    if (!fs::exists(dir_ / "outbox/catalog/rejected")) return 0;
    for (const auto& e : fs::directory_iterator(dir_ / "outbox/catalog/rejected"))
      if (e.path().extension() == ".json") ++n;
    return n;
  }
  static size_t Count(Catalog& c, std::vector<CallState> states = {}) {
    CallFilter f;
    f.states = std::move(states);
    PageRequest p;
    p.limit = 1000;
    size_t n = 0;
    for (;;) {
      Result<CallPage> page = c.ListCalls(f, p);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return n;
      n += page->calls.size();
      if (page->next_cursor.empty()) return n;
      p.cursor = page->next_cursor;
    }
  }

  fs::path dir_;
  Registry registry_;
  std::unique_ptr<outbox::Outbox> box_;
};

TEST_F(IngesterTest, OutboxEntriesBecomeCallsOnceAndLeaveTheOutbox) {
  DeferredCatalog catalog({.url = "sqlite:" + (dir_ / "catalog.db").string()}, RealClock());
  Ingester ingester(Options(), box_.get(), RealClock(), &catalog, &registry_);
  for (int i = 0; i < 120; ++i) Finish(i);
  ingester.Start();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_EQ(Count(catalog), 120u);
  EXPECT_EQ(Entries(), 0u);
  EXPECT_EQ(ingester.ingested(), 120u);
  // The same calls handed off again (a crash before DONE makes the finalizer repeat step 4).
  for (int i = 0; i < 120; i += 7) Finish(i);
  ingester.Notify();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_EQ(Count(catalog), 120u);
  EXPECT_EQ(Entries(), 0u);
  EXPECT_NE(registry_.Render().find("callvault_ingest_calls_total 138"), std::string::npos)
      << registry_.Render();
}

TEST_F(IngesterTest, BadEntriesAreSetAsideAndDoNotBlockTheOthers) {
  DeferredCatalog catalog({.url = "sqlite:" + (dir_ / "catalog.db").string()}, RealClock());
  Ingester ingester(Options(), box_.get(), RealClock(), &catalog, &registry_);
  Finish(1);
  WriteEntry(testing::TestCallId(1795593600000, 900), "missing/manifest.wav.json");
  WriteFlatEntry(testing::TestCallId(1795593600000, 901), "../../etc/passwd");
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), (dir_ / "outbox/catalog" / "garbage.json").string(),
                               "{not json")
                  .ok());
  // A manifest that is JSON but not a version-1 manifest: the catalog refuses it.
  const std::string bad_id = testing::TestCallId(1795593600000, 902);
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), (dir_ / "recordings/bad.wav.json").string(),
                               nlohmann::json{{"call_id", bad_id}, {"version", 99}}.dump())
                  .ok());
  WriteEntry(bad_id, "bad.wav.json");
  Finish(2);
  ingester.Start();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_EQ(Count(catalog), 2u);
  EXPECT_EQ(Entries(), 0u);
  EXPECT_EQ(ingester.rejected(), 4u);
  EXPECT_EQ(Rejected(), 4u);
  EXPECT_TRUE(fs::exists(dir_ / "outbox/catalog/rejected" /
                         (testing::TestCallId(1795593600000, 900) + ".reason")));
}

// A call deleted after it was catalogued, then handed off again (a finalizer re-run): its
// manifest is gone with it, and the entry is dropped, not set aside as broken.
TEST_F(IngesterTest, ADeletedCallsEntryIsDroppedNotRejected) {
  DeferredCatalog catalog({.url = "sqlite:" + (dir_ / "catalog.db").string()}, RealClock());
  Ingester ingester(Options(), box_.get(), RealClock(), &catalog, &registry_);
  const std::string id = Finish(1);
  ingester.Start();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  ASSERT_TRUE(catalog.MarkDeleted(id, "alice", 1795593700000).ok());
  fs::remove(dir_ / "recordings/2026/11/25" / (id + ".wav.json"));
  WriteEntry(id, "2026/11/25/" + id + ".wav.json");
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_EQ(Entries(), 0u);
  EXPECT_EQ(ingester.dropped(), 1u);
  EXPECT_EQ(ingester.rejected(), 0u);
  EXPECT_EQ(Rejected(), 0u);
  EXPECT_EQ(Count(catalog), 0u);
}

// A passive hot spare's copy and the primary's (catalog/copies.h): one of each pair stays, the
// other is deleted like a user's deletion (tombstone, audit entry, purge pending).
TEST_F(IngesterTest, APassiveSparesCopyAndThePrimarysBecomeOne) {
  DeferredCatalog catalog({.url = "sqlite:" + (dir_ / "catalog.db").string()}, RealClock());
  Ingester ingester(Options(), box_.get(), RealClock(), &catalog, &registry_);
  const nlohmann::json passive = {{"mode", "passive"}, {"primary_node_id", "rec-a"}};
  auto spec = [](int n, std::string node, std::string state, int64_t duration_ms,
                 std::string sip_call_id) {
    testing::ManifestSpec s;
    s.call_id = testing::TestCallId(1795593600000, n);
    s.node_id = std::move(node);
    s.state = std::move(state);
    s.end_reason = s.state == "partial" ? "crash" : "bye";
    s.duration_ms = duration_ms;
    s.started_ms = 1795593600000 + n;
    s.sip_call_id = std::move(sip_call_id);
    return s;
  };
  // The primary crashed 10 s into the call: the spare's whole copy stays.
  const std::string crashed = Finish(spec(1, "rec-a", "partial", 10000, "one@10.0.0.1"));
  const std::string spare_whole =
      Finish(spec(2, "rec-b", "completed", 30000, "one@10.0.0.1"), passive);
  ingester.Start();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  // The primary completed: its copy stays, also when the spare's arrives first.
  const std::string spare_copy =
      Finish(spec(3, "rec-b", "completed", 30020, "two@10.0.0.1"), passive);
  ingester.Notify();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  const std::string primary = Finish(spec(4, "rec-a", "completed", 30000, "two@10.0.0.1"));
  const std::string alone = Finish(spec(5, "rec-b", "completed", 30000, "three@10.0.0.1"), passive);
  ingester.Notify();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));

  for (const auto& [id, deleted] : {std::pair{crashed, true},
                                    {spare_whole, false},
                                    {spare_copy, true},
                                    {primary, false},
                                    {alone, false}}) {
    Result<bool> d = catalog.IsDeleted(id);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(*d, deleted) << id;
  }
  EXPECT_EQ(Count(catalog), 3u);
  EXPECT_EQ(ingester.copies_dropped(), 2u);
  EXPECT_NE(registry_.Render().find("callvault_catalog_copies_dropped_total 2"), std::string::npos);
  Result<std::vector<AuditEntry>> audit = catalog.ListAudit(0, 100);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].actor, "reconcile");
  EXPECT_EQ((*audit)[0].action, "call.delete");
  EXPECT_EQ((*audit)[0].target, crashed);
  EXPECT_EQ((*audit)[0].detail["kept"], spare_whole);
  EXPECT_EQ((*audit)[1].target, spare_copy);
  Result<std::vector<RecordingLocation>> purges = catalog.PendingPurges(10);
  ASSERT_TRUE(purges.ok());
  EXPECT_EQ(purges->size(), 2u);
}

// Copies catalogued without being reconciled (a failure, a restart, or ingest by another
// path): the sweep finds them; a call under legal hold is never deleted.
TEST_F(IngesterTest, TheSweepReconcilesWhatWasLeftAndSparesHeldCalls) {
  DeferredCatalog catalog({.url = "sqlite:" + (dir_ / "catalog.db").string()}, RealClock());
  ASSERT_TRUE(catalog.Ping().ok());
  const nlohmann::json passive = {{"mode", "passive"}, {"primary_node_id", "rec-a"}};
  std::vector<recording::Manifest> ms;
  for (int pair = 0; pair < 2; ++pair) {
    testing::ManifestSpec a, b;
    a.call_id = testing::TestCallId(1795593600000, 10 + pair);
    b.call_id = testing::TestCallId(1795593600000, 20 + pair);
    a.sip_call_id = b.sip_call_id = "sweep" + std::to_string(pair) + "@10.0.0.1";
    b.node_id = "rec-b";
    nlohmann::json bj = testing::MakeManifestJson(b);
    bj["capture"] = passive;
    ms.push_back(testing::MakeManifest(a));
    ms.push_back(testing::ToManifest(bj));
  }
  ASSERT_TRUE(catalog.IngestManifests(ms).ok());
  ASSERT_TRUE(catalog
                  .SetLegalHold({.call_id = ms[3].call_id,
                                 .held_by = "alice",
                                 .reason = "case 7",
                                 .created_ms = 1795593700000})
                  .ok());
  FakeClock clock(std::chrono::system_clock::time_point(milliseconds(1795593600000 + 3600000)));
  CopyReconciler reconciler({}, &catalog, &clock, nullptr);
  ASSERT_TRUE(reconciler.Sweep().ok());
  EXPECT_EQ(reconciler.dropped(), 1u);
  EXPECT_TRUE(*catalog.IsDeleted(ms[1].call_id));  // the spare's copy of pair 0
  EXPECT_FALSE(*catalog.IsDeleted(ms[0].call_id));
  EXPECT_FALSE(*catalog.IsDeleted(ms[3].call_id));  // held: both copies stay
  EXPECT_FALSE(*catalog.IsDeleted(ms[2].call_id));
  // Outside the sweep's window (a week), nothing is looked at.
  clock.Advance(std::chrono::hours(24 * 8));
  ASSERT_TRUE(catalog.ReleaseLegalHold(ms[3].call_id).ok());
  ASSERT_TRUE(reconciler.Sweep().ok());
  EXPECT_FALSE(*catalog.IsDeleted(ms[3].call_id));
}

TEST_F(IngesterTest, ActiveNoticesShowCallsAndReconcileDropsAbandonedOnes) {
  DeferredCatalog catalog({.url = "sqlite:" + (dir_ / "catalog.db").string()}, RealClock());
  Ingester ingester(Options(), box_.get(), RealClock(), &catalog, &registry_);
  ActiveCall live;
  live.call_id = testing::TestCallId(1795593600000, 1);
  live.node_id = "rec-a";
  live.started_ms = 1795593600000;
  live.from = "<sip:alice@example.com>;tag=1";
  live.to = "<sip:bob@example.com>";
  fs::create_directories(dir_ / "spool" / live.call_id);  // still recording
  ActiveCall gone = live;
  gone.call_id = testing::TestCallId(1795593600000, 2);  // no spool: its INVITE failed
  ingester.CallActive(live);
  ingester.CallActive(gone);
  ingester.Start();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  // The first round applied both notices, then reconciled (at start): `gone` has no spool.
  Result<std::vector<std::string>> active = catalog.ActiveCallIds("rec-a");
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  EXPECT_EQ(*active, std::vector<std::string>{live.call_id});
  EXPECT_EQ(Count(catalog, {CallState::kActive}), 1u);
  // The call ends: its manifest replaces the active row.
  testing::ManifestSpec spec;
  spec.call_id = live.call_id;
  spec.state = "completed";
  const std::string rel = live.call_id + ".wav.json";
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), (dir_ / "recordings" / rel).string(),
                               testing::MakeManifestJson(spec).dump())
                  .ok());
  WriteEntry(live.call_id, rel);
  fs::remove_all(dir_ / "spool" / live.call_id);
  ingester.Notify();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_EQ(Count(catalog, {CallState::kActive}), 0u);
  EXPECT_EQ(Count(catalog, {CallState::kCompleted}), 1u);
  // A late notice for it (a re-INVITE's participants) does not bring `active` back.
  ingester.CallActive(live);
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_EQ(Count(catalog, {CallState::kCompleted}), 1u);
  EXPECT_EQ(Count(catalog, {CallState::kActive}), 0u);
}

// A real PostgreSQL server stopped while calls finish: nothing is lost, nothing duplicated,
// everything arrives once it is back.
TEST_F(IngesterTest, APostgresOutageDelaysIngestAndLosesNothing) {
  Result<std::unique_ptr<testing::PgServer>> pg = testing::PgServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  ASSERT_TRUE((*pg)->CreateDatabase("ingest").ok());
  DeferredCatalog catalog({.url = (*pg)->Uri("ingest"), .pool_size = 2}, RealClock(),
                          milliseconds(100));
  Ingester ingester(Options(), box_.get(), RealClock(), &catalog, &registry_);
  ingester.Start();
  for (int i = 0; i < 20; ++i) Finish(i);
  ingester.Notify();
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_EQ(Count(catalog), 20u);

  ASSERT_TRUE((*pg)->Stop().ok());
  for (int i = 20; i < 70; ++i) Finish(i);
  ingester.Notify();
  std::this_thread::sleep_for(seconds(1));
  EXPECT_EQ(Entries(), 50u);  // waiting, not dropped
  EXPECT_FALSE(ingester.last_error().empty());
  EXPECT_EQ(ingester.backlog(), 50u);

  ASSERT_TRUE((*pg)->Restart().ok());
  const auto back = std::chrono::steady_clock::now();
  while (Entries() > 0 && std::chrono::steady_clock::now() - back < seconds(30))
    std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(Entries(), 0u);
  EXPECT_EQ(Count(catalog), 70u);
  // The other pooled sessions reconnect on their next use: a round may still fail once.
  ASSERT_TRUE(ingester.WaitIdle(seconds(30)));
  EXPECT_TRUE(ingester.last_error().empty());
  EXPECT_EQ(ingester.backlog(), 0u);
}

TEST_F(IngesterTest, ACatalogThatCannotBeOpenedIsRetriedNotFatal) {
  // Nothing listens on this port: the node starts anyway, entries wait.
  DeferredCatalog catalog({.url = "postgresql://callvault@127.0.0.1:1/none?connect_timeout=1"},
                          RealClock(), milliseconds(100));
  EXPECT_FALSE(catalog.OpenNow().ok());
  Ingester ingester(Options(), box_.get(), RealClock(), &catalog, &registry_);
  Finish(1);
  ingester.Start();
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(Entries(), 1u);
  EXPECT_EQ(catalog.Ping().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(ingester.WaitIdle(milliseconds(100)));
}

}  // namespace
}  // namespace callvault::catalog
