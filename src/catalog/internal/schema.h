// The catalog's versioned schema (docs/formats/catalog-schema.md): the migrations, applied in
// order by Migrate() in one transaction and recorded in `schema_migrations`.
// Migrations are append-only: never edit a released one, add the next version.
//
// Called by: OpenCatalog. Thread-safety: Migrate() uses the session it is given (one thread);
// concurrent processes are serialized by the database (SQLite write lock, PostgreSQL advisory
// lock).
#pragma once

#include "base/status.h"
#include "catalog/internal/change_log.h"
#include "catalog/internal/dialect.h"
#include "catalog/internal/soci.h"

namespace callvault::catalog::internal {

// The newest schema version this binary knows.
inline constexpr int kSchemaVersion = 6;

// Brings the database to kSchemaVersion and returns the version it has then.
// FailedPrecondition when it already has a newer version than kSchemaVersion. Throws SOCI
// errors (the caller maps them to Status).
// `target` (tests: build a database of an older version to upgrade) defaults to the newest.
// `stamper` stamps the changes version 3 seeds the change log with (the configuration that
// existed before it); nullptr = origin "local" on the real clock.
Result<int> Migrate(soci::session& sql, const Dialect& dialect, int target = kSchemaVersion,
                    ChangeStamper* stamper = nullptr);
// The database's schema version without changing anything (read-only catalogs).
// FailedPrecondition when it is newer than kSchemaVersion or when there is no callvault schema.
Result<int> ReadSchemaVersion(soci::session& sql, const Dialect& dialect);

}  // namespace callvault::catalog::internal
