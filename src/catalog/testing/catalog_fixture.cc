#include "catalog/testing/catalog_fixture.h"

#include <stdlib.h>

#include <atomic>

#include "base/fs.h"

namespace callvault::catalog::testing {
namespace {

std::unique_ptr<PgServer> g_server;
Status g_start_error;

class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    Result<std::unique_ptr<PgServer>> server = PgServer::Start();
    if (server.ok()) {
      g_server = std::move(server).value();
    } else {
      g_start_error = server.status();
    }
  }
  void TearDown() override { g_server.reset(); }
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace

PgServer* SharedPgServer() { return g_server.get(); }
const Status& PgStartError() { return g_start_error; }

std::string BackendName(const ::testing::TestParamInfo<TestBackend>& info) {
  return info.param == TestBackend::kSqlite ? "Sqlite" : "Postgresql";
}

void CatalogTest::SetUp() {
  if (IsPostgresql()) {
    PgServer* server = SharedPgServer();
    ASSERT_NE(server, nullptr) << "PostgreSQL test server did not start: "
                               << PgStartError().ToString();
    static std::atomic<int> counter{0};
    const std::string db = "cv_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    ASSERT_TRUE(server->Restart().ok());  // a previous test may have stopped it
    const Status created = server->CreateDatabase(db);
    ASSERT_TRUE(created.ok()) << created.ToString();
    options_.url = server->Uri(db);
  } else {
    char tmpl[] = "/tmp/cv-catalog-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    temp_dir_ = tmpl;
    options_.url = "sqlite:" + temp_dir_ + "/catalog.db";
  }
  Result<std::unique_ptr<Catalog>> catalog = OpenCatalog(options_);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  catalog_ = std::move(catalog).value();
}

void CatalogTest::TearDown() {
  catalog_.reset();
  if (!temp_dir_.empty()) DefaultFs()->RemoveAll(temp_dir_).IgnoreError();
}

Result<std::unique_ptr<Catalog>> CatalogTest::Reopen() const { return OpenCatalog(options_); }

}  // namespace callvault::catalog::testing
