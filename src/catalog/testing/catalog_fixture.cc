#include "catalog/testing/catalog_fixture.h"

// clang-format off
#include "catalog/internal/soci.h"  // first: it configures SOCI
// clang-format on
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <stdlib.h>

#include <atomic>

#include "base/fs.h"
#include "catalog/internal/dialect.h"
#include "catalog/internal/schema.h"

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

namespace {
std::atomic<int> g_databases{0};
}  // namespace

std::string CatalogTest::FreshUrl() {
  const int n = ++g_databases;
  if (!IsPostgresql()) return "sqlite:" + temp_dir_ + "/catalog" + std::to_string(n) + ".db";
  PgServer* server = SharedPgServer();
  const std::string db = "cv_test_" + std::to_string(getpid()) + "_" + std::to_string(n);
  const Status created = server->CreateDatabase(db);
  EXPECT_TRUE(created.ok()) << created.ToString();
  return server->Uri(db);
}

void CatalogTest::SetUp() {
  if (IsPostgresql()) {
    PgServer* server = SharedPgServer();
    ASSERT_NE(server, nullptr) << "PostgreSQL test server did not start: "
                               << PgStartError().ToString();
    ASSERT_TRUE(server->Restart().ok());  // a previous test may have stopped it
  } else {
    char tmpl[] = "/tmp/cv-catalog-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    temp_dir_ = tmpl;
  }
  options_.url = FreshUrl();
  Result<std::unique_ptr<Catalog>> catalog = OpenCatalog(options_);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  catalog_ = std::move(catalog).value();
}

void CatalogTest::TearDown() {
  catalog_.reset();
  if (!temp_dir_.empty()) DefaultFs()->RemoveAll(temp_dir_).IgnoreError();
}

Result<std::unique_ptr<Catalog>> CatalogTest::Reopen() const { return OpenCatalog(options_); }

namespace {

void OpenRaw(soci::session& sql, const std::string& url, bool postgresql) {
  if (postgresql) {
    sql.open(soci::postgresql, url + "?connect_timeout=5");
  } else {
    sql.open(soci::sqlite3, "db=" + url.substr(7));  // after "sqlite:"
  }
}

}  // namespace

void CatalogTest::ExecuteSql(const std::string& url,
                             const std::vector<std::string>& statements) const {
  soci::session sql;
  OpenRaw(sql, url, IsPostgresql());
  for (const std::string& statement : statements) sql << statement;
}

void CatalogTest::CreateAtVersion(const std::string& url, int version,
                                  const std::vector<std::string>& statements) const {
  soci::session sql;
  OpenRaw(sql, url, IsPostgresql());
  const internal::Dialect& d =
      IsPostgresql() ? internal::PostgresqlDialect() : internal::SqliteDialect();
  Result<int> v = internal::Migrate(sql, d, version);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(*v, version);
  for (const std::string& statement : statements) sql << statement;
}

}  // namespace callvault::catalog::testing
