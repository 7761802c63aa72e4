// The catalog suite, run identically on SQLite and on a real PostgreSQL server
// (testing/catalog_fixture.h): migrations, ingest semantics, active calls, tombstones, tags.
#include <gtest/gtest.h>

// clang-format off
#include "catalog/internal/soci.h"  // first: it configures SOCI
// clang-format on
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

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

class CatalogCoreTest : public CatalogTest {
 protected:
  CallDetail MustGet(const std::string& id) {
    Result<CallDetail> d = catalog_->GetCall(id);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : CallDetail();
  }
  std::vector<CallSummary> All() {
    Result<CallPage> page = catalog_->ListCalls({}, {.limit = 1000});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->calls : std::vector<CallSummary>();
  }
  ActiveCall Active(const std::string& id) {
    ActiveCall a;
    a.call_id = id;
    a.node_id = "rec-a";
    a.started_ms = 1795593600000;
    a.from = "\"Alice\" <sip:alice@example.com>;tag=1";
    a.to = "<sip:bob@example.com>";
    return a;
  }
};

TEST_P(CatalogCoreTest, MigratesFromEmptyAndReopensIdempotently) {
  EXPECT_EQ(catalog_->SchemaVersion(), internal::kSchemaVersion);
  EXPECT_EQ(catalog_->Backend(), IsPostgresql() ? "postgresql" : "sqlite");
  EXPECT_TRUE(catalog_->Ping().ok());
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(ManifestSpec())}).ok());
  for (int i = 0; i < 2; ++i) {
    Result<std::unique_ptr<Catalog>> again = Reopen();
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ((*again)->SchemaVersion(), internal::kSchemaVersion);
    Result<CallPage> page = (*again)->ListCalls({}, {});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->calls.size(), 1u);
    Result<std::vector<Role>> roles = (*again)->ListRoles();
    ASSERT_TRUE(roles.ok());
    EXPECT_EQ(roles->size(), 3u);  // seeded once, not per open
  }
}

TEST_P(CatalogCoreTest, RefusesANewerSchema) {
  {
    soci::session sql;
    if (IsPostgresql()) {
      // SOCI 4.0.3 mangles a URI without any key=value parameter.
      sql.open(soci::postgresql, options_.url + "?connect_timeout=5");
    } else {
      sql.open(soci::sqlite3, "db=" + options_.url.substr(7));
    }
    sql << "INSERT INTO schema_migrations (version, description, applied_ms) "
           "VALUES (99, 'from the future', 0)";
  }
  Result<std::unique_ptr<Catalog>> again = Reopen();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("99"), std::string::npos);
}

TEST_P(CatalogCoreTest, IngestTwiceKeepsOneRowWithTheSameValues) {
  ManifestSpec spec;
  spec.tenant = "acme";
  const recording::Manifest m = MakeManifest(spec);
  ASSERT_TRUE(catalog_->IngestManifests({m}).ok());
  const CallDetail first = MustGet(m.call_id);
  ASSERT_TRUE(catalog_->IngestManifests({m, m}).ok());
  const CallDetail second = MustGet(m.call_id);
  EXPECT_EQ(All().size(), 1u);
  EXPECT_EQ(second.manifest, m.document);
  EXPECT_EQ(first.manifest, second.manifest);
  EXPECT_EQ(second.summary.state, CallState::kCompleted);
  EXPECT_EQ(second.summary.tenant, "acme");
  EXPECT_EQ(second.summary.started_ms, spec.started_ms);
  EXPECT_EQ(second.summary.answered_ms, spec.started_ms + 12);
  EXPECT_EQ(second.summary.duration_ms, spec.duration_ms);
  EXPECT_EQ(second.summary.caller_number, "alice");
  EXPECT_EQ(second.summary.callee_aor, "sip:bob@example.com");
  EXPECT_EQ(second.summary.audio_format, "wav");
  EXPECT_EQ(second.summary.audio_bytes, m.document["audio"]["bytes"].get<uint64_t>());
  EXPECT_EQ(second.audio_file, m.document["audio"]["file"]);
  EXPECT_EQ(second.audio_sha256, std::string(64, 'a'));
  EXPECT_EQ(second.sip_call_id, m.document["sip_call_id"]);
  EXPECT_EQ(second.participants, m.document["participants"]);
  EXPECT_EQ(second.streams, m.document["streams"]);
  EXPECT_EQ(second.metadata, m.document["metadata"]);
}

TEST_P(CatalogCoreTest, NewerManifestReplacesOlderNeverTheReverse) {
  ManifestSpec spec;
  spec.state = "partial";
  spec.finalized_ms = 1795601000000;
  const recording::Manifest older = MakeManifest(spec);
  spec.state = "completed";
  spec.finalized_ms = 1795601000001;
  const recording::Manifest newer = MakeManifest(spec);
  ASSERT_TRUE(catalog_->IngestManifests({newer}).ok());
  ASSERT_TRUE(catalog_->IngestManifests({older}).ok());
  EXPECT_EQ(MustGet(newer.call_id).summary.state, CallState::kCompleted);
  spec.state = "timed_out";
  spec.finalized_ms = 1795601000002;
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(spec)}).ok());
  EXPECT_EQ(MustGet(newer.call_id).summary.state, CallState::kTimedOut);
}

// What is not a version-1 manifest never gets here (recording::ParseManifest refuses it); a
// manifest the catalog cannot hold still fails its batch, named.
TEST_P(CatalogCoreTest, InvalidManifestFailsTheWholeBatchAndIsNamed) {
  ManifestSpec a;
  ManifestSpec b;
  b.started_ms += 1000;
  for (const std::string& call_id : {std::string(), std::string(129, 'c')}) {
    recording::Manifest bad = MakeManifest(b);
    bad.call_id = call_id;
    Status s = catalog_->IngestManifests({MakeManifest(a), bad});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("manifest 1"), std::string::npos) << s.ToString();
    EXPECT_TRUE(All().empty());
  }
  recording::Manifest active = MakeManifest(b);
  active.state = CallState::kActive;
  Status s = catalog_->IngestManifests({MakeManifest(a), active});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("manifest 1"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("not a final state"), std::string::npos) << s.ToString();
  EXPECT_TRUE(All().empty());
}

TEST_P(CatalogCoreTest, ActiveThenCompletedAndNoDowngrade) {
  const std::string id = TestCallId(1795593600000, 0);
  ActiveCall active = Active(id);
  active.participants = nlohmann::json::array(
      {{{"id", "p0"}, {"name", "Alice"}, {"aor", "sip:alice@example.com"}, {"channel", 0}}});
  ASSERT_TRUE(catalog_->UpsertActive({active}).ok());
  CallDetail d = MustGet(id);
  EXPECT_EQ(d.summary.state, CallState::kActive);
  EXPECT_EQ(d.summary.duration_ms, 0);
  EXPECT_TRUE(d.manifest.is_null());
  EXPECT_EQ(d.summary.caller_name, "Alice");
  EXPECT_EQ(d.summary.callee_number, "bob");  // from To: one participant only
  Result<std::vector<std::string>> ids = catalog_->ActiveCallIds("rec-a");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{id});

  // Refreshing an active call updates it.
  active.sip_call_id = "refreshed@x";
  ASSERT_TRUE(catalog_->UpsertActive({active}).ok());
  EXPECT_EQ(MustGet(id).sip_call_id, "refreshed@x");

  const recording::Manifest m = MakeManifest(ManifestSpec());
  ASSERT_EQ(m.call_id, id);
  ASSERT_TRUE(catalog_->IngestManifests({m}).ok());
  d = MustGet(id);
  EXPECT_EQ(d.summary.state, CallState::kCompleted);
  EXPECT_EQ(d.manifest, m.document);
  EXPECT_EQ(d.summary.callee_name, "Bob");

  // A late UpsertActive and RemoveActive leave the completed call alone.
  ASSERT_TRUE(catalog_->UpsertActive({active}).ok());
  ASSERT_TRUE(catalog_->RemoveActive(id).ok());
  d = MustGet(id);
  EXPECT_EQ(d.summary.state, CallState::kCompleted);
  EXPECT_EQ(d.manifest, m.document);
  ids = catalog_->ActiveCallIds("rec-a");
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty());
}

TEST_P(CatalogCoreTest, RemoveActiveDropsAnActiveRow) {
  ASSERT_TRUE(catalog_->UpsertActive({Active("a1"), Active("a2")}).ok());
  ASSERT_TRUE(catalog_->RemoveActive("a1").ok());
  EXPECT_EQ(catalog_->GetCall("a1").status().code(), StatusCode::kNotFound);
  Result<std::vector<std::string>> ids = catalog_->ActiveCallIds("rec-a");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{"a2"});
  EXPECT_TRUE(catalog_->ActiveCallIds("other")->empty());
}

TEST_P(CatalogCoreTest, TombstoneSurvivesReingest) {
  const recording::Manifest m = MakeManifest(ManifestSpec());
  const std::string id = m.call_id;
  ASSERT_TRUE(catalog_->IngestManifests({m}).ok());
  ASSERT_TRUE(catalog_->AddTags(id, {"keep"}).ok());
  ASSERT_TRUE(catalog_->MarkDeleted(id, "admin", 1795700000000).ok());
  EXPECT_EQ(catalog_->GetCall(id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(All().empty());
  // The same manifest again (a retry, a peer), and a newer one: still deleted.
  ASSERT_TRUE(catalog_->IngestManifests({m}).ok());
  ManifestSpec newer;
  newer.finalized_ms = 1795700000001;
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(newer)}).ok());
  ASSERT_TRUE(catalog_->UpsertActive({Active(id)}).ok());
  EXPECT_EQ(catalog_->GetCall(id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(All().empty());
  EXPECT_TRUE(catalog_->ListCalls({.tag = "keep"}, {})->calls.empty());
  // Deleting again is a no-op; an unknown call is NotFound.
  EXPECT_TRUE(catalog_->MarkDeleted(id, "admin", 1795700000002).ok());
  EXPECT_EQ(catalog_->MarkDeleted("nope", "admin", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->AddTags(id, {"x"}).code(), StatusCode::kNotFound);
}

TEST_P(CatalogCoreTest, Tags) {
  const recording::Manifest m = MakeManifest(ManifestSpec());
  const std::string id = m.call_id;
  ASSERT_TRUE(catalog_->IngestManifests({m}).ok());
  ASSERT_TRUE(catalog_->AddTags(id, {"vip", "case:42", "a.b-c_d"}).ok());
  ASSERT_TRUE(catalog_->AddTags(id, {"vip"}).ok());  // idempotent
  EXPECT_EQ(MustGet(id).summary.tags, (std::vector<std::string>{"a.b-c_d", "case:42", "vip"}));
  EXPECT_EQ(All()[0].tags.size(), 3u);
  ASSERT_TRUE(catalog_->RemoveTag(id, "case:42").ok());
  ASSERT_TRUE(catalog_->RemoveTag(id, "absent").ok());
  EXPECT_EQ(MustGet(id).summary.tags, (std::vector<std::string>{"a.b-c_d", "vip"}));
  for (const std::string& bad :
       std::vector<std::string>{"", "has space", "ü", std::string(65, 'x'), "a/b", "a,b"}) {
    EXPECT_EQ(catalog_->AddTags(id, {"ok", bad}).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(catalog_->AddTags(id, {std::string(64, 'x')}).ok());
  EXPECT_EQ(MustGet(id).summary.tags.size(), 3u);  // "ok" of the rejected calls not added
  EXPECT_EQ(catalog_->AddTags("nope", {"vip"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->RemoveTag("nope", "vip").code(), StatusCode::kNotFound);
  // Re-ingesting a newer manifest keeps the tags.
  ManifestSpec newer;
  newer.finalized_ms = 1795700000000;
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(newer)}).ok());
  EXPECT_EQ(MustGet(id).summary.tags.size(), 3u);
}

TEST_P(CatalogCoreTest, GetCallOfUnknownIsNotFound) {
  EXPECT_EQ(catalog_->GetCall("0193").status().code(), StatusCode::kNotFound);
}

CV_CATALOG_TEST_SUITE(CatalogCoreTest);

}  // namespace
}  // namespace callvault::catalog
