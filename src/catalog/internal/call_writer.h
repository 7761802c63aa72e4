// Writes calls' rows (internal/call_row.h) with a few multi-row statements per batch instead of
// several statements per call: one upsert of `calls` (RETURNING the calls it wrote), one
// DELETE … WHERE call_id IN (…) per child table for the written calls, one INSERT per child
// table and one for the tenants — each cut into chunks below the dialect's parameter limit.
// On PostgreSQL every statement is a network round trip, so a batch of 100 manifests costs
// about ten round trips instead of about eleven hundred.
//
// Called by: SqlCatalog (IngestManifests, UpsertActive). Thread-safety: pure functions of
// their arguments; the session is the caller's.
#pragma once

#include <cstdint>
#include <vector>

#include "catalog/internal/call_row.h"
#include "catalog/internal/dialect.h"
#include "catalog/internal/soci.h"

namespace callvault::catalog::internal {

enum class WriteMode {
  // A manifest's row: written when there is no row, or the row is not deleted and is active
  // or holds an older manifest (version_ms).
  kManifest,
  // An active call's row: written when there is no row, or the row is active and not deleted.
  kActive,
};

// Writes `rows` inside the caller's write transaction: each call's row where `mode` allows it,
// and for each call written, its participants, streams and metadata snapshots in place of the
// old ones and its tenant (if any) into `tenants`. Several rows of the same call in `rows`
// end as if applied one after the other (kManifest: the newest, the first of equal versions;
// kActive: the last). `now_ms` is the rows' `updated_ms` and a new tenant's `created_ms`.
// Returns how many calls were written. Throws SOCI errors.
size_t WriteCalls(soci::session& sql, const Dialect& dialect, const std::vector<CallRow>& rows,
                  WriteMode mode, int64_t now_ms);

}  // namespace callvault::catalog::internal
