// Database outages and concurrency: Unavailable while the PostgreSQL server is down and
// recovery by itself when it returns (the pool reconnects), an unreachable server at open,
// bad URLs, and concurrent ingest of the same calls on both backends.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/testing/catalog_fixture.h"
#include "catalog/testing/manifests.h"

namespace callvault::catalog {
namespace {

using testing::CatalogTest;
using testing::MakeManifest;
using testing::ManifestSpec;
using testing::TestBackend;
using testing::TestCallId;

class CatalogOutageTest : public CatalogTest {};

TEST_P(CatalogOutageTest, UnavailableWhileServerIsDownThenRecoversByItself) {
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(ManifestSpec())}).ok());
  testing::PgServer* server = testing::SharedPgServer();
  ASSERT_TRUE(server->Stop().ok());

  EXPECT_EQ(catalog_->Ping().code(), StatusCode::kUnavailable);
  // More operations than sessions in the pool, so every session sees the outage.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(catalog_->ListCalls({}, {}).status().code(), StatusCode::kUnavailable);
  }
  ManifestSpec second;
  second.started_ms += 60000;
  EXPECT_EQ(catalog_->IngestManifests({MakeManifest(second)}).code(), StatusCode::kUnavailable);
  EXPECT_EQ(catalog_->CreateUser({.username = "u", .password_hash = "h", .role = "viewer"})
                .status()
                .code(),
            StatusCode::kUnavailable);

  ASSERT_TRUE(server->Restart().ok());
  // No reopen: the same catalog object heals its sessions on use.
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(catalog_->Ping().ok()) << i;
    Result<CallPage> page = catalog_->ListCalls({}, {});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->calls.size(), 1u);
  }
  EXPECT_TRUE(catalog_->IngestManifests({MakeManifest(second)}).ok());
  EXPECT_EQ(catalog_->ListCalls({}, {})->calls.size(), 2u);
  EXPECT_TRUE(catalog_->CreateUser({.username = "u", .password_hash = "h", .role = "viewer"}).ok());
}

TEST_P(CatalogOutageTest, ServerRestartWhileIdleIsInvisibleToReads) {
  ASSERT_TRUE(catalog_->IngestManifests({MakeManifest(ManifestSpec())}).ok());
  testing::PgServer* server = testing::SharedPgServer();
  ASSERT_TRUE(server->Stop().ok());
  ASSERT_TRUE(server->Restart().ok());
  // Every pooled connection is dead now; idempotent operations reconnect and retry once.
  // Concurrent callers lease different sessions, so every session heals.
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20 && results[t].ok(); ++i) {
        Result<CallPage> page = catalog_->ListCalls({}, {});
        results[t] = page.status();
        if (page.ok() && page->calls.size() != 1) results[t] = InternalError("wrong page");
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
}

INSTANTIATE_TEST_SUITE_P(Postgresql, CatalogOutageTest, ::testing::Values(TestBackend::kPostgresql),
                         testing::BackendName);

TEST(CatalogOpenTest, UnreachablePostgresqlIsUnavailableQuickly) {
  const auto start = std::chrono::steady_clock::now();
  // Port 1 on loopback: nothing listens there.
  Result<std::unique_ptr<Catalog>> c =
      OpenCatalog({.url = "postgresql://postgres@127.0.0.1:1/none", .busy_timeout_ms = 2000});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(CatalogOpenTest, BadUrls) {
  for (const char* url : {"", "mysql://db/x", "sqlite:", ":memory:", "sqlite:/tmp/a\"b.db"}) {
    Result<std::unique_ptr<Catalog>> c = OpenCatalog({.url = url});
    ASSERT_FALSE(c.ok()) << url;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << url;
  }
  Result<std::unique_ptr<Catalog>> c = OpenCatalog({.url = "/nonexistent-dir/x/catalog.db"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().code(), StatusCode::kOk);
  EXPECT_EQ(OpenCatalog({.url = "/tmp/x.db", .pool_size = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

class CatalogConcurrencyTest : public CatalogTest {};

TEST_P(CatalogConcurrencyTest, ConcurrentIngestOfTheSameCallsKeepsOneRowEach) {
  std::vector<recording::Manifest> batch;
  for (int i = 0; i < 40; ++i) {
    ManifestSpec s;
    s.started_ms += i * 1000;
    batch.push_back(MakeManifest(s));
  }
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5 && results[t].ok(); ++round) {
        results[t] = catalog_->IngestManifests(batch);
        if (results[t].code() == StatusCode::kUnavailable) results[t] = Status::Ok();  // busy
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(catalog_->IngestManifests(batch).ok());
  Result<CallPage> page = catalog_->ListCalls({}, {.limit = 1000});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->calls.size(), 40u);
}

CV_CATALOG_TEST_SUITE(CatalogConcurrencyTest);

}  // namespace
}  // namespace callvault::catalog
