// The parameterized fixture of catalog_test: every test runs once on SQLite (a file in a
// temporary directory) and once on PostgreSQL (a fresh database on the private server that a
// gtest Environment starts once per binary). When PostgreSQL is not installed the PostgreSQL
// half fails with the install hint; it is never skipped.
//
// Test-only. Thread-safety: gtest's (one test at a time).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/testing/pg_server.h"

namespace callvault::catalog::testing {

enum class TestBackend { kSqlite, kPostgresql };

// The server shared by the tests of this binary; null when it could not start (error in
// PgStartError()).
PgServer* SharedPgServer();
const Status& PgStartError();

class CatalogTest : public ::testing::TestWithParam<TestBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Opens another catalog on the same database (re-open, migrations, concurrency).
  Result<std::unique_ptr<Catalog>> Reopen() const;
  // The URL of another, empty database on the same backend (a SQLite file in temp_dir_, a new
  // PostgreSQL database): peers of a cluster, old schemas to upgrade.
  std::string FreshUrl();
  // Builds the database at `url` up to schema `version` only (internal::Migrate) and runs
  // `statements` on it: a populated old database for an upgrade test.
  void CreateAtVersion(const std::string& url, int version,
                       const std::vector<std::string>& statements) const;
  // Runs `statements` on the database at `url` over a connection of its own (bypassing the
  // catalog: tampering, old rows).
  void ExecuteSql(const std::string& url, const std::vector<std::string>& statements) const;
  bool IsPostgresql() const { return GetParam() == TestBackend::kPostgresql; }

  std::unique_ptr<Catalog> catalog_;
  CatalogOptions options_;
  std::string temp_dir_;  // SQLite only
};

std::string BackendName(const ::testing::TestParamInfo<TestBackend>& info);

}  // namespace callvault::catalog::testing

#define CV_CATALOG_TEST_SUITE(suite)                                              \
  INSTANTIATE_TEST_SUITE_P(                                                       \
      Backends, suite,                                                            \
      ::testing::Values(::callvault::catalog::testing::TestBackend::kSqlite,      \
                        ::callvault::catalog::testing::TestBackend::kPostgresql), \
      ::callvault::catalog::testing::BackendName)
