// The audit log's hash chains on SQLite and PostgreSQL: appends chain per origin (also from
// concurrent threads, a second process and a second node on one PostgreSQL), tenants and the
// call filter, verification naming the first entry changed, removed or reordered by hand in
// the database, anchors, replication (a peer verifies and stores the origin's chain as is;
// an entry from an older peer joins its local chain), the v4 → v5 upgrade of a populated
// database, and read-only opening.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <thread>

#include "base/log.h"
#include "catalog/audit_head_logger.h"
#include "catalog/audit_verify.h"
#include "catalog/catalog.h"
#include "catalog/internal/audit_chain.h"
#include "catalog/internal/schema.h"
#include "catalog/testing/cluster_fixture.h"
#include "catalog/testing/manifests.h"

namespace callvault::catalog {
namespace {

using testing::MakeManifest;
using testing::ManifestSpec;
using testing::TestCallId;

constexpr int64_t kStart = 1795593600000;  // 2026-11-25T08:00:00Z

class AuditChainTest : public testing::ClusterTest {
 protected:
  // Appends `n` entries as `actor` (tenant "acme" for even i, "" otherwise).
  std::vector<int64_t> Append(Catalog& c, int n, const std::string& actor = "alice") {
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i) {
      AuditEntry e{.at_ms = kStart + i,
                   .actor = actor,
                   .action = "call.play",
                   .target = "call-" + std::to_string(i),
                   .detail = {{"i", i}, {"text", "grüße"}},
                   .remote = "127.0.0.1",
                   .tenant = i % 2 == 0 ? "acme" : ""};
      Result<int64_t> id = c.AppendAudit(e);
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      ids.push_back(id.ok() ? *id : 0);
    }
    return ids;
  }
  AuditVerifyReport Verify(Catalog& c, std::vector<AuditAnchor> anchors = {}) {
    Result<AuditVerifyReport> r = VerifyAuditLog(c, {.anchors = std::move(anchors), .page = 7});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AuditVerifyReport{};
  }
  // Every problem of the report, one per line.
  static std::string Problems(const AuditVerifyReport& r) {
    std::string out;
    for (const std::string& p : r.problems) out += p + "\n";
    for (const AuditChainReport& c : r.chains) {
      if (!c.problem.empty()) out += c.origin + ": " + c.problem + "\n";
    }
    return out;
  }
  std::vector<AuditEntry> All(Catalog& c) {
    Result<std::vector<AuditEntry>> all = c.ListAudit(0, 1000);
    EXPECT_TRUE(all.ok());
    return all.ok() ? *all : std::vector<AuditEntry>{};
  }
};

TEST_P(AuditChainTest, AppendsChainPerOriginAndVerify) {
  Append(*catalog_, 20);
  const std::vector<AuditEntry> all = All(*catalog_);
  ASSERT_EQ(all.size(), 20u);
  std::string prev(internal::kGenesisHash);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].origin, "local");
    EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(all[i].prev_hash, prev);
    EXPECT_EQ(all[i].hash.size(), 64u);
    EXPECT_EQ(all[i].tenant, i % 2 == 0 ? "acme" : "");
    prev = all[i].hash;
  }
  Result<std::vector<AuditHead>> heads = catalog_->AuditHeads();
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 1u);
  EXPECT_EQ((*heads)[0].origin, "local");
  EXPECT_EQ((*heads)[0].seq, 20);
  EXPECT_EQ((*heads)[0].hash, prev);
  const AuditVerifyReport report = Verify(*catalog_, {{"local", 5, all[4].hash}});
  EXPECT_TRUE(report.ok()) << Problems(report);
  EXPECT_EQ(report.entries, 20);
  // A wrong anchor is named.
  const AuditVerifyReport wrong = Verify(*catalog_, {{"local", 5, all[5].hash}});
  EXPECT_FALSE(wrong.ok());
  EXPECT_NE(Problems(wrong).find("seq=5"), std::string::npos) << Problems(wrong);
}

TEST_P(AuditChainTest, TextIsCleanedBeforeItIsHashed) {
  // Invalid UTF-8 and NUL (a login name tried over HTTP Basic) are stored as U+FFFD, so that
  // the entry hashes the same on every node and PostgreSQL can hold it.
  AuditEntry e{.actor = std::string("bad\xff\x00name", 9),
               .action = "login.failed",
               .detail = {{"user", std::string("x\xfe")}}};
  ASSERT_TRUE(catalog_->AppendAudit(e).ok());
  const std::vector<AuditEntry> all = All(*catalog_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].actor, "bad\xEF\xBF\xBD\xEF\xBF\xBDname");
  EXPECT_TRUE(Verify(*catalog_).ok());
}

TEST_P(AuditChainTest, TenantAndCallFilters) {
  ASSERT_TRUE(
      catalog_->AppendAudit({.actor = "a", .action = "call.play", .target = "c1", .tenant = "acme"})
          .ok());
  ASSERT_TRUE(catalog_
                  ->AppendAudit(
                      {.actor = "b", .action = "call.download", .target = "c2", .tenant = "globex"})
                  .ok());
  ASSERT_TRUE(
      catalog_
          ->AppendAudit({.actor = "c1", .action = "user.create", .target = "c1", .tenant = "acme"})
          .ok());
  ASSERT_TRUE(catalog_->AppendAudit({.actor = "a", .action = "node.drain", .target = "n"}).ok());
  auto targets = [&](AuditFilter f) {
    std::vector<std::string> out;
    Result<std::vector<AuditEntry>> found = catalog_->FindAudit(f);
    EXPECT_TRUE(found.ok());
    if (found.ok()) {
      for (const AuditEntry& e : *found) out.push_back(e.action + ":" + e.target);
    }
    return out;
  };
  EXPECT_EQ(targets({.tenant = "acme"}),
            (std::vector<std::string>{"call.play:c1", "user.create:c1"}));
  EXPECT_EQ(targets({.tenant = ""}), (std::vector<std::string>{"node.drain:n"}));
  EXPECT_EQ(targets({.call = "c1"}), (std::vector<std::string>{"call.play:c1"}));
  EXPECT_EQ(targets({.call = "c1", .tenant = "globex"}), (std::vector<std::string>{}));
}

TEST_P(AuditChainTest, DeleteCallEntryCarriesTheCallsTenant) {
  ManifestSpec spec;
  spec.tenant = "acme";
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(spec)}).ok());
  const std::string id = TestCallId(spec.started_ms, 0);
  ASSERT_TRUE(catalog_->DeleteCall(id, {.actor = "sup", .action = "call.delete"}).ok());
  const std::vector<AuditEntry> all = All(*catalog_);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].tenant, "acme");
  EXPECT_EQ(all[0].seq, 1);
  EXPECT_TRUE(Verify(*catalog_).ok());
}

TEST_P(AuditChainTest, ConcurrentAppendsFromThreadsAndProcessesFormOneChain) {
  // A second catalog on the same database with the same node id: the CLI next to the server.
  Result<std::unique_ptr<Catalog>> cli = Reopen();
  ASSERT_TRUE(cli.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Catalog& c = t % 2 == 0 ? *catalog_ : **cli;
      for (int i = 0; i < 15; ++i) {
        // SQLite's writers wait for each other up to busy_timeout; a busy answer is retried.
        for (int attempt = 0; attempt < 20; ++attempt) {
          Result<int64_t> id = c.AppendAudit({.actor = "t" + std::to_string(t), .action = "x"});
          if (id.ok()) break;
          ASSERT_EQ(id.status().code(), StatusCode::kUnavailable) << id.status().ToString();
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const std::vector<AuditEntry> all = All(*catalog_);
  ASSERT_EQ(all.size(), 60u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
  const AuditVerifyReport report = Verify(*catalog_);
  EXPECT_TRUE(report.ok()) << Problems(report);
}

TEST_P(AuditChainTest, NodesSharingOneDatabaseKeepOneChainEach) {
  // Two nodes on one PostgreSQL (or SQLite file): each appends to its own chain.
  CatalogOptions a = options_, b = options_;
  a.node_id = "rec-a";
  b.node_id = "rec-b";
  Result<std::unique_ptr<Catalog>> ca = OpenCatalog(a), cb = OpenCatalog(b);
  ASSERT_TRUE(ca.ok() && cb.ok());
  std::thread ta([&] { Append(**ca, 20, "a"); });
  std::thread tb([&] { Append(**cb, 20, "b"); });
  ta.join();
  tb.join();
  const AuditVerifyReport report = Verify(**ca);
  EXPECT_TRUE(report.ok()) << Problems(report);
  ASSERT_EQ(report.chains.size(), 2u);
  EXPECT_EQ(report.chains[0].origin, "rec-a");
  EXPECT_EQ(report.chains[0].last_seq, 20);
  EXPECT_EQ(report.chains[1].origin, "rec-b");
  EXPECT_EQ(report.chains[1].last_seq, 20);
}

TEST_P(AuditChainTest, VerifyNamesAnEditedRow) {
  const std::vector<int64_t> ids = Append(*catalog_, 10);
  ExecuteSql(options_.url,
             {"UPDATE audit_log SET actor = 'mallory' WHERE id = " + std::to_string(ids[4])});
  const AuditVerifyReport report = Verify(*catalog_);
  EXPECT_FALSE(report.ok());
  EXPECT_NE(Problems(report).find("changed: id=" + std::to_string(ids[4]) + " "), std::string::npos)
      << Problems(report);
  EXPECT_NE(Problems(report).find("seq=5"), std::string::npos) << Problems(report);
}

TEST_P(AuditChainTest, VerifyNamesAnEditedRowWhoseHashWasRecomputed) {
  const std::vector<int64_t> ids = Append(*catalog_, 10);
  Result<std::vector<AuditChainRow>> rows =
      catalog_->ScanAuditChains("", INT64_MIN, INT64_MIN, 100);
  ASSERT_TRUE(rows.ok());
  AuditChainRow row = (*rows)[3];  // seq 4
  row.entry.target = "someone-else";
  const std::string hash = internal::ChainHash(row.entry.prev_hash, row.entry, row.detail_text);
  ExecuteSql(options_.url, {"UPDATE audit_log SET target = 'someone-else', hash = '" + hash +
                            "' WHERE id = " + std::to_string(ids[3])});
  const AuditVerifyReport report = Verify(*catalog_);
  EXPECT_FALSE(report.ok());
  EXPECT_NE(Problems(report).find("changed: id=" + std::to_string(ids[3]) + " "), std::string::npos)
      << Problems(report);
}

TEST_P(AuditChainTest, VerifyNamesARemovedMiddleRowAndARemovedLastRow) {
  const std::vector<int64_t> ids = Append(*catalog_, 10);
  ExecuteSql(options_.url, {"DELETE FROM audit_log WHERE id = " + std::to_string(ids[6])});
  AuditVerifyReport report = Verify(*catalog_);
  EXPECT_FALSE(report.ok());
  EXPECT_NE(Problems(report).find("removed: seq 7 of origin local is missing"), std::string::npos)
      << Problems(report);
  EXPECT_NE(Problems(report).find("id=" + std::to_string(ids[7])), std::string::npos);
}

TEST_P(AuditChainTest, VerifyNamesARemovedLastRowAndARowInNoChain) {
  const std::vector<int64_t> ids = Append(*catalog_, 3);
  ExecuteSql(options_.url, {"INSERT INTO audit_log (uid, at_ms, actor, action) "
                            "VALUES ('x', 1, 'mallory', 'x')",
                            "DELETE FROM audit_log WHERE id = " + std::to_string(ids[2])});
  const AuditVerifyReport report = Verify(*catalog_);
  const std::string problems = Problems(report);
  EXPECT_NE(problems.find("removed: seq 3 of origin local is missing (the newest entries"),
            std::string::npos)
      << problems;
  EXPECT_NE(problems.find("uid=x origin= seq=0 is in no chain"), std::string::npos) << problems;
}

TEST_P(AuditChainTest, VerifyNamesReorderedRows) {
  const std::vector<int64_t> ids = Append(*catalog_, 6);
  const std::string a = std::to_string(ids[2]), b = std::to_string(ids[3]);
  ExecuteSql(options_.url, {"UPDATE audit_log SET id = -1 WHERE id = " + a,
                            "UPDATE audit_log SET id = " + a + " WHERE id = " + b,
                            "UPDATE audit_log SET id = " + b + " WHERE id = -1"});
  const AuditVerifyReport report = Verify(*catalog_);
  EXPECT_FALSE(report.ok());
  EXPECT_NE(Problems(report).find("reordered: id=" + a + " "), std::string::npos)
      << Problems(report);
}

TEST_P(AuditChainTest, AnUntouchedLogAfterManyPagesVerifies) {
  Append(*catalog_, 50);
  const AuditVerifyReport report = Verify(*catalog_);  // pages of 7 rows
  EXPECT_TRUE(report.ok()) << Problems(report);
  EXPECT_EQ(report.entries, 50);
}

TEST_P(AuditChainTest, APeerStoresTheOriginsChainAsItIs) {
  std::unique_ptr<Catalog> a = OpenNode("node-a"), b = OpenNode("node-b");
  ASSERT_TRUE(a && b);
  Append(*a, 5, "alice");
  Append(*b, 3, "bob");
  ApplyResult r = Pull(*b, *a, "node-a");
  EXPECT_EQ(r.applied, 5);
  EXPECT_TRUE(r.problems.empty());
  Append(*a, 2, "alice");
  r = Pull(*b, *a, "node-a");
  EXPECT_EQ(r.applied, 2);
  // Both chains on B; B's copy of A's chain ends where A's does.
  const AuditVerifyReport report = Verify(*b);
  EXPECT_TRUE(report.ok()) << Problems(report);
  Result<std::vector<AuditHead>> ha = a->AuditHeads(), hb = b->AuditHeads();
  ASSERT_TRUE(ha.ok() && hb.ok());
  ASSERT_EQ(hb->size(), 2u);
  EXPECT_EQ((*hb)[0].origin, "node-a");
  EXPECT_EQ((*hb)[0].seq, 7);
  EXPECT_EQ((*hb)[0].hash, (*ha)[0].hash);
  // A relayed copy (C pulls B) is the same chain again.
  std::unique_ptr<Catalog> c = OpenNode("node-c");
  ASSERT_TRUE(c);
  r = Pull(*c, *b, "node-b");
  EXPECT_EQ(r.applied, 10);
  EXPECT_TRUE(Verify(*c).ok());
  EXPECT_EQ((*c->AuditHeads())[0].hash, (*ha)[0].hash);
}

TEST_P(AuditChainTest, APeerRefusesAnEntryWhoseHashDoesNotMatch) {
  std::unique_ptr<Catalog> a = OpenNode("node-a"), b = OpenNode("node-b");
  ASSERT_TRUE(a && b);
  Append(*a, 2);
  std::vector<Change> changes = Log(*a);
  ASSERT_EQ(changes.size(), 2u);
  nlohmann::json body = nlohmann::json::parse(changes[1].body);
  body["actor"] = "mallory";
  changes[1].body = body.dump();
  Result<ApplyResult> r = b->ApplyChanges(changes, kMaxSkew);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->applied, 1);
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_NE(r->problems[0].find("does not match its content"), std::string::npos) << r->problems[0];
  EXPECT_EQ(All(*b).size(), 1u);
}

TEST_P(AuditChainTest, AnEntryFromAnOlderPeerJoinsTheLocalChain) {
  std::unique_ptr<Catalog> b = OpenNode("node-b");
  ASSERT_TRUE(b);
  // A version-4 body: no tenant, no chain.
  Change c{.hlc = "1795593600000.000001",
           .origin = "node-old",
           .entity = "audit",
           .key = "0190a0a0-0000-7000-8000-000000000001",
           .op = "insert",
           .body = R"({"uid":"0190a0a0-0000-7000-8000-000000000001","at_ms":1,"actor":"x",)"
                   R"("action":"user.create","target":"y","detail":{},"remote":""})"};
  Result<ApplyResult> r = b->ApplyChanges({c}, std::chrono::hours(24 * 365 * 10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->applied, 1) << (r->problems.empty() ? "" : r->problems[0]);
  const std::vector<AuditEntry> all = All(*b);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].origin, "node-b/local");
  EXPECT_EQ(all[0].seq, 1);
  EXPECT_TRUE(Verify(*b).ok());
  // Applied again: stale.
  r = b->ApplyChanges({c}, std::chrono::hours(24 * 365 * 10));
  EXPECT_EQ(r->stale, 1);
}

TEST_P(AuditChainTest, UpgradeFromVersion4ChainsTheRowsThatExist) {
  const std::string url = FreshUrl();
  ManifestSpec spec;
  CreateAtVersion(url, 4,
                  {"INSERT INTO users (username, password_hash, role, tenant, created_ms) "
                   "VALUES ('ann', 'h', 'viewer', 'acme', 1)",
                   "INSERT INTO calls (call_id, node_id, tenant, state, started_ms, updated_ms) "
                   "VALUES ('call-1', 'rec-a', 'globex', 'completed', 1, 1)",
                   "INSERT INTO audit_log (uid, at_ms, actor, action, target, detail) VALUES "
                   "('u1', 1, 'cli', 'user.create', 'ann', '{\"role\":\"viewer\"}'), "
                   "('u2', 2, 'root', 'call.delete', 'call-1', '{}'), "
                   "('u3', 3, 'root', 'tenant.update', 'acme', '{}'), "
                   "('u4', 4, 'root', 'node.drain', 'rec-a', '{}')"});
  CatalogOptions o;
  o.url = url;
  o.node_id = "rec-a";
  Result<std::unique_ptr<Catalog>> opened = OpenCatalog(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Catalog& c = **opened;
  EXPECT_EQ(c.SchemaVersion(), internal::kSchemaVersion);
  std::vector<AuditEntry> all = All(c);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].tenant, "acme");    // the user's
  EXPECT_EQ(all[1].tenant, "globex");  // the call's
  EXPECT_EQ(all[2].tenant, "acme");    // the tenant's own
  EXPECT_EQ(all[3].tenant, "");        // system-wide
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].origin, "rec-a/local");
    EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
  }
  AuditVerifyReport report = Verify(c);
  EXPECT_TRUE(report.ok()) << Problems(report);
  // New entries start the node's own chain at 1.
  ASSERT_TRUE(c.AppendAudit({.actor = "x", .action = "y"}).ok());
  all = All(c);
  EXPECT_EQ(all.back().origin, "rec-a");
  EXPECT_EQ(all.back().seq, 1);
  report = Verify(c);
  EXPECT_TRUE(report.ok()) << Problems(report);
  // Editing a migrated row is found too.
  ExecuteSql(url, {"UPDATE audit_log SET detail = '{\"role\":\"admin\"}' WHERE uid = 'u1'"});
  report = Verify(c);
  EXPECT_NE(Problems(report).find("changed: id=" + std::to_string(all[0].id) + " uid=u1"),
            std::string::npos)
      << Problems(report);
}

TEST_P(AuditChainTest, ReadOnlyOpenVerifiesAndRefusesWrites) {
  Append(*catalog_, 3);
  CatalogOptions o = options_;
  o.read_only = true;
  Result<std::unique_ptr<Catalog>> ro = OpenCatalog(o);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_TRUE(Verify(**ro).ok());
  EXPECT_FALSE((*ro)->AppendAudit({.actor = "x", .action = "y"}).ok());
  EXPECT_EQ(All(*catalog_).size(), 3u);
  if (!IsPostgresql()) {
    o.url = "sqlite:" + temp_dir_ + "/missing.db";
    EXPECT_EQ(OpenCatalog(o).status().code(), StatusCode::kNotFound);
  }
}

TEST_P(AuditChainTest, TheHeadsAreLoggedAtStartAndThenEveryInterval) {
  Append(*catalog_, 3);
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  {
    AuditHeadLogger logger(catalog_.get(), std::chrono::milliseconds(100));
    logger.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  spdlog::set_default_logger(saved);
  const std::string head = (*catalog_->AuditHeads())[0].hash;
  const std::string line = "event=catalog.audit_head origin=local seq=3 hash=" + head;
  size_t lines = 0;
  for (size_t at = out.str().find(line); at != std::string::npos;
       at = out.str().find(line, at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 2u) << out.str();  // at start, then after 100 ms (and maybe 200 ms)
}

CV_CATALOG_TEST_SUITE(AuditChainTest);

TEST(AuditAnchorTest, Parses) {
  Result<AuditAnchor> a = ParseAuditAnchor("rec-1:42:" + std::string(64, 'a'));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->origin, "rec-1");
  EXPECT_EQ(a->seq, 42);
  EXPECT_EQ(ParseAuditAnchor("rec-1/local:3:" + std::string(64, 'b'))->origin, "rec-1/local");
  EXPECT_FALSE(ParseAuditAnchor("rec-1:0:" + std::string(64, 'a')).ok());
  EXPECT_FALSE(ParseAuditAnchor("rec-1:x:" + std::string(64, 'a')).ok());
  EXPECT_FALSE(ParseAuditAnchor("rec-1:1:abc").ok());
  EXPECT_FALSE(ParseAuditAnchor(":1:" + std::string(64, 'a')).ok());
}

TEST(AuditCanonicalTest, IsTheDocumentedSerialization) {
  // docs/formats/catalog-schema.md §Audit chains: the same bytes and hash as its example.
  AuditEntry e{.uid = "0190a0a0-0000-7000-8000-000000000001",
               .at_ms = 1795593600000,
               .actor = "alice",
               .action = "call.play",
               .target = "0190a0a0-0000-7000-8000-0000000000aa",
               .remote = "10.0.0.7",
               .tenant = "acme",
               .origin = "rec-1",
               .seq = 1};
  const std::string detail = R"({"range":"bytes=0-"})";
  EXPECT_EQ(internal::Canonical(e, detail),
            "callvault-audit-v1\n5:rec-1\n1:1\n36:0190a0a0-0000-7000-8000-000000000001\n"
            "13:1795593600000\n5:alice\n9:call.play\n36:0190a0a0-0000-7000-8000-0000000000aa\n"
            "4:acme\n20:{\"range\":\"bytes=0-\"}\n8:10.0.0.7\n");
  EXPECT_EQ(internal::ChainHash(internal::kGenesisHash, e, detail),
            "40ed1339c5776c04f2bbf4b0eef2f18bb990fd53bdf31c9f5c0b8f46439a51d2");
}

}  // namespace
}  // namespace callvault::catalog
