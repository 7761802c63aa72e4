// Ingest in multi-row statements (internal/call_writer.h), on SQLite and PostgreSQL: several
// versions of a call in one batch, child rows replaced (not accumulated) on re-ingest, batches
// above the backends' bound-parameter limits, tenants.
#include <gtest/gtest.h>

// clang-format off
#include "catalog/internal/soci.h"  // first: it configures SOCI
// clang-format on
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "catalog/catalog.h"
#include "catalog/testing/catalog_fixture.h"
#include "catalog/testing/manifests.h"

namespace callvault::catalog {
namespace {

using testing::CatalogTest;
using testing::MakeManifest;
using testing::ManifestSpec;
using testing::TestCallId;

class CatalogIngestTest : public CatalogTest {
 protected:
  // SELECT COUNT(*) over a direct connection to the test database.
  int64_t Count(const std::string& from_where) {
    soci::session sql;
    if (IsPostgresql()) {
      sql.open(soci::postgresql, options_.url + "?connect_timeout=5");  // SOCI 4.0.3: see
    } else {                                                            // catalog_test.cc
      sql.open(soci::sqlite3, "db=" + options_.url.substr(7));
    }
    long long n = -1;
    sql << "SELECT COUNT(*) FROM " + from_where, soci::into(n);
    return n;
  }
  int64_t Children(const std::string& table, const std::string& id) {
    return Count(table + " WHERE call_id = '" + id + "'");
  }
  CallDetail MustGet(const std::string& id) {
    Result<CallDetail> d = catalog_->GetCall(id);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : CallDetail();
  }
};

TEST_P(CatalogIngestTest, SeveralVersionsInOneBatchEndAsIfAppliedInOrder) {
  ManifestSpec s;
  auto version = [&](int64_t finalized, const std::string& state, const std::string& reason) {
    s.finalized_ms = finalized;
    s.state = state;
    s.end_reason = reason;
    return MakeManifest(s);
  };
  const recording::Manifest v1 = version(1795601000001, "partial", "bye");
  const recording::Manifest v3 = version(1795601000003, "completed", "bye");
  const recording::Manifest v3_again = version(1795601000003, "completed", "other");
  const recording::Manifest v2 = version(1795601000002, "timed_out", "rtp_timeout");
  const std::string id = v1.call_id;
  ASSERT_TRUE(catalog_->IngestManifests({v1, v3, v3_again, v2, v1}).ok());
  EXPECT_EQ(MustGet(id).manifest, v3.document);  // the newest; the first of two equal versions
  EXPECT_EQ(Children("participants", id), 2);
  // A newer row already stored wins over every version of a later batch.
  const recording::Manifest v4 = version(1795601000004, "partial", "bye");
  ASSERT_TRUE(catalog_->IngestManifests({v4}).ok());
  ASSERT_TRUE(catalog_->IngestManifests({v2, v3, v1}).ok());
  EXPECT_EQ(MustGet(id).manifest, v4.document);

  // Active calls: the last of a batch wins.
  ActiveCall a{.call_id = TestCallId(1795593700000, 1), .node_id = "rec-a"};
  a.started_ms = 1795593700000;
  ActiveCall b = a;
  a.sip_call_id = "first@x";
  b.sip_call_id = "last@x";
  ASSERT_TRUE(catalog_->UpsertActive({a, b}).ok());
  EXPECT_EQ(MustGet(a.call_id).sip_call_id, "last@x");
}

TEST_P(CatalogIngestTest, ReingestReplacesChildRowsAndFiltersFollow) {
  ManifestSpec s;
  s.participants = {{"Alice", "sip:alice@example.com", 0},
                    {"Bob", "sip:bob@example.com", 1},
                    {"Carol", "sip:carol@example.com", std::nullopt}};
  s.metadata_raw = std::vector<std::string>{"<a>one</a>", "<a>two</a>"};
  const recording::Manifest m = MakeManifest(s);
  const std::string id = m.call_id;
  ASSERT_TRUE(catalog_->IngestManifests({m}).ok());
  EXPECT_EQ(Children("participants", id), 3);
  EXPECT_EQ(Children("metadata_snapshots", id), 2);
  EXPECT_EQ(catalog_->ListCalls({.participant = "carol"}, {})->calls.size(), 1u);

  s.participants = {{"Alice", "sip:alice@example.com", 0}};
  s.metadata_raw = std::vector<std::string>{"<a>three</a>"};
  s.finalized_ms = 1795700000000;
  const recording::Manifest newer = MakeManifest(s);
  ASSERT_TRUE(catalog_->IngestManifests({newer, m}).ok());
  EXPECT_EQ(MustGet(id).manifest, newer.document);
  EXPECT_EQ(Children("participants", id), 1);
  EXPECT_EQ(Children("metadata_snapshots", id), 1);
  EXPECT_EQ(Children("streams", id), static_cast<int64_t>(newer.streams.size()));
  EXPECT_TRUE(catalog_->ListCalls({.participant = "carol"}, {})->calls.empty());
  EXPECT_EQ(catalog_->ListCalls({.text = "three"}, {})->calls.size(), 1u);
  EXPECT_TRUE(catalog_->ListCalls({.text = "two"}, {})->calls.empty());
}

// 2,500 calls × 30 columns is above SQLite's 32,766 and PostgreSQL's 65,535 parameters per
// statement, and so are their streams (2 × 15 each): every table is written in chunks.
TEST_P(CatalogIngestTest, BatchAboveTheParameterLimitIsChunked) {
  constexpr int kCalls = 2500;
  std::vector<recording::Manifest> batch;
  for (int i = 0; i < kCalls; ++i) {
    ManifestSpec s;
    s.started_ms += i * 1000;
    s.tenant = "t" + std::to_string(i % 3);
    batch.push_back(MakeManifest(s));
  }
  const int64_t streams = static_cast<int64_t>(batch[0].streams.size());
  ASSERT_GE(streams, 1);
  ASSERT_TRUE(catalog_->IngestManifests(batch).ok());
  EXPECT_EQ(Count("calls"), kCalls);
  EXPECT_EQ(Count("participants"), 2 * kCalls);
  EXPECT_EQ(Count("streams"), streams * kCalls);
  EXPECT_EQ(Count("metadata_snapshots"), kCalls);
  EXPECT_EQ(Count("tenants"), 3);

  // Again, newer: every call is rewritten, its children replaced, nothing accumulates.
  for (recording::Manifest& m : batch) {
    nlohmann::json document = m.document;
    document["times"]["finalized"] = "2026-12-01T00:00:00.000Z";
    m = testing::ToManifest(document);
  }
  ASSERT_TRUE(catalog_->IngestManifests(batch).ok());
  EXPECT_EQ(Count("calls WHERE finalized = '2026-12-01T00:00:00.000Z'"), kCalls);
  EXPECT_EQ(Count("participants"), 2 * kCalls);
  EXPECT_EQ(Count("streams"), streams * kCalls);
  EXPECT_EQ(Count("metadata_snapshots"), kCalls);
  EXPECT_EQ(MustGet(batch[kCalls - 1].call_id).manifest, batch[kCalls - 1].document);
}

// SIP lets a quoted display name escape a NUL (RFC 3261 §25.1: `"a\<NUL>b"`), and a manifest
// is JSON, which holds one ("\u0000"); PostgreSQL's TEXT does not. Such a call must still be
// catalogued (an ingest that fails forever would leave it out of the catalog and hold up the
// queue behind it).
TEST_P(CatalogIngestTest, NulBytesFromSipAreCatalogued) {
  using namespace std::string_literals;
  ManifestSpec s;
  s.from = "\"Al\\\0ce\" <sip:alice@example.com>;tag=a1"s;
  s.to = "\"B\0b\" <sip:b\0b@example.com>"s;
  s.participants = {{"Al\0ice"s, "sip:alice@example.com", 0}, {"Bob", "sip:b\0b@example.com"s, 1}};
  s.sip_call_id = "nul\0id@10.0.0.1"s;
  const recording::Manifest m = MakeManifest(s);
  ASSERT_TRUE(catalog_->IngestManifests({m}).ok());
  Result<CallDetail> d = catalog_->GetCall(m.call_id);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  for (const std::string& text : {d->summary.caller_name, d->summary.callee_aor, d->sip_call_id}) {
    EXPECT_EQ(text.find('\0'), std::string::npos) << text;
  }
  EXPECT_EQ(d->summary.caller_aor, "sip:alice@example.com");
  CallFilter f;
  f.participant = "Al";
  Result<CallPage> page = catalog_->ListCalls(f, PageRequest{});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->calls.size(), 1u);
}

// An active call's From/To are the INVITE's raw header bytes: NUL and invalid UTF-8 too.
TEST_P(CatalogIngestTest, ActiveCallWithRawHeaderBytesIsShown) {
  using namespace std::string_literals;
  ActiveCall a;
  a.call_id = TestCallId(1795593600000, 9);
  a.node_id = "rec-a";
  a.started_ms = 1795593600000;
  a.sip_call_id = "raw\xff@10.0.0.1";
  a.from = "\"Jos\xe9\\\0\" <sip:jose@example.com>;tag=1"s;
  a.to = "<sip:b\xc3@example.com>";
  ASSERT_TRUE(catalog_->UpsertActive({a}).ok());
  Result<CallDetail> d = catalog_->GetCall(a.call_id);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->summary.state, CallState::kActive);
  EXPECT_EQ(d->summary.caller_aor, "sip:jose@example.com");
  EXPECT_EQ(d->sip_call_id, "raw\xEF\xBF\xBD@10.0.0.1");
}

CV_CATALOG_TEST_SUITE(CatalogIngestTest);

}  // namespace
}  // namespace callvault::catalog
